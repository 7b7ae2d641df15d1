// Address lists (RFC 5322 §3.4, obs forms of §4.4), read leniently: whatever the
// input, every token is consumed once and the result is the best list it allows.
#include "mime/parse_internal.h"

namespace rampart::mime {
namespace {

struct Token {
  enum class Kind { Atom, Quoted, DomainLiteral, Special, End };
  Kind kind = Kind::End;
  std::string text;  // atom, unescaped quoted string, or "[literal]"
  char special = 0;
  bool space_before = false;  // whitespace or a comment came before it
  std::string comment;        // the last comment before it, without its parentheses

  bool is(char c) const { return kind == Kind::Special && special == c; }
  bool is_word() const { return kind == Kind::Atom || kind == Kind::Quoted; }
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token next() {
    Token token;
    while (i_ < s_.size()) {
      if (is_space(s_[i_])) {
        ++i_;
      } else if (s_[i_] == '(') {
        const std::size_t begin = i_;
        skip_comment(s_, i_);
        const std::size_t end = i_ > begin + 1 && s_[i_ - 1] == ')' ? i_ - 1 : i_;
        token.comment = std::string(s_.substr(begin + 1, end - begin - 1));
      } else {
        break;
      }
      token.space_before = true;
    }
    if (i_ >= s_.size()) return token;
    const char c = s_[i_];
    if (c == '"') {
      token.kind = Token::Kind::Quoted;
      for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        token.text.push_back(s_[i_]);
      }
      ++i_;  // the closing quote, or past the end
    } else if (c == '[') {
      token.kind = Token::Kind::DomainLiteral;
      const std::size_t close = s_.find(']', i_);
      const std::size_t end = close == std::string_view::npos ? s_.size() : close + 1;
      token.text = std::string(s_.substr(i_, end - i_));
      i_ = end;
    } else if (is_special(c)) {
      token.kind = Token::Kind::Special;
      token.special = c;
      ++i_;
    } else {
      token.kind = Token::Kind::Atom;
      const std::size_t begin = i_;
      while (i_ < s_.size() && !is_space(s_[i_]) && !is_special(s_[i_]) && s_[i_] != '"' &&
             s_[i_] != '[' && s_[i_] != '(') {
        ++i_;
      }
      token.text = std::string(s_.substr(begin, i_ - begin));
    }
    return token;
  }

