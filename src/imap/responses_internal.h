// Small pieces of IMAP response syntax shared by the commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/number_set.h"
#include "base/result.h"
#include "store/store.h"

namespace rampart::imap {

// "NO [NONEXISTENT] text" for a store or directory error; one switch, no default, so
// a new Errc is a compile warning here.
std::string no_for(Errc code, std::string_view text);

// The RFC 6154 attribute of a special-use mailbox ("\\Sent"), or null.
const char* role_attribute(store::Role role);

// Is `flag` in the sorted flag set?
bool has_flag(const store::Flags& flags, std::string_view flag);

// Is `name` below `of` in the hierarchy ("a/b/c" below "a" and "a/b")?
bool is_descendant(std::string_view name, std::string_view of);

// Does `name` have child mailboxes (subscribed ones, if `subscribed_only`)?
bool has_children(const std::vector<store::Mailbox>& mailboxes, std::string_view name,
                  bool subscribed_only = false);

// RFC 8474 objectid of a mailbox: its JMAP Mailbox id (store/object_id.h).
std::string mailbox_id(store::MailboxId id);

// "(\Seen $Forwarded)"; `recent` adds the IMAP4rev1 session flag "\Recent".
std::string format_flags(const store::Flags& flags, bool recent = false);

// "\"17-Jul-1996 02:44:25 +0000\"" (RFC 9051 date-time, in UTC).
std::string format_date_time(std::int64_t unix_seconds);
// "17-Jul-1996 02:44:25 -0700" to Unix seconds; nullopt when malformed.
std::optional<std::int64_t> parse_date_time(std::string_view text);

}  // namespace rampart::imap
