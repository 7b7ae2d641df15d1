#include <re2/re2.h>

#include <algorithm>

#include "base/ascii.h"
#include "sieve/match_internal.h"

namespace rampart::sieve {
namespace {

// The length of the UTF-8 sequence that starts with `c` (1 for a stray byte): "?"
// matches one character, not one byte.
std::size_t char_length(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0xC0 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
}

bool same_char(Comparator comparator, char a, char b) {
  return comparator == Comparator::Octet ? a == b : ascii_lower(a) == ascii_lower(b);
}

// Where the leading digits of `text` end (0: none).
std::string_view leading_digits(std::string_view text) {
  std::size_t end = 0;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return text.substr(0, end);
}

int compare_numbers(std::string_view a, std::string_view b) {
  a = leading_digits(a);
  b = leading_digits(b);
  // RFC 4790 section 9.1.1: a string without digits is positive infinity.
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? 1 : -1);
  while (a.size() > 1 && a[0] == '0') a.remove_prefix(1);
  while (b.size() > 1 && b[0] == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

struct Wildcard {
  enum class Kind : std::uint8_t { Literal, One, Any };
  Kind kind;
  char literal = 0;
};

// RFC 5228 section 2.7.1: "*" any sequence, "?" one character, "\" quotes the next.
// Stars take as little as they can, left to right (RFC 5229 section 3.2's examples):
// the classic glob walk that on a mismatch lets only the last star grow is exact for
// patterns of "*" and "?", runs in O(pattern x value), and leaves every earlier star at
// its shortest extent.
bool glob(Comparator comparator, std::string_view value, std::string_view pattern,
          std::vector<std::string>* captures) {
  std::vector<Wildcard> tokens;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '*') {
      if (tokens.empty() || tokens.back().kind != Wildcard::Kind::Any || captures != nullptr) {
        tokens.push_back({Wildcard::Kind::Any});
      }
    } else if (pattern[i] == '?') {
      tokens.push_back({Wildcard::Kind::One});
    } else {
      if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
      tokens.push_back({Wildcard::Kind::Literal, pattern[i]});
    }
  }
  // Per token: the extent it matched, [begin, end).
  std::vector<std::pair<std::size_t, std::size_t>> extent(tokens.size());
  std::size_t p = 0, s = 0;
  std::size_t star = tokens.size(), star_end = 0;
  while (s < value.size() || (p < tokens.size() && tokens[p].kind == Wildcard::Kind::Any)) {
    if (p < tokens.size() && tokens[p].kind == Wildcard::Kind::Any) {
      star = p;
      star_end = s;
      extent[p] = {s, s};
      ++p;
      continue;
    }
    if (s < value.size() && p < tokens.size()) {
      const Wildcard& token = tokens[p];
      if (token.kind == Wildcard::Kind::One) {
        const std::size_t length = std::min(char_length(value[s]), value.size() - s);
        extent[p] = {s, s + length};
        s += length;
        ++p;
        continue;
      }
      if (same_char(comparator, token.literal, value[s])) {
        ++s;
        ++p;
        continue;
      }
    }
    if (star == tokens.size() || star_end >= value.size()) return false;
    star_end += std::min(char_length(value[star_end]), value.size() - star_end);
    extent[star].second = star_end;
    s = star_end;
    p = star + 1;
  }
  if (p != tokens.size()) return false;
  if (captures != nullptr) {
    captures->assign(1, std::string(value));
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i].kind != Wildcard::Kind::Literal) {
        captures->emplace_back(value.substr(extent[i].first, extent[i].second - extent[i].first));
      }
    }
  }
  return true;
}

re2::RE2::Options regex_options(bool case_insensitive) {
  re2::RE2::Options options;
  options.set_posix_syntax(true);  // POSIX extended, as the draft asks
  options.set_longest_match(true);
  options.set_case_sensitive(!case_insensitive);
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);  // bounds what one pattern compiles into
  return options;
}

constexpr std::size_t kMaxPatternBytes = 1024;

}  // namespace

int compare(Comparator comparator, std::string_view a, std::string_view b) {
  switch (comparator) {
    case Comparator::Octet: {
      const int c = a.compare(b);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case Comparator::AsciiCasemap: {
      const std::size_t n = std::min(a.size(), b.size());
      for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(ascii_lower(a[i]));
        const auto y = static_cast<unsigned char>(ascii_lower(b[i]));
        if (x != y) return x < y ? -1 : 1;
      }
      return a.size() == b.size() ? 0 : a.size() < b.size() ? -1 : 1;
    }
    case Comparator::AsciiNumeric:
      return compare_numbers(a, b);
  }
  return 0;
}

bool relation_holds(Relation relation, int comparison) {
  switch (relation) {
    case Relation::Gt:
      return comparison > 0;
    case Relation::Ge:
      return comparison >= 0;
    case Relation::Lt:
      return comparison < 0;
    case Relation::Le:
      return comparison <= 0;
    case Relation::Eq:
      return comparison == 0;
    case Relation::Ne:
      return comparison != 0;
  }
  return false;
}

RegexCache::RegexCache(std::size_t max_entries) : max_entries_(max_entries) {}
RegexCache::~RegexCache() = default;

const re2::RE2* RegexCache::get(std::string_view pattern, bool case_insensitive) {
  if (pattern.size() > kMaxPatternBytes) return nullptr;
  auto key = std::make_pair(std::string(pattern), case_insensitive);
  if (auto found = entries_.find(key); found != entries_.end()) return found->second.get();
  auto regex = std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                          regex_options(case_insensitive));
  if (!regex->ok()) return nullptr;
  if (entries_.size() >= max_entries_) {
    last_ = std::move(regex);
    return last_.get();
  }
  return entries_.emplace(std::move(key), std::move(regex)).first->second.get();
}

std::string regex_problem(std::string_view pattern, Comparator comparator) {
  if (pattern.size() > kMaxPatternBytes) return "longer than 1024 bytes";
  re2::RE2 regex(re2::StringPiece(pattern.data(), pattern.size()),
                 regex_options(comparator == Comparator::AsciiCasemap));
  return regex.ok() ? std::string() : regex.error();
}

bool match_value(const MatchSpec& match, std::string_view value, std::string_view key,
                 RegexCache& regexes, std::vector<std::string>* captures) {
  switch (match.type) {
    case MatchType::Is:
      return compare(match.comparator, value, key) == 0;
    case MatchType::Contains:
      if (match.comparator == Comparator::Octet) return value.find(key) != std::string_view::npos;
      return find_folded(value, key) != std::string_view::npos;
    case MatchType::Matches:
      return glob(match.comparator, value, key, captures);
    case MatchType::Regex: {
      const re2::RE2* regex = regexes.get(key, match.comparator == Comparator::AsciiCasemap);
      if (regex == nullptr) return false;
      const int groups = std::min(regex->NumberOfCapturingGroups(), 9);
      re2::StringPiece found[10];
      if (!regex->Match(re2::StringPiece(value.data(), value.size()), 0, value.size(),
                        re2::RE2::UNANCHORED, found, groups + 1)) {
        return false;
      }
      if (captures != nullptr) {
        captures->clear();
        for (int i = 0; i <= groups; ++i) captures->emplace_back(found[i].data(), found[i].size());
      }
      return true;
    }
    case MatchType::Count:
    case MatchType::Value:
      return relation_holds(match.relation, compare(match.comparator, value, key));
  }
  return false;
}

bool is_variable_name(std::string_view name) {
  if (name.empty()) return false;
  const auto alpha = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!alpha(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

}  // namespace rampart::sieve
