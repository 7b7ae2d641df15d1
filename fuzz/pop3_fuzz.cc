// POP3 command lines and SASL response lines: any bytes give commands, errors or
// NeedMore, every call makes progress, no line held passes its limit, and the steps are
// the same however the bytes are split. The same bytes as a stored message: RETR sends
// exactly what mime::crlf_size counts, TOP never more, and every line ends in CRLF.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mime/encode.h"
#include "pop3/command_parser.h"
#include "pop3/message_writer.h"

namespace {

using rampart::pop3::BadCommand;
using rampart::pop3::Command;
using rampart::pop3::CommandParser;
using rampart::pop3::Limits;
using rampart::pop3::NeedMore;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

constexpr Limits kLimits{.max_line = 64, .max_response = 128};

// What the parser gives for `chunks`: a command's verb and argument, or an error's text.
// After an AUTH command the next line is read as a SASL response, as the session does.
std::vector<std::string> steps(const std::vector<std::string_view>& chunks) {
  CommandParser parser(kLimits);
  std::vector<std::string> out;
  bool response_next = false;
  for (std::string_view input : chunks) {
    while (!input.empty()) {
      const std::size_t before = input.size();
      if (response_next) {
        auto step = parser.take_response(input);
        if (auto* line = std::get_if<std::string>(&step)) {
          check(line->size() < kLimits.max_response);
          out.push_back("response " + *line);
          response_next = false;
        } else if (auto* bad = std::get_if<BadCommand>(&step)) {
          out.push_back("bad " + bad->text);
          response_next = false;
        }
      } else {
        auto step = parser.feed(input);
        if (auto* command = std::get_if<Command>(&step)) {
          check(command->argument.size() < kLimits.max_line);
          out.push_back("command " + std::to_string(static_cast<int>(command->verb)) + " " +
                        command->argument);
          response_next = command->verb == rampart::pop3::Verb::Auth;
        } else if (auto* bad = std::get_if<BadCommand>(&step)) {
          out.push_back("bad " + bad->text);
        }
      }
      check(input.size() < before);  // no progress would hang a session
    }
  }
  return out;
}

// Everything a writer sends, in pieces of `step` bytes.
std::string written(std::string_view raw, std::optional<std::uint64_t> lines, std::size_t step) {
  rampart::pop3::MessageWriter writer(raw, lines);
  std::string out;
  for (std::size_t until = step; writer.write(out, until); until = out.size() + step) {
  }
  return out;
}

// The octets a client keeps: the terminator gone, stuffed dots removed; every line
// must end in CRLF and a stuffed line start with two dots.
std::size_t unstuffed_size(std::string_view response) {
  check(response.size() >= 3 && response.substr(response.size() - 3) == ".\r\n");
  response.remove_suffix(3);
  std::size_t size = 0;
  bool line_start = true;
  for (std::size_t i = 0; i < response.size(); ++i) {
    if (line_start && response[i] == '.') {
      check(i + 1 < response.size() && response[i + 1] == '.');
      ++i;
    }
    if (response[i] == '\n') check(i > 0 && response[i - 1] == '\r');
    if (response[i] == '\r') check(i + 1 < response.size() && response[i + 1] == '\n');
    ++size;
    line_start = response[i] == '\n';
  }
  return size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = bytes.empty() ? 0 : static_cast<unsigned char>(bytes[0]) % bytes.size();
  check(steps({bytes}) == steps({bytes.substr(0, cut), bytes.substr(cut)}));

  const std::size_t whole = unstuffed_size(written(bytes, std::nullopt, 1 + cut % 97));
  check(whole == rampart::mime::crlf_size(bytes));
  check(unstuffed_size(written(bytes, cut % 5, 64)) <= whole);
  return 0;
}
