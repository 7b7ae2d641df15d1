// Validation shared by every backend: mailbox names and flags as the store keeps them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace rampart::store {

constexpr std::size_t kMaxMailboxNameBytes = 1000;

// BadInput unless `name` is valid UTF-8 of at most kMaxMailboxNameBytes, without
// control characters, whose '/'-separated levels are all non-empty. A first level
// spelled "inbox" in any case becomes "INBOX" (RFC 3501 §5.1).
Result<std::string> normalize_mailbox_name(std::string_view name);

// The ancestors of a valid name, outermost first: "a/b/c" -> {"a", "a/b"}.
std::vector<std::string> mailbox_parents(std::string_view name);

// Sorted, without duplicates, system flags in their canonical spelling ("\\Seen").
// BadInput for an unknown system flag (\Recent included: it is never stored) or a
// keyword that is not an IMAP atom.
Result<Flags> normalize_flags(const Flags& flags);

// Flags as one column value and back: space-separated (atoms hold no space).
std::string join_flags(const Flags& flags);
Flags split_flags(std::string_view joined);

}  // namespace rampart::store
