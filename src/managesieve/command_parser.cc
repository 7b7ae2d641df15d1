#include "managesieve/command_parser.h"

#include <algorithm>
#include <limits>

#include "base/ascii.h"

namespace rampart::managesieve {

namespace {

// What is kept of a dropped line: enough for "{" 19 digits "+}".
constexpr std::size_t kTailBytes = 24;
constexpr std::uint64_t kMaxLiteralLength = std::uint64_t{1} << 63;

struct VerbSpec {
  std::string_view name;
  Verb verb;
  // One letter per argument: s a string, n a number, S an optional string.
  std::string_view arguments;
};

constexpr VerbSpec kVerbs[] = {
    {"AUTHENTICATE", Verb::Authenticate, "sS"},
    {"STARTTLS", Verb::Starttls, ""},
    {"LOGOUT", Verb::Logout, ""},
    {"CAPABILITY", Verb::Capability, ""},
    {"HAVESPACE", Verb::Havespace, "sn"},
    {"PUTSCRIPT", Verb::Putscript, "ss"},
    {"LISTSCRIPTS", Verb::Listscripts, ""},
    {"SETACTIVE", Verb::Setactive, "s"},
    {"GETSCRIPT", Verb::Getscript, "s"},
    {"DELETESCRIPT", Verb::Deletescript, "s"},
    {"RENAMESCRIPT", Verb::Renamescript, "ss"},
    {"CHECKSCRIPT", Verb::Checkscript, "s"},
    {"NOOP", Verb::Noop, "S"},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 5804 section 4, ATOM-CHAR: no space, control, quote, parenthesis, brace or backslash.
bool is_atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && c != '"' && c != '(' && c != ')' && c != '{' && c != '}' &&
         c != '\\' && c != '%' && c != '*';
}

// Parses "{N}" or "{N+}" that is all of `marker`: nullopt when it is not one; the
// length, or kMaxLiteralLength when it is past what can be followed.
std::optional<std::uint64_t> literal_marker(std::string_view marker) {
  if (marker.size() < 3 || marker.front() != '{' || marker.back() != '}') return std::nullopt;
  marker = marker.substr(1, marker.size() - 2);
  if (marker.ends_with('+')) marker.remove_suffix(1);
  if (marker.empty() || !std::all_of(marker.begin(), marker.end(), is_digit)) return std::nullopt;
  std::uint64_t length = 0;
  for (char c : marker) {
    if (length > (kMaxLiteralLength - 9) / 10) return kMaxLiteralLength;
    length = length * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return length;
}

// The literal a line ends with, if it does ("... {N+}").
std::optional<std::uint64_t> trailing_literal(std::string_view line) {
  const auto open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  return literal_marker(line.substr(open));
}

}  // namespace

void CommandParser::reset() {
  line_.clear();
  discarding_line_ = false;
  tail_.clear();
  literal_left_ = 0;
  in_literal_ = false;
  literal_kept_ = true;
  first_line_ = true;
  tokens_.clear();
  error_.reset();
}

Step CommandParser::feed(std::string_view& input, Mode mode) {
  for (;;) {
    if (in_literal_) {
      const auto take = static_cast<std::size_t>(
          std::min<std::uint64_t>(literal_left_, static_cast<std::uint64_t>(input.size())));
      if (literal_kept_) tokens_.back().value.append(input.substr(0, take));
      input.remove_prefix(take);
      literal_left_ -= take;
      if (literal_left_ > 0) return NeedMore{};
      in_literal_ = false;
      continue;
    }
    const auto end = input.find('\n');
    std::optional<std::uint64_t> literal;
    if (discarding_line_ || line_.size() + std::min(end, input.size()) > limits_.max_line) {
      // Too long: dropped, but a literal it ends with is still skipped, to stay in step.
      tail_.append(line_);
      line_.clear();
      tail_.append(input.substr(0, std::min(end, input.size())));
      if (tail_.size() > kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
      if (end == std::string_view::npos) {
        discarding_line_ = true;
        input = {};
        return NeedMore{};
      }
      input.remove_prefix(end + 1);
      discarding_line_ = false;
      if (tail_.ends_with('\r')) tail_.pop_back();
      literal = trailing_literal(tail_);
      tail_.clear();
      if (!error_) error_ = BadCommand{"Line too long", {}, false};
    } else {
      if (end == std::string_view::npos) {
        line_.append(input);
        input = {};
        return NeedMore{};
      }
      line_.append(input.substr(0, end));
      input.remove_prefix(end + 1);
      if (line_.ends_with('\r')) line_.pop_back();
      literal = take_line(line_);
      line_.clear();
    }
    first_line_ = false;
    if (!literal) return finish(mode);
    if (*literal >= kMaxLiteralLength) {
      error_ = BadCommand{"Literal length out of range", {}, true};
      return finish(mode);
    }
    in_literal_ = true;
    literal_left_ = *literal;
    literal_kept_ = !error_ && *literal <= limits_.max_literal;
    if (literal_kept_) {
      tokens_.push_back({Token::Kind::String, {}});
      tokens_.back().value.reserve(static_cast<std::size_t>(*literal));
    } else if (!error_) {
      error_ = BadCommand{"Too large: at most " + std::to_string(limits_.max_literal) + " octets",
                          "QUOTA/MAXSIZE", false};
    }
  }
}

std::optional<std::uint64_t> CommandParser::take_line(std::string_view line) {
  if (error_) return trailing_literal(line);
  std::size_t at = 0;
  bool first = first_line_;
  // A line after a literal goes on with " argument" or ends the command.
  while (at < line.size()) {
    if (!first) {
      if (line[at] != ' ') {
        error_ = BadCommand{"Expected a space between arguments", {}, false};
        return trailing_literal(line);
      }
      ++at;
    }
    first = false;
    if (tokens_.size() > kMaxArguments) {
      error_ = BadCommand{"Too many arguments", {}, false};
      return trailing_literal(line);
    }
    if (at >= line.size()) {
      error_ = BadCommand{"Expected an argument after the space", {}, false};
      return std::nullopt;
    }
    const char c = line[at];
    if (c == '{') {
      auto literal = literal_marker(line.substr(at));
      if (!literal) {
        error_ = BadCommand{"A literal is {N+} at the end of a line", {}, false};
        return trailing_literal(line);
      }
      return literal;
    }
    if (c == '"') {
      std::string value;
      ++at;
      bool closed = false;
      while (at < line.size()) {
        char d = line[at++];
        if (d == '"') {
          closed = true;
          break;
        }
        if (d == '\\') {
          if (at >= line.size() || (line[at] != '"' && line[at] != '\\')) {
            error_ = BadCommand{"Only \\\" and \\\\ may be escaped in a quoted string", {}, false};
            return trailing_literal(line);
          }
          d = line[at++];
        } else if (d == '\0' || d == '\r') {
          error_ = BadCommand{"A quoted string may not hold NUL or CR", {}, false};
          return trailing_literal(line);
        }
        value += d;
        if (value.size() > limits_.max_quoted) {
          error_ = BadCommand{"A quoted string may have at most " +
                                  std::to_string(limits_.max_quoted) + " octets: send a literal",
                              {},
                              false};
          return trailing_literal(line);
        }
      }
      if (!closed) {
        error_ = BadCommand{"Unterminated quoted string", {}, false};
        return std::nullopt;
      }
      tokens_.push_back({Token::Kind::String, std::move(value)});
      continue;
    }
    const std::size_t start = at;
    while (at < line.size() && line[at] != ' ') {
      if (!is_atom_char(line[at])) {
        error_ = BadCommand{"Unexpected character", {}, false};
        return trailing_literal(line);
      }
      ++at;
    }
    if (at == start) {
      error_ = BadCommand{"Expected one space between arguments", {}, false};
      return trailing_literal(line);
    }
    tokens_.push_back({Token::Kind::Atom, std::string(line.substr(start, at - start))});
  }
  return std::nullopt;
}

Step CommandParser::finish(Mode mode) {
  std::vector<Token> tokens = std::move(tokens_);
  std::optional<BadCommand> error = std::move(error_);
  reset();
  if (error) return *error;
  if (mode == Mode::Response) {
    if (tokens.size() != 1 || tokens[0].kind != Token::Kind::String) {
      return BadCommand{"Expected one string as the response", {}, false};
    }
    return Command{.verb = Verb::Response, .strings = {std::move(tokens[0].value)}, .number = 0};
  }
  if (tokens.empty()) return BadCommand{"Empty command", {}, false};
  if (tokens[0].kind != Token::Kind::Atom) return BadCommand{"Expected a command name", {}, false};
  const std::string name = uppercase(tokens[0].value);
  const VerbSpec* spec = nullptr;
  for (const VerbSpec& candidate : kVerbs) {
    if (candidate.name == name) spec = &candidate;
  }
  if (!spec) return BadCommand{"Unknown command", {}, false};
  Command command{.verb = spec->verb, .strings = {}, .number = 0};
  std::size_t next = 1;
  for (char kind : spec->arguments) {
    if (next >= tokens.size()) {
      if (kind == 'S') break;
      return BadCommand{std::string(spec->name) + ": too few arguments", {}, false};
    }
    Token& token = tokens[next++];
    if (kind == 'n') {
      if (token.kind != Token::Kind::Atom ||
          !std::all_of(token.value.begin(), token.value.end(), is_digit)) {
        return BadCommand{std::string(spec->name) + ": expected a number", {}, false};
      }
      for (char c : token.value) {
        const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
        constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
        command.number = command.number > (kMax - digit) / 10 ? kMax : command.number * 10 + digit;
      }
      continue;
    }
    if (token.kind != Token::Kind::String) {
      return BadCommand{std::string(spec->name) + ": expected a string", {}, false};
    }
    command.strings.push_back(std::move(token.value));
  }
  if (next < tokens.size()) {
    return BadCommand{std::string(spec->name) + ": too many arguments", {}, false};
  }
  return command;
}

std::string encode_string(std::string_view text) {
  const bool quotable = text.size() <= 1024 &&
                        text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
  if (!quotable) {
    return "{" + std::to_string(text.size()) + "}\r\n" + std::string(text);
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string response(std::string_view kind, std::string_view code, std::string_view text) {
  std::string out(kind);
  if (!code.empty()) {
    out += " (";
    out += code;
    out += ')';
  }
  if (!text.empty()) {
    out += ' ';
    out += encode_string(text);
  }
  out += "\r\n";
  return out;
}

}  // namespace rampart::managesieve
