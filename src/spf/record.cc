#include "spf/record.h"

#include <algorithm>

#include "base/ascii.h"
#include "spf/macro.h"

namespace rampart::spf {

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
bool is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.'; }

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

tl::unexpected<Error> bad(std::string_view term, std::string_view why) {
  return fail(Errc::BadInput, std::string(why) + ": " + std::string(term));
}

// A CIDR length: 1*DIGIT, no leading zero (as ip4-network has none), at most `max`.
std::optional<int> cidr_length(std::string_view digits, int max) {
  if (!all_digits(digits) || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  if (value > max) return std::nullopt;
  return value;
}

// Takes dual-cidr-length = [ "/" ip4-cidr ] [ "//" ip6-cidr ] off the end of `text`. A
// domain-spec cannot end in "/" DIGIT (its toplabel or macro ends it), so a trailing
// slash and digits are always the CIDR lengths.
bool take_dual_cidr(std::string_view& text, Directive& directive) {
  if (const std::size_t slashes = text.rfind("//");
      slashes != std::string_view::npos && all_digits(text.substr(slashes + 2))) {
    auto length = cidr_length(text.substr(slashes + 2), 128);
    if (!length) return false;
    directive.cidr6 = *length;
    text = text.substr(0, slashes);
  }
  if (const std::size_t slash = text.rfind('/');
      slash != std::string_view::npos && all_digits(text.substr(slash + 1))) {
    auto length = cidr_length(text.substr(slash + 1), 32);
    if (!length) return false;
    directive.cidr4 = *length;
    text = text.substr(0, slash);
  }
  return true;
}

// ip4 and ip6: ":" network [ "/" length ].
bool take_network(std::string_view arguments, bool v6, Directive& directive) {
  if (arguments.empty() || arguments[0] != ':') return false;
  arguments.remove_prefix(1);
  const std::size_t slash = arguments.find('/');
  auto network = parse_address(arguments.substr(0, slash), false);
  if (!network || network->v6 != v6) return false;
  directive.network = *network;
  if (slash == std::string_view::npos) return true;
  auto length = cidr_length(arguments.substr(slash + 1), v6 ? 128 : 32);
  if (!length) return false;
  (v6 ? directive.cidr6 : directive.cidr4) = *length;
  return true;
}

Result<void> parse_modifier(std::string_view term, std::size_t name_end, Record& record) {
  const std::string name = lowercase(term.substr(0, name_end));
  const std::string_view value = term.substr(name_end + 1);
  // Section 6: redirect and exp at most once each; known modifiers are never read as
  // unknown ones, whatever their value.
  if (name == "redirect" || name == "exp") {
    std::optional<std::string>& slot = name == "redirect" ? record.redirect : record.explanation;
    if (slot) return bad(term, "modifier given twice");
    if (!is_valid_macro_text(value, MacroText::DomainSpec)) return bad(term, "bad domain-spec");
    slot = std::string(value);
    return {};
  }
  if (!is_valid_macro_text(value, MacroText::Value)) return bad(term, "bad macro-string");
  return {};
}

Result<void> parse_directive(std::string_view term, Record& record) {
  Directive directive;
  directive.text = std::string(term);
  std::string_view rest = term;
  if (!rest.empty() && std::string_view("+-~?").find(rest[0]) != std::string_view::npos) {
    directive.qualifier = rest[0] == '+'   ? Qualifier::Pass
                          : rest[0] == '-' ? Qualifier::Fail
                          : rest[0] == '~' ? Qualifier::SoftFail
                                           : Qualifier::Neutral;
    rest.remove_prefix(1);
  }
  const std::size_t name_end = std::min(rest.find(':'), rest.find('/'));
  const std::string name = lowercase(rest.substr(0, name_end));
  std::string_view arguments = name_end == std::string_view::npos ? "" : rest.substr(name_end);
  bool valid = false;
  if (name == "all") {
    directive.mechanism = Mechanism::All;
    valid = arguments.empty();
  } else if (name == "include" || name == "exists") {
    directive.mechanism = name == "include" ? Mechanism::Include : Mechanism::Exists;
    valid = !arguments.empty() && arguments[0] == ':';
    if (valid) directive.domain_spec = std::string(arguments.substr(1));
    valid = valid && is_valid_macro_text(directive.domain_spec, MacroText::DomainSpec);
  } else if (name == "a" || name == "mx") {
    directive.mechanism = name == "a" ? Mechanism::A : Mechanism::Mx;
    valid = take_dual_cidr(arguments, directive);
    if (valid && !arguments.empty()) {
      valid =
          arguments[0] == ':' && is_valid_macro_text(arguments.substr(1), MacroText::DomainSpec);
      directive.domain_spec = std::string(arguments.substr(1));
    }
  } else if (name == "ptr") {
    directive.mechanism = Mechanism::Ptr;
    valid = arguments.empty();
    if (!valid && arguments[0] == ':') {
      directive.domain_spec = std::string(arguments.substr(1));
      valid = is_valid_macro_text(directive.domain_spec, MacroText::DomainSpec);
    }
  } else if (name == "ip4" || name == "ip6") {
    directive.mechanism = name == "ip4" ? Mechanism::Ip4 : Mechanism::Ip6;
    valid = take_network(arguments, name == "ip6", directive);
  } else {
    return bad(term, "unknown mechanism");
  }
  if (!valid) return bad(term, "bad " + name + " mechanism");
  record.directives.push_back(std::move(directive));
  return {};
}

}  // namespace

bool is_spf_record(std::string_view text) {
  return text.size() >= 6 && iequals(text.substr(0, 6), "v=spf1") &&
         (text.size() == 6 || text[6] == ' ');
}

Result<Record> parse_record(std::string_view text, const RecordLimits& limits) {
  if (text.size() > limits.max_bytes) return fail(Errc::TooBig, "record too long");
  if (!is_spf_record(text)) return fail(Errc::BadInput, "not an SPF record");
  Record record;
  std::size_t terms = 0;
  std::size_t pos = 6;
  // terms = *( 1*SP ( directive / modifier ) ), then *SP: only spaces separate terms.
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', pos), text.size());
    const std::string_view term = text.substr(pos, end - pos);
    pos = end;
    if (++terms > limits.max_terms) return fail(Errc::TooBig, "too many terms");
    // Section 4.6.1: "=" right after a name, before any ":" or "/", makes a modifier.
    std::size_t name_end = 0;
    while (name_end < term.size() && is_name_char(term[name_end])) ++name_end;
    const bool modifier =
        name_end > 0 && is_alpha(term[0]) && name_end < term.size() && term[name_end] == '=';
    auto parsed = modifier ? parse_modifier(term, name_end, record) : parse_directive(term, record);
    if (!parsed) return tl::unexpected(parsed.error());
  }
  return record;
}

}  // namespace rampart::spf
