// Validation of a parsed script and the helpers the interpreter shares with it.
#pragma once

#include <string_view>

#include "base/result.h"
#include "sieve/parser.h"

namespace rampart::sieve {

// Checks `require`, every command's and test's name, tags and argument shapes, and
// fills each node's `match`, `positional` and `tags`. Errors as parse_script's.
Result<void> validate(Script& script);

// RFC 5229 section 3: does `text` hold a "${" that may expand?
inline bool may_have_variables(std::string_view text) {
  return text.find("${") != std::string_view::npos;
}

// A date-part name of RFC 5260 section 4.2 ("year", "iso8601", ...).
bool is_date_part(std::string_view name);

// A field name as RFC 5322 section 2.2 has it: printable ASCII but the colon.
bool is_field_name(std::string_view name);

// An addr-spec for redirect: local@domain with nothing around it.
bool is_redirect_address(std::string_view address);

}  // namespace rampart::sieve
