#include "smtp/command_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/ascii.h"
#include "base/utf8.h"

namespace rampart::smtp {
namespace {

constexpr std::size_t kMaxPathBytes = 256;  // RFC 5321 §4.5.3.1.3

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return upper(x) == upper(y); });
}

std::string uppercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), upper);
  return out;
}

BadCommand syntax(std::string text) { return BadCommand{501, "5.5.4", std::move(text)}; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool is_keyword_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// "FROM:<path> KEY=VALUE ..." after the verb.
Step parse_path_command(Verb verb, std::string_view rest, std::string_view keyword) {
  rest = trim(rest);
  if (rest.size() < keyword.size() || !iequals(rest.substr(0, keyword.size()), keyword)) {
    return syntax(verb == Verb::Mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
  }
  rest = trim(rest.substr(keyword.size()));  // some clients put a space after the colon
  const auto close = rest.find('>');
  if (rest.empty() || rest.front() != '<' || close == std::string_view::npos) {
    return syntax("The address must be in angle brackets: <user@example.org>");
  }
  Command command;
  command.verb = verb;
  std::string error;
  if (!parse_path(rest.substr(0, close + 1), command.path, error)) return syntax(error);
  if (verb == Verb::Rcpt && command.path.empty())
    return syntax("An empty recipient is not allowed");
  std::string_view parameters = rest.substr(close + 1);
  if (!parameters.empty() && parameters.front() != ' ')
    return syntax("Expected a space after the address");
  while (!(parameters = trim(parameters)).empty()) {
    const auto end = std::min(parameters.find(' '), parameters.size());
    const std::string_view word = parameters.substr(0, end);
    parameters.remove_prefix(end);
    const auto equals = word.find('=');
    const std::string_view key = word.substr(0, equals);
    if (key.empty() || !std::all_of(key.begin(), key.end(), is_keyword_char)) {
      return BadCommand{555, "5.5.4", "Invalid parameter"};
    }
    command.parameters.emplace_back(uppercase(key), equals == std::string_view::npos
                                                        ? std::string()
                                                        : std::string(word.substr(equals + 1)));
  }
  return command;
}

}  // namespace

bool parse_path(std::string_view text, std::string& address, std::string& error) {
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') {
    error = "The address must be in angle brackets";
    return false;
  }
  text = text.substr(1, text.size() - 2);
  if (text.size() > kMaxPathBytes) {
    error = "Address too long";
    return false;
  }
  // An obsolete source route "@a,@b:user@c" is accepted and ignored (§4.1.2, C.).
  if (!text.empty() && text.front() == '@') {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      error = "Bad source route";
      return false;
    }
    text.remove_prefix(colon + 1);
  }
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      error = "Control character in address";
      return false;
    }
    if (c == '"') quoted = !quoted;
    if (c == '\\' && quoted) ++i;
    if (!quoted && (c == ' ' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
                    c == ';' || c == '\\')) {
      error = "Invalid character in address";
      return false;
    }
  }
  if (quoted) {
    error = "Unterminated quoted local part";
    return false;
  }
  // 8-bit addresses are UTF-8 (RFC 6531) or nothing.
  if (!is_valid_utf8(text)) {
    error = "The address is not valid UTF-8";
    return false;
  }
  const auto at = text.rfind('@');
  if (!text.empty() && at == std::string_view::npos && !iequals(text, "postmaster")) {
    error = "The address needs a domain: user@example.org";
    return false;
  }
  if (at == 0 || (at != std::string_view::npos && at + 1 == text.size())) {
    error = "Incomplete address";
    return false;
  }
  address.assign(text);
  return true;
}

// RFC 5321 §4.1.4: EHLO names a domain or an address literal. Accepted: an address
// literal in brackets, or dot-separated labels of letters, digits, hyphens and
// underscores (common in Windows host names) or UTF-8 (RFC 6531). Never a control
// character: the name is copied into the Received header.
bool valid_helo_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || !is_valid_utf8(name)) return false;
  if (name.front() == '[') {
    if (name.size() < 3 || name.back() != ']') return false;
    const std::string_view inside = name.substr(1, name.size() - 2);
    return std::all_of(inside.begin(), inside.end(), [](char c) {
      return c > ' ' && c < 0x7f && c != '[' && c != ']' && c != '\\';
    });
  }
  std::size_t label = 0;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || byte >= 0x80) {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return true;
}

