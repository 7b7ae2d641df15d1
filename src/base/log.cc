#include "base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "base/utf8.h"

namespace rampart::log {
namespace {

std::atomic<Level> min_level{Level::Info};
std::mutex output_mutex;

const char* level_word(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info ";
    case Level::Warn:
      return "warn ";
    case Level::Error:
      return "error";
  }
  return "?";
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  while (!text.empty()) {
    const std::size_t length = utf8_sequence_length(text);
    const auto byte = static_cast<unsigned char>(text[0]);
    if (length == 0 || byte < 0x20 || byte == 0x7f || byte == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out.append(escaped);
      text.remove_prefix(1);
      continue;
    }
    out.append(text.substr(0, length));
    text.remove_prefix(length);
  }
}

void set_min_level(Level level) { min_level = level; }

void write(Level level, std::string_view message) {
  if (level < min_level.load()) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string line;
  line.reserve(message.size() + 48);
  line.append(stamp);
  char tail[16];
  std::snprintf(tail, sizeof tail, ".%03dZ ", static_cast<int>(millis));
  line.append(tail);
  line.append(level_word(level));
  line.push_back(' ');
  append_escaped(line, message);
  line.push_back('\n');
  std::lock_guard lock(output_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace rampart::log
