#include "mime/encode.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>

#include "base/base64.h"
#include "base/civil_date.h"
#include "base/utf8.h"

namespace rampart::mime {

std::string crlf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (text[i] == '\n') {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::uint64_t crlf_size(std::string_view text) {
  std::uint64_t size = text.size();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      } else {
        ++size;  // a lone CR becomes CRLF
      }
    } else if (text[i] == '\n') {
      ++size;  // a lone LF becomes CRLF
    }
  }
  if (!text.empty() && text.back() != '\r' && text.back() != '\n') size += 2;
  return size;
}

std::string encode_quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t column = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\r\n";
      ++i;
      column = 0;
      continue;
    }
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\r';
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end)) {
      piece = static_cast<char>(c);
    } else {
      piece = {'=', kHex[c >> 4], kHex[c & 15]};
    }
    if (column + piece.size() > 75) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  }
  return out;
}

std::string encode_base64_lines(std::string_view bytes) {
  const std::string encoded = base64_encode(bytes);
  std::string out;
  for (std::size_t at = 0; at < encoded.size(); at += 76) out += encoded.substr(at, 76) + "\r\n";
  return out;
}

std::string encode_words(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t take = 0;
    while (take < text.size()) {
      const std::size_t length = std::max<std::size_t>(1, utf8_sequence_length(text.substr(take)));
      if (take + length > 45) break;
      take += length;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(text.substr(0, take)) + "?=";
    text.remove_prefix(take);
  }
  return out;
}

std::string encode_unstructured(std::string_view value) {
  // No control character reaches a header, encoded or not: a line break in a value
  // (a decoded subject, a setting) must never start a field of its own.
  std::string text(value);
  for (char& c : text) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) c = ' ';
  }
  const bool ascii = std::all_of(text.begin(), text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii && text.size() < 900 && text.find("=?") == std::string::npos) return text;
  return encode_words(text);
}

bool is_7bit_text(std::string_view text) {
  std::size_t line = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0 || c >= 0x80) return false;
    if (c == '\n') {
      line = 0;
    } else if (++line > 998) {
      return false;
    }
  }
  return true;
}

std::string format_date(std::int64_t unix_seconds, int zone_minutes) {
  static constexpr std::array<const char*, 7> kDays = {"Thu", "Fri", "Sat", "Sun",
                                                       "Mon", "Tue", "Wed"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t local = unix_seconds + std::int64_t{zone_minutes} * 60;
  std::int64_t days = local / 86400, rest = local % 86400;
  if (rest < 0) rest += 86400, --days;
  const CivilDate date = civil_from_days(days);
  const int magnitude = zone_minutes < 0 ? -zone_minutes : zone_minutes;
  char out[64];
  std::snprintf(out, sizeof out, "%s, %u %s %04lld %02lld:%02lld:%02lld %c%02d%02d",
                kDays[static_cast<std::size_t>(((days % 7) + 7) % 7)], date.day,
                kMonths[date.month - 1], static_cast<long long>(date.year),
                static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                static_cast<long long>(rest % 60), zone_minutes < 0 ? '-' : '+',
                magnitude / 60 % 100, magnitude % 60);
  return out;
}

std::string new_token() {
  // Unique, not secret: it names a message or a boundary and guards nothing, so a
  // seeded generator per thread serves (no lock, nothing to fail).
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char id[40];
  std::snprintf(id, sizeof id, "%016llx%08llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random() & 0xffffffff));
  return id;
}

std::string new_message_id(std::string_view domain) {
  return "<" + new_token() + "@" + std::string(domain) + ">";
}

}  // namespace rampart::mime
