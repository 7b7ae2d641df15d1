// The RFC 5228 section 8 grammar: a lexer and a recursive-descent parser with its
// depth, size and count limits. Validation (validate.cc) runs on the tree it builds.
#include "sieve/parser.h"

#include <string>
#include <utility>

#include "base/ascii.h"
#include "sieve/validate_internal.h"

namespace rampart::sieve {

const Argument* Node::tag(std::string_view name) const {
  for (const TaggedArgument& tagged : tags) {
    if (tagged.tag == name) return &tagged.value;
  }
  return nullptr;
}

bool Script::has_extension(std::string_view extension) const {
  for (const std::string& name : extensions) {
    if (name == extension) return true;
  }
  return false;
}

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 5228 section 1.6 (via RFC 3629): a script is UTF-8. Returns the offset of the
// first invalid byte, or npos.
std::size_t invalid_utf8_at(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80         ? 1
                         : (c >> 5) == 6  ? 2
                         : (c >> 4) == 14 ? 3
                         : (c >> 3) == 30 ? 4
                                          : 0;
    if (length == 0 || (c == 0xC0 || c == 0xC1) || i + length > text.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return i;
    }
    if (c == 0) return i;
    i += length;
  }
  return std::string_view::npos;
}

struct Token {
  enum class Kind : std::uint8_t { End, Identifier, Tag, Number, String, Punct };
  Kind kind = Kind::End;
  std::string text;  // identifier/tag lowercased, the string's value, the punctuation
  std::uint64_t number = 0;
  int line = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const SieveLimits& limits) : text_(text), limits_(limits) {}

  Result<Script> run() {
    Script script;
    if (auto first = next(); !first) return tl::unexpected(first.error());
    while (token_.kind != Token::Kind::End) {
      auto command = parse_command(0);
      if (!command) return tl::unexpected(command.error());
      script.commands.push_back(std::move(*command));
    }
    return script;
  }

 private:
  tl::unexpected<Error> error(int line, std::string message, Errc code = Errc::BadInput) {
    return fail(code, "line " + std::to_string(line) + ": " + message);
  }

  // Skips whitespace and comments; then reads one token into token_.
  Result<void> next() {
    for (;;) {
      if (pos_ >= text_.size()) {
        token_ = Token{Token::Kind::End, "end of script", 0, line_};
        return {};
      }
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        const int start = line_;
        const std::size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return error(start, "unterminated /* comment");
        for (std::size_t i = pos_; i < end; ++i) line_ += text_[i] == '\n';
        pos_ = end + 2;
      } else {
        break;
      }
    }
    token_ = Token{};
    token_.line = line_;
    const char c = text_[pos_];
    if (c == '"') return quoted_string();
    if (c == ':' && pos_ + 1 < text_.size() && is_alpha(text_[pos_ + 1])) {
      ++pos_;
      token_.kind = Token::Kind::Tag;
      token_.text = lowercase(identifier());
      return {};
    }
    if (is_digit(c)) return number();
    if (is_alpha(c)) {
      std::string word = lowercase(identifier());
      if (word == "text" && pos_ < text_.size() && text_[pos_] == ':') return multiline_string();
      token_.kind = Token::Kind::Identifier;
      token_.text = std::move(word);
      return {};
    }
    if (std::string_view("[](){};,").find(c) != std::string_view::npos) {
      token_.kind = Token::Kind::Punct;
      token_.text = std::string(1, c);
      ++pos_;
      return {};
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return error(line_, "unexpected control character");
    }
    return error(line_, "unexpected character '" + std::string(1, c) + "'");
  }

  std::string_view identifier() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (is_alpha(text_[pos_]) || is_digit(text_[pos_]))) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  Result<void> number() {
    std::uint64_t value = 0;
    while (pos_ < text_.size() && is_digit(text_[pos_])) {
      const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (value > (UINT64_MAX - digit) / 10) return error(line_, "number too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ < text_.size()) {
      const char unit = ascii_lower(text_[pos_]);
      const int shift = unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : 0;
      if (shift != 0) {
        if (value > (UINT64_MAX >> shift)) return error(line_, "number too large");
        value <<= shift;
        ++pos_;
      }
    }
    if (pos_ < text_.size() && (is_alpha(text_[pos_]) || is_digit(text_[pos_]))) {
      return error(line_, "bad number");
    }
    token_.kind = Token::Kind::Number;
    token_.number = value;
    return {};
  }

  Result<void> append(char c) {
    if (token_.text.size() >= limits_.max_string_bytes) {
      return error(token_.line,
                   "string longer than " + std::to_string(limits_.max_string_bytes) + " bytes",
                   Errc::TooBig);
    }
    token_.text.push_back(c);
    return {};
  }

  // RFC 5228 section 2.4.2: "\\" and "\"" are the escapes; a backslash before any other
  // character is dropped.
  Result<void> quoted_string() {
    token_.kind = Token::Kind::String;
    ++pos_;
    for (;;) {
      if (pos_ >= text_.size()) return error(token_.line, "unterminated string");
      char c = text_[pos_++];
      if (c == '"') return {};
      if (c == '\\') {
        if (pos_ >= text_.size()) return error(token_.line, "unterminated string");
        c = text_[pos_++];
      }
      if (c == '\n') ++line_;
      if (auto ok = append(c); !ok) return ok;
    }
  }

  // "text:" [whitespace] [hash-comment] CRLF, then lines up to "." CRLF; a line that
  // starts with "." loses it (dot-stuffing). Bare LF line ends are taken too.
  Result<void> multiline_string() {
    token_.kind = Token::Kind::String;
    ++pos_;  // the colon
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ >= text_.size() || text_[pos_] != '\n') {
      return error(line_, "text: must be followed by a line end");
    }
    ++pos_;
    ++line_;
    for (;;) {
      if (pos_ >= text_.size()) return error(token_.line, "unterminated text: string");
      std::size_t end = text_.find('\n', pos_);
      if (end == std::string_view::npos) return error(token_.line, "unterminated text: string");
      std::string_view line = text_.substr(pos_, end + 1 - pos_);
      pos_ = end + 1;
      ++line_;
      if (line == ".\r\n" || line == ".\n") return {};
      if (line.starts_with('.')) line.remove_prefix(1);
      for (char c : line) {
        if (auto ok = append(c); !ok) return ok;
      }
    }
  }

  bool at(std::string_view punct) const {
    return token_.kind == Token::Kind::Punct && token_.text == punct;
  }

  std::string describe() const {
    switch (token_.kind) {
      case Token::Kind::End:
        return "end of script";
      case Token::Kind::Identifier:
        return "'" + token_.text + "'";
      case Token::Kind::Tag:
        return "':" + token_.text + "'";
      case Token::Kind::Number:
        return "a number";
      case Token::Kind::String:
        return "a string";
      case Token::Kind::Punct:
        return "'" + token_.text + "'";
    }
    return "?";
  }

  Result<void> count_node(int line, int depth) {
    if (++nodes_ > limits_.max_commands) {
      return error(line,
                   "more than " + std::to_string(limits_.max_commands) + " commands and tests",
                   Errc::TooBig);
    }
    if (depth > limits_.max_nesting) {
      return error(line, "nested more than " + std::to_string(limits_.max_nesting) + " deep",
                   Errc::TooBig);
    }
    return {};
  }

  // argument = string-list / number / tag; then an optional test or test list.
  template <class T>
  Result<void> parse_arguments(T& node, int depth) {
    for (;;) {
      Argument argument;
      argument.line = token_.line;
      if (token_.kind == Token::Kind::Tag) {
        argument.kind = Argument::Kind::Tag;
        argument.tag = std::move(token_.text);
      } else if (token_.kind == Token::Kind::Number) {
        argument.kind = Argument::Kind::Number;
        argument.number = token_.number;
      } else if (token_.kind == Token::Kind::String) {
        argument.kind = Argument::Kind::String;
        argument.strings.push_back(std::move(token_.text));
      } else if (at("[")) {
        argument.kind = Argument::Kind::StringList;
        if (auto list = string_list(argument.strings); !list) return list;
        node.arguments.push_back(std::move(argument));
        continue;
      } else {
        break;
      }
      node.arguments.push_back(std::move(argument));
      if (auto ok = next(); !ok) return ok;
    }
    if (at("(")) {
      if (auto ok = next(); !ok) return ok;
      for (;;) {
        auto test = parse_test(depth + 1);
        if (!test) return tl::unexpected(test.error());
        node.tests.push_back(std::move(*test));
        if (at(")")) break;
        if (!at(","))
          return error(token_.line, "expected ',' or ')' in a test list, got " + describe());
        if (auto ok = next(); !ok) return ok;
      }
      return next();
    }
    if (token_.kind == Token::Kind::Identifier) {
      auto test = parse_test(depth + 1);
      if (!test) return tl::unexpected(test.error());
      node.tests.push_back(std::move(*test));
    }
    return {};
  }

  // "[" string *("," string) "]", the opening bracket being the current token.
  Result<void> string_list(std::vector<std::string>& strings) {
    const int line = token_.line;
    if (auto ok = next(); !ok) return ok;
    for (;;) {
      if (token_.kind != Token::Kind::String) {
        return error(token_.line, "expected a string in a string list, got " + describe());
      }
      if (strings.size() >= limits_.max_list_items) {
        return error(line,
                     "string list longer than " + std::to_string(limits_.max_list_items) + " items",
                     Errc::TooBig);
      }
      strings.push_back(std::move(token_.text));
      if (auto ok = next(); !ok) return ok;
      if (at("]")) return next();
      if (!at(","))
        return error(token_.line, "expected ',' or ']' in a string list, got " + describe());
      if (auto ok = next(); !ok) return ok;
    }
  }

  Result<Test> parse_test(int depth) {
    if (token_.kind != Token::Kind::Identifier) {
      return error(token_.line, "expected a test, got " + describe());
    }
    Test test;
    test.name = std::move(token_.text);
    test.line = token_.line;
    if (auto ok = count_node(test.line, depth); !ok) return tl::unexpected(ok.error());
    if (auto ok = next(); !ok) return tl::unexpected(ok.error());
    if (auto ok = parse_arguments(test, depth); !ok) return tl::unexpected(ok.error());
    return test;
  }

  // command = identifier arguments (";" / block)
  Result<Command> parse_command(int depth) {
    if (token_.kind != Token::Kind::Identifier) {
      return error(token_.line, "expected a command, got " + describe());
    }
    Command command;
    command.name = std::move(token_.text);
    command.line = token_.line;
    if (auto ok = count_node(command.line, depth); !ok) return tl::unexpected(ok.error());
    if (auto ok = next(); !ok) return tl::unexpected(ok.error());
    if (auto ok = parse_arguments(command, depth); !ok) return tl::unexpected(ok.error());
    if (at(";")) {
      if (auto ok = next(); !ok) return tl::unexpected(ok.error());
      return command;
    }
    if (!at("{")) {
      return error(token_.line,
                   "expected ';' or '{' after '" + command.name + "', got " + describe());
    }
    command.has_block = true;
    if (auto ok = next(); !ok) return tl::unexpected(ok.error());
    while (!at("}")) {
      if (token_.kind == Token::Kind::End) return error(command.line, "unclosed '{' block");
      auto inner = parse_command(depth + 1);
      if (!inner) return tl::unexpected(inner.error());
      command.block.push_back(std::move(*inner));
    }
    if (auto ok = next(); !ok) return tl::unexpected(ok.error());
    return command;
  }

  std::string_view text_;
  const SieveLimits& limits_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::size_t nodes_ = 0;
  Token token_;
};

}  // namespace

Result<Script> parse_script(std::string_view text, const SieveLimits& limits) {
  if (text.size() > limits.max_script_bytes) {
    return fail(Errc::TooBig,
                "line 1: script larger than " + std::to_string(limits.max_script_bytes) + " bytes");
  }
  if (const std::size_t bad = invalid_utf8_at(text); bad != std::string_view::npos) {
    int line = 1;
    for (std::size_t i = 0; i < bad; ++i) line += text[i] == '\n';
    return fail(Errc::BadInput, "line " + std::to_string(line) + ": not UTF-8");
  }
  auto script = Parser(text, limits).run();
  if (!script) return script;
  if (auto ok = validate(*script); !ok) return tl::unexpected(ok.error());
  return script;
}

}  // namespace rampart::sieve
