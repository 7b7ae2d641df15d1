#include "pop3/command_parser.h"

#include <cstring>
#include <limits>
#include <vector>

#include "base/ascii.h"

namespace rampart::pop3 {
namespace {

// What follows each keyword.
enum class Takes {
  Nothing,
  Name,            // USER: one word
  Password,        // PASS: the rest of the line, as it is
  Mechanism,       // AUTH: [mechanism [initial-response]]
  OptionalNumber,  // LIST, UIDL
  Number,          // RETR, DELE
  NumberAndLines,  // TOP
};

struct Keyword {
  std::string_view name;
  Verb verb;
  Takes takes;
};

constexpr Keyword kKeywords[] = {
    {"USER", Verb::User, Takes::Name},         {"PASS", Verb::Pass, Takes::Password},
    {"AUTH", Verb::Auth, Takes::Mechanism},    {"STLS", Verb::Stls, Takes::Nothing},
    {"CAPA", Verb::Capa, Takes::Nothing},      {"QUIT", Verb::Quit, Takes::Nothing},
    {"STAT", Verb::Stat, Takes::Nothing},      {"LIST", Verb::List, Takes::OptionalNumber},
    {"RETR", Verb::Retr, Takes::Number},       {"DELE", Verb::Dele, Takes::Number},
    {"NOOP", Verb::Noop, Takes::Nothing},      {"RSET", Verb::Rset, Takes::Nothing},
    {"TOP", Verb::Top, Takes::NumberAndLines}, {"UIDL", Verb::Uidl, Takes::OptionalNumber},
};

// The words of `text`, split at runs of spaces.
std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const auto end = std::min(text.find(' '), text.size());
    out.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return out;
}

// A decimal number, saturated at `ceiling`; nullopt for anything but digits.
std::optional<std::uint64_t> number(std::string_view text, std::uint64_t ceiling) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (ceiling - digit) / 10 ? ceiling : value * 10 + digit;
  }
  return value;
}

std::optional<std::uint32_t> message_number(std::string_view text) {
  auto value = number(text, std::numeric_limits<std::uint32_t>::max());
  if (!value) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

Step arguments(const Keyword& keyword, std::string_view rest) {
  Command command{.verb = keyword.verb};
  const auto given = words(rest);
  const std::string name(keyword.name);
  switch (keyword.takes) {
    case Takes::Nothing:
      if (!given.empty()) return BadCommand{name + " takes no arguments"};
      return command;
    case Takes::Name:
      if (given.size() != 1) return BadCommand{"USER takes a user name"};
      command.argument = std::string(given[0]);
      return command;
    case Takes::Password:
      command.argument = std::string(rest);
      return command;
    case Takes::Mechanism:
      if (given.size() > 2) return BadCommand{"AUTH takes a mechanism and an initial response"};
      if (!given.empty()) command.argument = std::string(given[0]);
      if (given.size() == 2) command.initial_response = std::string(given[1]);
      return command;
    case Takes::OptionalNumber:
    case Takes::Number:
      if (given.size() > 1 || (given.empty() && keyword.takes == Takes::Number)) {
        return BadCommand{name + " takes a message number"};
      }
      if (!given.empty() && !(command.message = message_number(given[0]))) {
        return BadCommand{"Invalid message number"};
      }
      return command;
    case Takes::NumberAndLines: {
      if (given.size() != 2) return BadCommand{"TOP takes a message number and a line count"};
      command.message = message_number(given[0]);
      auto lines = number(given[1], std::numeric_limits<std::uint64_t>::max());
      if (!command.message || !lines) return BadCommand{"Invalid message number or line count"};
      command.lines = *lines;
      return command;
    }
  }
  return BadCommand{"Unknown command"};
}

}  // namespace

Step parse_command_line(std::string_view line) {
  if (line.find('\0') != std::string_view::npos) return BadCommand{"NUL byte in command"};
  const auto space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  // PASS keeps every byte after the one space that ends its keyword.
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  for (const Keyword& keyword : kKeywords) {
    if (!iequals(word, keyword.name)) continue;
    if (keyword.takes == Takes::Password && space == std::string_view::npos) {
      return BadCommand{"PASS takes a password"};
    }
    return arguments(keyword, rest);
  }
  return BadCommand{"Unknown command"};
}

CommandParser::Line CommandParser::gather(std::string_view& input, std::size_t limit) {
  if (taken_) {
    line_.clear();
    taken_ = false;
  }
  const void* found = std::memchr(input.data(), '\n', input.size());
  const std::size_t take =
      found ? static_cast<std::size_t>(static_cast<const char*>(found) - input.data()) + 1
            : input.size();
  if (!overlong_) {
    if (line_.size() + take > limit) {
      overlong_ = true;
      line_.clear();
    } else {
      line_.append(input.substr(0, take));
    }
  }
  input.remove_prefix(take);
  if (!found) return {Line::Status::NeedMore, {}};
  if (overlong_) {
    overlong_ = false;
    return {Line::Status::TooLong, {}};
  }
  std::string_view text = line_;
  text.remove_suffix(1);  // LF
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  taken_ = true;
  return {Line::Status::Complete, text};
}

Step CommandParser::feed(std::string_view& input) {
  const Line line = gather(input, limits_.max_line);
  switch (line.status) {
    case Line::Status::NeedMore:
      return NeedMore{};
    case Line::Status::TooLong:
      return BadCommand{"Line too long: a command is at most " + std::to_string(limits_.max_line) +
                        " octets"};
    case Line::Status::Complete:
      return parse_command_line(line.text);
  }
  return NeedMore{};
}

ResponseStep CommandParser::take_response(std::string_view& input) {
  const Line line = gather(input, limits_.max_response);
  switch (line.status) {
    case Line::Status::NeedMore:
      return NeedMore{};
    case Line::Status::TooLong:
      return BadCommand{"Response too long"};
    case Line::Status::Complete:
      return std::string(line.text);
  }
  return NeedMore{};
}

}  // namespace rampart::pop3
