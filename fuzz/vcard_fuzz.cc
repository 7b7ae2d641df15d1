// vCards from CardDAV clients: any bytes give a Card or an error, never a crash. A Card
// stays within its limits, and each CardDAV filter and its negation split the cards that
// have the property (or parameter) between them, for needles taken from the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "contacts/vcard.h"

namespace {

namespace contacts = rampart::contacts;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

constexpr contacts::Limits kLimits{.max_bytes = 16 << 10,
                                   .max_properties = 64,
                                   .max_line = 1024,
                                   .max_parameters = 8,
                                   .max_nesting = 2};

constexpr contacts::MatchType kTypes[] = {
    contacts::MatchType::Equals, contacts::MatchType::Contains, contacts::MatchType::StartsWith,
    contacts::MatchType::EndsWith};

void check_filters(const contacts::Card& card, std::string_view needle) {
  for (std::string_view name : {"FN", "EMAIL", "TEL", "N", "X-ABLABEL"}) {
    for (contacts::MatchType type : kTypes) {
      const bool match = contacts::text_match(card, name, needle, type, false);
      const bool negated = contacts::text_match(card, name, needle, type, true);
      if (contacts::has_property(card, name)) {
        check(match != negated);
      } else {
        check(!match && !negated);
      }
    }
  }
  for (const contacts::Property& property : card.properties) {
    for (std::string_view parameter : {"TYPE", "PREF"}) {
      const bool match = contacts::param_text_match(property, parameter, needle,
                                                    contacts::MatchType::Contains, false);
      const bool negated = contacts::param_text_match(property, parameter, needle,
                                                      contacts::MatchType::Contains, true);
      check(contacts::has_parameter(property, parameter) ? match != negated : !match && !negated);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto card = contacts::parse_card(text, kLimits);
  if (!card) {
    check(!card.error().detail.empty());
    check(card.error().code ==
          (size > kLimits.max_bytes ? rampart::Errc::TooBig : rampart::Errc::BadInput));
    return 0;
  }
  check(card->version == "3.0" || card->version == "4.0");
  check(card->properties.size() <= kLimits.max_properties);
  bool has_formatted_name = false;
  for (const contacts::Property& property : card->properties) {
    check(!property.name.empty() && property.value.size() < kLimits.max_line);
    check(property.parameters.size() <= kLimits.max_parameters);
    for (char c : property.name) check(c < 'a' || c > 'z');
    check(contacts::unescape_text(property.value).size() <= property.value.size());
    has_formatted_name |= property.name == "FN";
  }
  check(has_formatted_name);
  for (const std::string& email : card->emails) {
    for (char c : email) check(c < 'A' || c > 'Z');
  }
  // Needles from the card's own text: the names, a value's start, the input's last bytes.
  check_filters(*card, card->formatted_name);
  check_filters(*card, card->formatted_name.substr(0, card->formatted_name.size() / 2));
  check_filters(*card, text.substr(text.size() - std::min<std::size_t>(text.size(), 3)));
  return 0;
}
