// The ids a client sees for the store's objects, the same over JMAP (RFC 8620 Id) and
// IMAP OBJECTID (RFC 8474 MAILBOXID, EMAILID, THREADID): a letter and the store's
// number ("M12", "E345", "T345"). The letter keeps an id of one type from being taken
// for another.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rampart::store {

inline constexpr char kMailboxPrefix = 'M';
inline constexpr char kEmailPrefix = 'E';
inline constexpr char kThreadPrefix = 'T';

inline std::string object_id(char prefix, std::int64_t number) {
  return std::string(1, prefix) + std::to_string(number);
}

// The number of an id of this type; nullopt for anything else.
inline std::optional<std::int64_t> parse_object_id(char prefix, std::string_view id) {
  if (id.size() < 2 || id.size() > 20 || id.front() != prefix || id[1] == '0') return std::nullopt;
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(id.data() + 1, id.data() + id.size(), number);
  if (error != std::errc() || end != id.data() + id.size() || number <= 0) return std::nullopt;
  return number;
}

}  // namespace rampart::store
