// SPF macros (RFC 7208 section 7): the syntax of domain-specs, explain-strings and
// unknown modifiers' values, and their expansion. Pure: every value, the validated
// name ("p") and the time ("t") included, is handed in.
//
// - Letters s l o d i p h v everywhere, c r t only in explanations (section 7.2);
//   transformers (a nonzero count of right-hand parts, "r" to reverse) and delimiters
//   . - + , / _ = (section 7.3); an uppercase letter URL-escapes its value: every byte
//   but ALPHA DIGIT - . _ ~ becomes %XX (section 7.3).
// - "i" of an IPv6 address is its 32 nibbles in lowercase, as in section 7.4's example;
//   "c" is its RFC 5952 text.
// - A domain-spec's expansion loses its final dot and, when over 253 bytes, its
//   leftmost labels until it fits (section 7.3).
// - An expansion that grows past kMaxExpansionBytes (a hostile record repeating a long
//   macro) fails with TooBig rather than being built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "spf/address.h"

namespace rampart::spf {

constexpr std::size_t kMaxExpansionBytes = 16 * 1024;
constexpr std::size_t kMaxDomainBytes = 253;

struct MacroValues {
  std::string sender;         // s: <sender>, local-part "@" domain
  std::string local_part;     // l
  std::string sender_domain;  // o
  std::string domain;         // d: the <domain> of the check_host() at hand
  Address ip;                 // i, c, v
  // p: the validated name of <ip> (section 5.5), "unknown" when there is none. The
  // evaluator looks it up only when the text uses "p" (uses_validated_name).
  std::string validated_name = "unknown";
  std::string helo;                  // h
  std::string receiver = "unknown";  // r: the host doing the check
  std::int64_t timestamp = 0;        // t: Unix seconds
};

enum class MacroText {
  DomainSpec,   // domain-spec = macro-string domain-end
  Explanation,  // explain-string = *( macro-string / SP ), letters c r t allowed
  Value,        // an unknown modifier's macro-string: checked, never expanded
};

// Whether `text` follows the grammar of its kind (section 7.1 and section 12).
bool is_valid_macro_text(std::string_view text, MacroText kind);

// Whether `text` (valid) uses the "p" macro, whose value costs DNS lookups.
bool uses_validated_name(std::string_view text);

// The <target-name> a valid domain-spec names; BadInput when it is not valid, TooBig
// past kMaxExpansionBytes. May be empty or hold labels DNS cannot carry: the caller
// checks the name before asking for it.
Result<std::string> expand_domain_spec(std::string_view domain_spec, const MacroValues& values);

// A valid explain-string expanded; BadInput when it is not valid, TooBig as above.
Result<std::string> expand_explanation(std::string_view explain_string, const MacroValues& values);

}  // namespace rampart::spf
