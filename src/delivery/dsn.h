// Delivery status notifications (RFC 3464, RFC 3461): the report a sender gets when a
// message could not be delivered, is delayed, or (when asked with NOTIFY=SUCCESS) was
// delivered. A multipart/report of a human-readable text, the machine-readable
// message/delivery-status, and the original message (or its header, for RET=HDRS).
// Addresses beyond ASCII make it message/global-delivery-status (RFC 6533). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rampart::delivery {

struct DsnRecipient {
  enum class Action { Failed, Delayed, Delivered };
  std::string address;  // the final recipient
  std::string orcpt;    // ORCPT= as the client gave it ("rfc822;a@b"), or empty
  Action action = Action::Failed;
  std::string status;      // RFC 3463 code: "5.1.1"
  std::string remote_mta;  // the host that answered, or empty
  std::string diagnostic;  // its reply: "550 5.1.1 No such user", or empty
};

struct Dsn {
  std::string reporting_mta;  // this server's host name
  std::string to;             // the envelope sender it goes to (never empty)
  std::string envid;          // ENVID=, or empty
  std::int64_t arrival = 0;   // when the message was queued (Unix seconds)
  std::int64_t now = 0;
  std::int64_t retry_until = 0;  // for Delayed: when we give up
  bool headers_only = false;     // RET=HDRS: the header, not the whole message
  std::vector<DsnRecipient> recipients;
};

// The whole report, to be sent from the null sender (so that nothing bounces it
// back). `original` is the message as it was queued.
std::string make_dsn(const Dsn& dsn, std::string_view original);

}  // namespace rampart::delivery
