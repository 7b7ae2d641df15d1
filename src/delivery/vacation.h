// Vacation replies (JMAP VacationResponse, RFC 8621 §8): the setting as the store
// keeps it, whether a delivered message may be answered automatically (RFC 3834),
// and the answer. Pure; Delivery applies it after each local delivery.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::delivery {

// The store object type of the setting (one per account), and of the record of
// whom it answered when (one per sender).
inline constexpr char kVacationType[] = "VacationResponse";
inline constexpr char kVacationRepliedType[] = "VacationReplied";
// A sender is answered at most once in this long (RFC 3834 §2: "not more than once
// within a period of several days").
inline constexpr std::int64_t kVacationInterval = 7 * 86400;

struct Vacation {
  bool enabled = false;
  std::optional<std::int64_t> from, to;  // Unix seconds; answered in [from, to)
  std::optional<std::string> subject, text_body, html_body;
  bool operator==(const Vacation&) const = default;
};

// The stored form: JSON with JMAP's property names (isEnabled, fromDate, ...), the
// dates as Unix seconds.
std::string vacation_to_json(const Vacation& vacation);
Vacation vacation_from_json(std::string_view json);

// Is it on at `now`?
bool vacation_active(const Vacation& vacation, std::int64_t now);

// RFC 3834 §2 and common practice: no answer to a null or list sender
// (MAILER-DAEMON, owner-*, *-request, noreply), to a message that is itself automatic
// (Auto-Submitted other than "no"), or to list and bulk mail (List-Id, List-*,
// Precedence bulk/list/junk). `header` is the message's header section.
bool may_auto_reply(std::string_view envelope_sender, std::string_view header);

// One automatic answer to consider: a Sieve vacation action (RFC 5230) or the JMAP
// VacationResponse (reply_of). Delivery decides whether it goes (may_auto_reply, the
// message addressed to the account, once per `interval` per sender and handle).
struct AutoReply {
  std::string handle;                         // answers with different handles are apart
  std::int64_t interval = kVacationInterval;  // seconds between answers to one sender
  std::vector<std::string> addresses;         // the account's other addresses (:addresses)
  std::string from;                           // :from, or empty: the account's address
  std::optional<std::string> subject, text_body, html_body;
  std::optional<std::string> mime_body;  // :mime: the body is a MIME entity as it is
  std::uint64_t since = 0;  // the MODSEQ of the setting: answers recorded before it do not count
};

// The JMAP setting as an answer (handle "jmap-vacation").
AutoReply reply_of(const Vacation& vacation);

// The answer from `from` to `to`: the reply's subject (or "Auto: " and the original's),
// its text (and HTML as an alternative) or its MIME entity, In-Reply-To and References
// pointing at the original, Auto-Submitted: auto-replied.
std::string auto_reply_message(const AutoReply& reply, std::string_view from, std::string_view to,
                               std::string_view original_header, std::int64_t now);

}  // namespace rampart::delivery