 private:
  static bool is_special(char c) {
    return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' || c == ':' || c == '.' ||
           c == '\\' || c == ']' || c == ')';
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

class Parser {
 public:
  Parser(std::string_view text, CharsetConverter& charsets, const Defects& defects)
      : lexer_(text), charsets_(charsets), defects_(defects) {
    advance();
  }

  std::vector<Address> parse() {
    while (token_.kind != Token::Kind::End) {
      if (token_.is(',')) {
        advance();
      } else if (token_.is(';')) {
        defects_.add(DefectKind::InvalidAddress);
        advance();
      } else {
        parse_entry(/*in_group=*/false);
      }
    }
    return std::move(addresses_);
  }

 private:
  struct Phrase {
    std::string raw;    // words joined by single spaces: a display name
    std::string local;  // words and dots joined as they are: a local part
    bool empty() const { return local.empty(); }
  };

  void advance() { token_ = lexer_.next(); }

  Phrase read_phrase() {
    Phrase phrase;
    while (token_.is_word() || token_.is('.')) {
      const std::string text = token_.is('.') ? "." : token_.text;
      if (!phrase.raw.empty() && token_.space_before) phrase.raw.push_back(' ');
      phrase.raw += text;
      phrase.local += text;
      advance();
    }
    return phrase;
  }

  std::string read_domain() {
    std::string domain;
    while (token_.kind == Token::Kind::Atom || token_.kind == Token::Kind::DomainLiteral ||
           token_.is('.')) {
      // "a@b c@d": a missing comma, not a domain with a space in it.
      if (token_.space_before && !domain.empty() && domain.back() != '.' && !token_.is('.')) {
        break;
      }
      domain += token_.is('.') ? std::string(".") : token_.text;
      advance();
    }
    return domain;
  }

  void add_mailbox(const Phrase& name, std::string local, std::string domain) {
    Address address;
    address.name_raw = name.raw;
    if (!name.raw.empty()) address.name = decode_text(name.raw, charsets_, defects_);
    address.local = std::move(local);
    address.domain = std::move(domain);
    if (address.domain.empty() && !address.local.empty()) {
      defects_.add(DefectKind::InvalidAddress);
    }
    addresses_.push_back(std::move(address));
  }

  void parse_entry(bool in_group) {
    Phrase phrase = read_phrase();
    if (token_.is(':') && !in_group) {
      advance();
      Address start;
      start.kind = Address::Kind::GroupStart;
      start.name_raw = phrase.raw;
      start.name = decode_text(phrase.raw, charsets_, defects_);
      addresses_.push_back(std::move(start));
      while (token_.kind != Token::Kind::End && !token_.is(';')) {
        if (token_.is(',')) {
          advance();
        } else {
          parse_entry(/*in_group=*/true);
        }
      }
      if (token_.is(';')) {
        advance();
      } else {
        defects_.add(DefectKind::InvalidAddress);
      }
      Address end;
      end.kind = Address::Kind::GroupEnd;
      addresses_.push_back(std::move(end));
    } else if (token_.is('<')) {
      advance();
      parse_angle_address(phrase);
    } else if (token_.is('@') && !phrase.empty()) {
      advance();
      std::string domain = read_domain();
      // "user@domain (Real Name)": the comment is the only name there is, and readers
      // (IMAP ENVELOPE, SEARCH FROM) show it as the display name, as Dovecot does.
      Phrase name;
      name.raw = std::string(trim(token_.comment));
      name.local = name.raw;
      add_mailbox(name, std::move(phrase.local), std::move(domain));
    } else if (!phrase.empty()) {
      // "undisclosed-recipients" or "john": a local part without a domain.
      add_mailbox({}, std::move(phrase.local), {});
    } else {
      // A token no entry can start with: skip it.
      defects_.add(DefectKind::InvalidAddress);
      advance();
    }
  }

  void parse_angle_address(const Phrase& name) {
    std::string route;
    if (token_.is('@')) {
      // obs-route "<@a,@b:user@host>": kept as "@a,@b" (IMAP's adl).
      while (token_.kind != Token::Kind::End && !token_.is(':') && !token_.is('>')) {
        route += token_.kind == Token::Kind::Special ? std::string(1, token_.special) : token_.text;
        advance();
      }
      if (token_.is(':')) advance();
    }
    std::string local;
    while (token_.is_word() || token_.is('.')) {
      local += token_.is('.') ? std::string(".") : token_.text;
      advance();
    }
    std::string domain;
    if (token_.is('@')) {
      advance();
      domain = read_domain();
    }
    bool junk = false;
    while (token_.kind != Token::Kind::End && !token_.is('>') && !token_.is(',')) {
      junk = true;
      advance();
    }
    if (junk || !token_.is('>')) defects_.add(DefectKind::InvalidAddress);
    if (token_.is('>')) advance();
    if (local.empty() && domain.empty()) {
      // "<>": no mailbox to show (and IMAP would read NIL NIL as a group's end).
      defects_.add(DefectKind::InvalidAddress);
      return;
    }
    add_mailbox(name, std::move(local), std::move(domain));
    addresses_.back().route = std::move(route);
  }

  Lexer lexer_;
  Token token_;
  CharsetConverter& charsets_;
  Defects defects_;
  std::vector<Address> addresses_;
};

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  if (static_cast<unsigned char>(c) >= 0x80) return true;  // RFC 6532 UTF-8
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') {
      if (text[i + 1] == '.') return false;
    } else if (!is_atext(text[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view value, CharsetConverter& charsets,
                                        const Defects& defects) {
  const std::string unfolded = unfold(value);
  return Parser(unfolded, charsets, defects).parse();
}

std::vector<Address> parse_address_list(std::string_view value) {
  CharsetConverter charsets;
  return parse_address_list(value, charsets, Defects());
}

std::string address_spec(const Address& address) {
  std::string out;
  if (is_dot_atom(address.local)) {
    out = address.local;
  } else {
    out.push_back('"');
    for (char c : address.local) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  if (!address.domain.empty()) {
    out.push_back('@');
    out += address.domain;
  }
  return out;
}

}  // namespace rampart::mime