Step parse_command_line(std::string_view line) {
  if (line.find('\0') != std::string_view::npos)
    return BadCommand{500, "5.5.2", "NUL byte in command"};
  const auto space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  Command command;
  auto no_argument = [&](Verb verb) -> Step {
    if (!trim(rest).empty()) return syntax("This command takes no argument");
    command.verb = verb;
    return command;
  };
  auto with_domain = [&](Verb verb, const char* usage) -> Step {
    const std::string_view domain = trim(rest);
    if (!valid_helo_name(domain)) return syntax(usage);
    command.verb = verb;
    command.domain = std::string(domain);
    return command;
  };
  auto with_text = [&](Verb verb) -> Step {
    command.verb = verb;
    command.argument = std::string(trim(rest));
    return command;
  };

  if (iequals(word, "EHLO")) return with_domain(Verb::Ehlo, "Syntax: EHLO hostname");
  if (iequals(word, "HELO")) return with_domain(Verb::Helo, "Syntax: HELO hostname");
  if (iequals(word, "LHLO")) return with_domain(Verb::Lhlo, "Syntax: LHLO hostname");
  if (iequals(word, "MAIL")) return parse_path_command(Verb::Mail, rest, "FROM:");
  if (iequals(word, "RCPT")) return parse_path_command(Verb::Rcpt, rest, "TO:");
  if (iequals(word, "DATA")) return no_argument(Verb::Data);
  if (iequals(word, "RSET")) return no_argument(Verb::Rset);
  if (iequals(word, "QUIT")) return no_argument(Verb::Quit);
  if (iequals(word, "STARTTLS")) return no_argument(Verb::Starttls);
  if (iequals(word, "NOOP")) return with_text(Verb::Noop);
  if (iequals(word, "HELP")) return with_text(Verb::Help);
  if (iequals(word, "VRFY")) return with_text(Verb::Vrfy);
  if (iequals(word, "EXPN")) return with_text(Verb::Expn);
  if (iequals(word, "BDAT")) {
    std::string_view arguments = trim(rest);
    const auto gap = arguments.find(' ');
    const std::string_view size = arguments.substr(0, gap);
    const std::string_view last =
        gap == std::string_view::npos ? std::string_view() : trim(arguments.substr(gap));
    const auto [end, error] =
        std::from_chars(size.data(), size.data() + size.size(), command.chunk_size);
    if (size.empty() || error != std::errc() || end != size.data() + size.size() ||
        (!last.empty() && !iequals(last, "LAST"))) {
      return syntax("Syntax: BDAT size [LAST]");
    }
    command.verb = Verb::Bdat;
    command.last_chunk = !last.empty();
    return command;
  }
  if (iequals(word, "AUTH")) {
    std::string_view arguments = trim(rest);
    const auto gap = arguments.find(' ');
    const std::string_view mechanism = arguments.substr(0, gap);
    const std::string_view initial =
        gap == std::string_view::npos ? std::string_view() : trim(arguments.substr(gap));
    if (mechanism.empty() || initial.find(' ') != std::string_view::npos) {
      return syntax("Syntax: AUTH mechanism [initial-response]");
    }
    command.verb = Verb::Auth;
    command.mechanism = uppercase(mechanism);
    command.initial_response = std::string(initial);
    return command;
  }
  return BadCommand{500, "5.5.2", "Command not recognized"};
}

Step CommandParser::feed(std::string_view& input) {
  const void* found = std::memchr(input.data(), '\n', input.size());
  const std::size_t take =
      found ? static_cast<std::size_t>(static_cast<const char*>(found) - input.data()) + 1
            : input.size();
  if (!overlong_) {
    if (line_.size() + take > limits_.max_line + 2) {
      overlong_ = true;
      line_.clear();
    } else {
      line_.append(input.substr(0, take));
    }
  }
  input.remove_prefix(take);
  if (!found) return NeedMore{};
  if (overlong_) {
    overlong_ = false;
    return BadCommand{500, "5.5.2", "Line too long"};
  }
  std::string_view line = line_;
  line.remove_suffix(1);  // LF
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  Step step = parse_command_line(line);
  line_.clear();
  return step;
}

}  // namespace rampart::smtp
