// Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric), the match types
// :is, :contains, :matches (RFC 5228 section 2.7.1), :value (RFC 5231) and :regex
// (draft-ietf-sieve-regex, over RE2: linear time, so no pattern can make a match
// backtrack for long), with the match variables RFC 5229 section 3.2 fills.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sieve/parser.h"

namespace re2 {
class RE2;
}

namespace rampart::sieve {

// RFC 4790 section 9.1: -1, 0 or 1; i;ascii-numeric reads the leading digits as a
// number, and a value without any is larger than every number.
int compare(Comparator comparator, std::string_view a, std::string_view b);

bool relation_holds(Relation relation, int comparison);

// Compiled regexes, by pattern and case: a script's few patterns are compiled once per
// run. At most `max_entries`; past that each one is compiled anew.
class RegexCache {
 public:
  explicit RegexCache(std::size_t max_entries = 64);
  ~RegexCache();
  // Null when the pattern does not compile.
  const re2::RE2* get(std::string_view pattern, bool case_insensitive);

 private:
  std::size_t max_entries_;
  std::map<std::pair<std::string, bool>, std::unique_ptr<re2::RE2>> entries_;
  std::unique_ptr<re2::RE2> last_;
};

// Why `pattern` is not a regex this module runs, or empty when it is.
std::string regex_problem(std::string_view pattern, Comparator comparator);

// Does `value` match `key` under :is, :contains, :matches, :regex or :value (:count is
// the caller's)? For :matches and :regex, `captures` (when not null) receives ${0}, the
// whole value, and one string per wildcard or group, as RFC 5229 section 3.2 says.
bool match_value(const MatchSpec& match, std::string_view value, std::string_view key,
                 RegexCache& regexes, std::vector<std::string>* captures);

// RFC 5229 section 3: identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_").
bool is_variable_name(std::string_view name);

}  // namespace rampart::sieve
