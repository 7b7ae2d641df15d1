// SPF records and macro-strings from anyone's DNS: the record parser and the macro
// expander take any bytes, and what they give back stays within their limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spf/macro.h"
#include "spf/record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace spf = rampart::spf;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto record = spf::parse_record(text, {.max_bytes = 4096, .max_terms = 512})) {
    if (record->directives.size() > 512) __builtin_trap();
    for (const spf::Directive& directive : record->directives) {
      if (directive.cidr4 < 0 || directive.cidr4 > 32 || directive.cidr6 < 0 ||
          directive.cidr6 > 128) {
        __builtin_trap();
      }
      if (!directive.domain_spec.empty() &&
          !spf::is_valid_macro_text(directive.domain_spec, spf::MacroText::DomainSpec)) {
        __builtin_trap();
      }
    }
  }
  const spf::MacroValues values{.sender = "first.last+tag@mail.example.com",
                                .local_part = "first.last+tag",
                                .sender_domain = "mail.example.com",
                                .domain = "sub-domain.example.com",
                                .ip = *spf::parse_address("2001:db8::cb01", true),
                                .helo = "JUMPIN' JUPITER",
                                .timestamp = 1700000000};
  for (const spf::MacroText kind : {spf::MacroText::DomainSpec, spf::MacroText::Explanation}) {
    const bool valid = spf::is_valid_macro_text(text, kind);
    const bool domain = kind == spf::MacroText::DomainSpec;
    auto expanded =
        domain ? spf::expand_domain_spec(text, values) : spf::expand_explanation(text, values);
    if (expanded.has_value() && !valid) __builtin_trap();
    if (!expanded && valid && expanded.error().code != rampart::Errc::TooBig) __builtin_trap();
    if (expanded && domain && expanded->size() > spf::kMaxDomainBytes) __builtin_trap();
    if (expanded && expanded->size() > spf::kMaxExpansionBytes) __builtin_trap();
  }
  (void)spf::uses_validated_name(text);
  (void)spf::parse_address(text, true);
  return 0;
}
