#include "spf/macro.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace rampart::spf {

namespace {

struct Macro {
  char letter = 0;        // lowercase
  bool escape = false;    // written in uppercase: URL-escape the value
  std::size_t parts = 0;  // the right-hand parts to keep; 0 keeps all
  bool reverse = false;
  std::string_view delimiters;  // empty: "."
};

constexpr std::string_view kDelimiters = ".-+,/_=";

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alphanum(char c) { return is_alpha(c) || is_digit(c); }

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty()) return false;
  if (std::all_of(label.begin(), label.end(), is_alphanum)) {
    return std::any_of(label.begin(), label.end(), is_alpha);
  }
  return is_alphanum(label.front()) && is_alphanum(label.back()) &&
         std::all_of(label.begin(), label.end(), [](char c) { return is_alphanum(c) || c == '-'; });
}

// Walks a macro-string (an explain-string when `kind` says so), giving each literal run
// and escape (%% %_ %-) to `on_literal` and each %{...} to `on_macro`; false on a
// syntax error. `tail` is the literal text after the last macro-expand, or nullopt
// when the text ends in one (domain-end's two forms).
template <class OnLiteral, class OnMacro>
bool scan(std::string_view text, MacroText kind, std::optional<std::string_view>& tail,
          OnLiteral on_literal, OnMacro on_macro) {
  const bool explanation = kind == MacroText::Explanation;
  const bool any_letter = kind != MacroText::DomainSpec;
  std::size_t run = 0;  // where the current literal run began
  std::size_t pos = 0;
  bool last_expand = false;
  auto flush = [&](std::size_t end) {
    if (end > run) on_literal(text.substr(run, end - run));
  };
  while (pos < text.size()) {
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c != '%') {
      // macro-literal = %x21-24 / %x26-7E; an explain-string allows SP too.
      if (!((c >= 0x21 && c <= 0x7e) || (explanation && c == ' '))) return false;
      ++pos;
      last_expand = false;
      continue;
    }
    flush(pos);
    last_expand = true;
    if (pos + 1 >= text.size()) return false;
    const char next = text[pos + 1];
    if (next == '%' || next == '_' || next == '-') {
      on_literal(next == '%' ? "%" : next == '_' ? " " : "%20");
      pos += 2;
      run = pos;
      continue;
    }
    if (next != '{') return false;
    pos += 2;
    if (pos >= text.size()) return false;
    Macro macro;
    const char letter = text[pos];
    if (!is_alpha(letter)) return false;
    macro.letter = static_cast<char>(letter | 0x20);
    macro.escape = letter >= 'A' && letter <= 'Z';
    static constexpr std::string_view kLetters = "slodiphvcrt";
    const std::size_t index = kLetters.find(macro.letter);
    if (index == std::string_view::npos) return false;
    if (index >= 8 && !any_letter) return false;  // c r t: explanations only (section 7.2)
    ++pos;
    bool counted = false;
    while (pos < text.size() && is_digit(text[pos])) {
      counted = true;
      macro.parts = std::min<std::size_t>(macro.parts * 10 + (text[pos] - '0'), 1000);
      ++pos;
    }
    if (counted && macro.parts == 0) return false;  // section 7.3: nonzero
    if (pos < text.size() && (text[pos] == 'r' || text[pos] == 'R')) {
      macro.reverse = true;
      ++pos;
    }
    const std::size_t delimiters = pos;
    while (pos < text.size() && kDelimiters.find(text[pos]) != std::string_view::npos) ++pos;
    macro.delimiters = text.substr(delimiters, pos - delimiters);
    if (pos >= text.size() || text[pos] != '}') return false;
    ++pos;
    on_macro(macro);
    run = pos;
  }
  flush(pos);
  if (last_expand) {
    tail.reset();
  } else {
    tail = text.substr(run);
  }
  return true;
}

// domain-end = ( "." toplabel [ "." ] ) / macro-expand, after a macro-string.
bool is_domain_end(const std::optional<std::string_view>& tail) {
  if (!tail) return true;
  std::string_view literal = *tail;
  if (!literal.empty() && literal.back() == '.') literal.remove_suffix(1);
  const std::size_t dot = literal.rfind('.');
  return dot != std::string_view::npos && is_toplabel(literal.substr(dot + 1));
}

