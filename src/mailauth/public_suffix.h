// The Public Suffix List (https://publicsuffix.org, Debian's `publicsuffix` package at
// /usr/share/publicsuffix/public_suffix_list.dat): which names are public suffixes,
// for the organizational domain DMARC aligns on (RFC 7489 section 3.2). Pure: the list's
// text in, answers out.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

namespace rampart::mailauth {

class PublicSuffixList {
 public:
  // Rules from the list's text: one per line, "//" comments and blank lines skipped,
  // "*." wildcards and "!" exceptions (the list's own format). Lines beyond ASCII (the
  // list's Unicode names) are kept as written; domains are compared lowercase.
  static PublicSuffixList parse(std::string_view text);
  // The list at `path`; an empty list (every name its own organizational domain's
  // last two labels) when it cannot be read.
  static PublicSuffixList load(const std::string& path);

  // RFC 7489 section 3.2: the public suffix of `domain` (lowercase, no final dot) by
  // the list's algorithm (the longest matching rule, exceptions first, "*" when none
  // matches), plus one label. `domain` itself when it is a public suffix or has one
  // label.
  std::string organizational_domain(std::string_view domain) const;
  std::size_t size() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

 private:
  std::unordered_set<std::string> rules_, wildcards_, exceptions_;  // without "*." / "!"
};

}  // namespace rampart::mailauth
