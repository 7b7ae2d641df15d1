// Spam filtering through rspamd (Debian's rspamd) over its HTTP protocol: the message
// POSTed to the normal worker's /checkv2 with the SMTP envelope as request headers
// (IP, Helo, From, Rcpt, Queue-Id, User), the JSON reply read by a pure, fuzzed parser;
// and the controller's /learnspam and /learnham, which teach its Bayes classifier.
// Plain HTTP/1.0 to an address of the configuration only (an IP literal: no DNS on the
// message's path), one connection per request, every exchange within a deadline and
// every reply within kMaxRspamdReply bytes. docs/filtering.md.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/config.h"
#include "base/result.h"

namespace rampart::filter {

// The longest reply read from rspamd (status line, fields and JSON): past it the
// exchange fails, as a reply that cannot be read.
inline constexpr std::size_t kMaxRspamdReply = 1 << 20;

// [filter] rspamd_*: where rspamd's normal worker and controller listen, the
// controller's password (empty: none), how long one exchange may take, the largest
// message scanned, and what a message gets when it is not scanned (rspamd down, slow,
// or the message over max_size): accepted with a header saying so, or 451.
struct RspamdSettings {
  Endpoint scanner;
  std::optional<Endpoint> controller;  // absent: no learning
  std::string password;
  std::chrono::seconds timeout{15};
  std::size_t max_size = 20 << 20;
  bool accept_unscanned = true;
};

// rspamd's actions (its "action" field). Junk stands for "discard" and "quarantine":
// Rampart drops no mail silently, it files it in Junk.
enum class RspamdAction { NoAction, Greylist, AddHeader, RewriteSubject, SoftReject, Reject, Junk };

struct RspamdVerdict {
  enum class Kind { Scanned, Unscanned };
  Kind kind = Kind::Unscanned;
  RspamdAction action = RspamdAction::NoAction;
  double score = 0, required_score = 0;
  std::string subject;  // RewriteSubject: the new Subject, UTF-8 without control characters
  // The symbols that weigh most, "NAME(1.50) OTHER(-0.20)": at most 8, names of
  // [A-Za-z0-9_.-] only, for the header and the log.
  std::string symbols;
  std::string detail;    // Unscanned: why (down, timed out, too big, a reply not understood)
  bool too_big = false;  // Unscanned because the message is over settings.max_size
};

// The name rspamd uses for `action` ("add header"); "junk" for Junk.
std::string_view action_name(RspamdAction action);

// The whole HTTP reply to /checkv2: a status line "HTTP/1.x 200", fields, an empty
// line and the JSON object (Content-Length honoured when sent; no chunked encoding),
// within kMaxRspamdReply. Anything else, a missing or non-finite score, or an unknown
// action is Unscanned, with the reason in `detail` (printable ASCII only).
RspamdVerdict parse_rspamd_reply(std::string_view reply);

// Whether `reply` holds a whole HTTP reply already: its header and as many body bytes as
// its Content-Length says. False without a Content-Length (read until the peer closes).
bool http_reply_complete(std::string_view reply);

// The status code of an HTTP reply's status line, or nullopt when it has none.
std::optional<int> http_status(std::string_view reply);

// What rspamd is told of one message's SMTP transaction.
struct RspamdEnvelope {
  std::string ip;    // the client's address; empty for a Unix socket
  std::string helo;  // its EHLO/HELO name
  std::string mail_from;
  std::vector<std::string> recipients;
  std::string queue_id;  // our message id, in rspamd's log too
  std::string user;      // the account that logged in (submission), else empty
};

// The request head for POST `path` with a body of `body_size` bytes: HTTP/1.0 (the
// connection ends with the reply), the envelope's fields (control characters dropped),
// and the controller's Password when set.
std::string rspamd_request_head(std::string_view path, const RspamdEnvelope& envelope,
                                std::string_view password, std::size_t body_size);

// One line for the log and the audit trail: "add header 6.50/15.00 SYMBOL(5.00) ...",
// or "unscanned (why)".
std::string describe(const RspamdVerdict& verdict);

// The header fields Rampart adds for `verdict` (each ending CRLF): X-Spamd-Result with
// the action, the score over the required score and the symbols, and "X-Spam: Yes"
// for what goes to Junk or has its Subject marked; for an unscanned message, one
// X-Spamd-Result saying why.
std::string spam_header_fields(const RspamdVerdict& verdict);

// Removes from `message` the X-Spamd-Result, X-Spamd-Bar, X-Spam and X-Spam-* fields that
// came with it (a sender must not forge our verdict), and puts `subject`, when not empty,
// in place of its Subject (added when it has none; encoded as RFC 2047 asks). A message
// with nothing to change is left as it is, not copied.
void mark_message(std::string& message, std::string_view subject);

// Sieve's spamtest (RFC 5235 section 3.2) for `verdict`: 1 (tested, clear) up to 10 (as
// sure as the reject threshold), and the percentage of that threshold, 0 to 100.
struct SpamTest {
  int score = 1;
  int percent = 0;
};
SpamTest spam_test(const RspamdVerdict& verdict);

// Scans `fields` (header fields of ours that go on top of the message: the
// Authentication-Results of the sender checks) followed by `message` through rspamd's
// normal worker: Unscanned when it cannot be reached, does not answer within
// settings.timeout (the whole exchange), or answers what parse_rspamd_reply does not
// take. A message over settings.max_size is not sent (Unscanned, `too_big`).
boost::asio::awaitable<RspamdVerdict> check(boost::asio::any_io_executor executor,
                                            const RspamdSettings& settings, RspamdEnvelope envelope,
                                            std::string_view fields, std::string_view message);

// Teaches rspamd's controller (settings.controller) that `message` is spam or ham
// (POST /learnspam, /learnham). The reply's status: 200 learned; 208 rspamd had
// learned it already; others failed. An error when it cannot be reached in time.
boost::asio::awaitable<Result<int>> learn(boost::asio::any_io_executor executor,
                                          const RspamdSettings& settings, bool spam,
                                          std::string_view message);

}  // namespace rampart::filter