std::string value_of(const Macro& macro, const MacroValues& values) {
  switch (macro.letter) {
    case 's':
      return values.sender;
    case 'l':
      return values.local_part;
    case 'o':
      return values.sender_domain;
    case 'd':
      return values.domain;
    case 'i':
      return address_dotted(values.ip);
    case 'p':
      return values.validated_name;
    case 'h':
      return values.helo;
    case 'v':
      return values.ip.v6 ? "ip6" : "in-addr";
    case 'c':
      return address_text(values.ip);
    case 'r':
      return values.receiver;
    case 't':
      return std::to_string(values.timestamp);
  }
  return {};
}

// Section 7.3: split on the delimiters, reverse, keep the right-hand parts, join with ".".
std::string transform(const std::string& value, const Macro& macro) {
  if (macro.parts == 0 && !macro.reverse && macro.delimiters.empty()) return value;
  const std::string_view delimiters = macro.delimiters.empty() ? "." : macro.delimiters;
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
      parts.push_back(std::string_view(value).substr(start, i - start));
      start = i + 1;
    }
  }
  if (macro.reverse) std::reverse(parts.begin(), parts.end());
  const std::size_t keep = macro.parts == 0 ? parts.size() : std::min(macro.parts, parts.size());
  const std::size_t first = parts.size() - keep;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i > first) out += '.';
    out += parts[i];
  }
  return out;
}

// RFC 3986 unreserved characters stay; every other byte becomes %XX.
std::string url_escape(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    if (is_alphanum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

Result<std::string> expand(std::string_view text, MacroText kind, const MacroValues& values) {
  std::string out;
  std::optional<std::string_view> tail;
  const bool valid = scan(
      text, kind, tail,
      [&](std::string_view literal) {
        if (out.size() <= kMaxExpansionBytes) out += literal;
      },
      [&](const Macro& macro) {
        if (out.size() > kMaxExpansionBytes) return;
        const std::string value = transform(value_of(macro, values), macro);
        out += macro.escape ? url_escape(value) : value;
      });
  if (!valid || (kind == MacroText::DomainSpec && !is_domain_end(tail))) {
    return fail(Errc::BadInput, "macro syntax");
  }
  if (out.size() > kMaxExpansionBytes) return fail(Errc::TooBig, "macro expansion too long");
  return out;
}

}  // namespace

bool is_valid_macro_text(std::string_view text, MacroText kind) {
  std::optional<std::string_view> tail;
  const bool valid = scan(
      text, kind, tail, [](std::string_view) {}, [](const Macro&) {});
  if (!valid) return false;
  return kind != MacroText::DomainSpec || (!text.empty() && is_domain_end(tail));
}

bool uses_validated_name(std::string_view text) {
  bool uses = false;
  std::optional<std::string_view> tail;
  scan(
      text, MacroText::Explanation, tail, [](std::string_view) {},
      [&](const Macro& macro) { uses = uses || macro.letter == 'p'; });
  return uses;
}

Result<std::string> expand_domain_spec(std::string_view domain_spec, const MacroValues& values) {
  if (domain_spec.empty()) return fail(Errc::BadInput, "empty domain-spec");
  auto expanded = expand(domain_spec, MacroText::DomainSpec, values);
  if (!expanded) return expanded;
  std::string name = std::move(*expanded);
  if (!name.empty() && name.back() == '.') name.pop_back();
  // Section 7.3: over 253 bytes, leftmost labels go until the name fits.
  while (name.size() > kMaxDomainBytes) {
    const std::size_t dot = name.find('.');
    if (dot == std::string::npos) return std::string();
    name.erase(0, dot + 1);
  }
  return name;
}

Result<std::string> expand_explanation(std::string_view explain_string, const MacroValues& values) {
  return expand(explain_string, MacroText::Explanation, values);
}

}  // namespace rampart::spf
