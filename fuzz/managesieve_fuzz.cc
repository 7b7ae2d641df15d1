// ManageSieve commands and SASL responses: any bytes give commands, errors or NeedMore,
// every call makes progress, no string passes its limit, and the steps are the same
// however the bytes are split. Quoting any bytes back gives them again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "managesieve/command_parser.h"

namespace {

using rampart::managesieve::BadCommand;
using rampart::managesieve::Command;
using rampart::managesieve::CommandParser;
using rampart::managesieve::Limits;
using rampart::managesieve::Mode;
using rampart::managesieve::Verb;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

constexpr Limits kLimits{.max_line = 64, .max_quoted = 16, .max_literal = 32};

// What the parser gives for `chunks`. After AUTHENTICATE without an initial response
// the next string is read as a SASL response, as the session does.
std::vector<std::string> steps(const std::vector<std::string_view>& chunks) {
  CommandParser parser(kLimits);
  std::vector<std::string> out;
  Mode mode = Mode::Command;
  for (std::string_view input : chunks) {
    while (!input.empty()) {
      const std::size_t before = input.size();
      auto step = parser.feed(input, mode);
      if (auto* command = std::get_if<Command>(&step)) {
        std::string line = std::to_string(static_cast<int>(command->verb));
        check(command->strings.size() <= CommandParser::kMaxArguments);
        for (const std::string& text : command->strings) {
          check(text.size() <= kLimits.max_literal);
          line += "|" + text;
        }
        out.push_back(line + "|" + std::to_string(command->number));
        mode = command->verb == Verb::Authenticate && command->strings.size() == 1 ? Mode::Response
                                                                                   : Mode::Command;
      } else if (auto* bad = std::get_if<BadCommand>(&step)) {
        out.push_back("bad " + bad->code + " " + bad->text);
        mode = Mode::Command;
        if (bad->fatal) return out;
      }
      check(input.size() < before);  // no progress would hang a session
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = bytes.empty() ? 0 : static_cast<unsigned char>(bytes[0]) % bytes.size();
  check(steps({bytes}) == steps({bytes.substr(0, cut), bytes.substr(cut)}));

  // The server's own encoding of any text reads back as that text.
  const std::string text(bytes.substr(0, std::min<std::size_t>(bytes.size(), kLimits.max_literal)));
  CommandParser parser(kLimits);
  const std::string sent = rampart::managesieve::encode_string(text) + "\r\n";
  std::string_view input = sent;
  auto step = parser.feed(input, Mode::Response);
  const bool quoted_too_long = sent.front() == '"' && text.size() > kLimits.max_quoted;
  if (!quoted_too_long) {
    check(std::holds_alternative<Command>(step) && std::get<Command>(step).strings[0] == text);
  }
  return 0;
}
