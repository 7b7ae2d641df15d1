// Runs a parsed Sieve script (parser.h) over one message, pure: the message, its
// envelope and everything else it may ask about come in through Input and Callbacks,
// and the actions go out in Outcome for the caller to carry out. Nothing here sends,
// files or remembers: vacation replies (RFC 5230) are returned for the caller to
// judge by RFC 3834 and its once-per-:days record, duplicate ids (RFC 7352) for it to
// record once the delivery succeeded.
//
// Actions follow RFC 5228 section 2.10: the implicit keep unless an action cancels it,
// duplicate fileinto/redirect folded, reject refused alongside keep, fileinto,
// redirect or vacation (RFC 5429 section 2.2). A run-time error (a limit passed, a
// conflict, an include that is missing or loops) drops every action and gives the
// implicit keep, with the error said (section 2.10.6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sieve/parser.h"

namespace rampart::sieve {

struct RunLimits {
  std::size_t max_steps = 10000;            // commands run and tests evaluated
  std::size_t max_header_fields = 2000;     // header fields read, summed over all tests
  std::size_t max_body_bytes = 1 << 20;     // body bytes searched, summed over body tests
  std::size_t max_value_bytes = 64 * 1024;  // one header value or body part matched (cut)
  std::size_t max_redirects = 4;
  std::size_t max_actions = 64;  // fileinto, redirect, vacation... kept
  std::size_t max_variables = 128;
  std::size_t max_variable_bytes = 4096;  // a longer value is cut (RFC 5229 section 3)
  int max_include_depth = 5;
  std::size_t max_includes = 16;  // include commands run
  std::size_t max_header_edits = 64;
  std::uint64_t max_vacation_days = 90;  // :days above it is lowered to it
  SieveLimits parse;                     // for included scripts
};

// What the script may read. The message is the raw RFC 5322 bytes with CRLF line ends.
struct Input {
  std::string_view message;
  std::string envelope_from;  // the reverse path without brackets; empty for <>
  std::string envelope_to;    // the recipient this delivery is for
  // The recipient's own addresses (its aliases): vacation's default :addresses.
  std::vector<std::string> recipient_addresses;
  std::optional<int> spam_score;    // RFC 5235: 0 (not tested) or 1..10
  std::optional<int> spam_percent;  // 0..100, for spamtest :percent
  std::optional<int> virus_score;   // 0 (not tested) .. 5 (known virus)
  std::int64_t now = 0;             // Unix seconds, for currentdate
  std::int32_t zone_minutes = 0;    // the recipient's zone, east of UTC
};

enum class IncludeLocation : std::uint8_t { Personal, Global };

struct DuplicateQuery {
  std::string handle;  // :handle, or empty
  std::string id;      // the unique id, or the header value
  std::uint64_t seconds = 0;
  bool last = false;  // RFC 7352 :last: the period counts from the last delivery seen
};

// The outside world, each may be empty: a missing mailbox_exists says none exists, a
// missing fetch_include finds no script, a missing duplicate_seen says "not seen".
struct Callbacks {
  std::function<bool(std::string_view mailbox)> mailbox_exists;
  // The text of the script `name` at `location`, or nullopt when there is none.
  std::function<std::optional<std::string>(IncludeLocation location, std::string_view name)>
      fetch_include;
  std::function<bool(const DuplicateQuery& query)> duplicate_seen;
};

struct Action {
  enum class Kind : std::uint8_t { Keep, Fileinto, Redirect, Reject, Ereject, Discard, Vacation };
  Kind kind = Kind::Keep;
  std::string mailbox;             // Fileinto
  std::vector<std::string> flags;  // Keep, Fileinto: the IMAP flags to set (RFC 5232)
  bool create = false;             // Fileinto :create (RFC 5490)
  bool copy = false;               // Fileinto, Redirect :copy (RFC 3894)
  std::string address;             // Redirect
  std::string reason;              // Reject, Ereject; Vacation: the reply's body
  // Vacation (RFC 5230): the caller applies RFC 3834, sends at most once per `days`
  // per sender and `handle`, and builds the reply.
  std::uint64_t days = 7;
  std::optional<std::string> subject, from;
  std::vector<std::string> addresses;
  bool mime = false;
  std::string handle;  // :handle, or one made of the reason, subject and from
};

struct Outcome {
  std::vector<Action> actions;  // in the order the script took them; the keep included
  bool implicit_keep = true;    // whether the keep in `actions` is the implicit one
  // RFC 5293: the message as delivered by keep, fileinto and redirect, when the script
  // added or deleted header fields; nullopt when it edited nothing.
  std::optional<std::string> edited_message;
  std::vector<DuplicateQuery> duplicates;  // ids to record once the delivery succeeded
  std::optional<std::string> error;        // a run-time error: the actions are the keep
};

Outcome run_script(const Script& script, const Input& input, const Callbacks& callbacks = {},
                   const RunLimits& limits = {});

}  // namespace rampart::sieve
