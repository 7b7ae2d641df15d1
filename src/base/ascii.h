// ASCII-only case handling for protocol keywords, header names, domains and MIME
// tokens: never locale-dependent, never touching bytes >= 0x80.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace rampart {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// No byte of `text` is beyond 7-bit ASCII.
inline bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Without leading and trailing spaces and tabs (HTTP's OWS, DMARC's WSP).
inline std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

inline std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

inline std::string uppercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_upper(c);
  return out;
}

// Where `needle` first occurs in `haystack` at or after `from`, ASCII case folded (the
// i;ascii-casemap collation of IMAP SEARCH and JMAP filters); npos if nowhere.
inline std::size_t find_folded(std::string_view haystack, std::string_view needle,
                               std::size_t from = 0) {
  if (from > haystack.size()) return std::string_view::npos;
  const auto it = std::search(haystack.begin() + static_cast<std::ptrdiff_t>(from), haystack.end(),
                              needle.begin(), needle.end(),
                              [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
  return it == haystack.end() && !needle.empty() ? std::string_view::npos
                                                 : static_cast<std::size_t>(it - haystack.begin());
}

inline bool contains_folded(std::string_view haystack, std::string_view needle) {
  return find_folded(haystack, needle) != std::string_view::npos;
}

}  // namespace rampart
