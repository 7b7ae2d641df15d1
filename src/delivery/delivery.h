// Where accepted mail goes: into local mailboxes, or into the outbound queue for
// remote recipients. The one place a message enters the store from outside (SMTP,
// LMTP, later Sieve redirects and imports). It parses the MIME structure once and
// writes each blob once. Blocking and thread-safe; call it from the blocking pool.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace rampart::audit {
class Trail;
}

namespace rampart::delivery {

// Who hands a message in, for the audit trail's delivery records.
struct Origin {
  std::string protocol;  // "smtp", "lmtp", "jmap", "vacation", "alert"
  std::string actor;     // the account that sent it, or empty (from outside, the system)
  std::string address;   // the client's address, or empty
  std::string detail;    // what the record says first ("ID from <sender>")
};

// A message as the store takes it: its MIME structure parsed once (IMAP and JMAP serve
// ENVELOPE, BODYSTRUCTURE and Email/get from it) and its threading ids. Every way into
// the store (SMTP, IMAP APPEND, JMAP) prepares messages here.
store::NewMessage prepare_message(std::string raw, store::Flags flags = {},
                                  std::int64_t internal_date = 0);

class Delivery {
 public:
  // Does `address` lead to the account (aliases, +tags, catch-alls)? The directory
  // knows; without it only the account's own address counts.
  using Owns = std::function<bool(std::string_view address, store::AccountId account)>;

  // `trail`: where each local delivery is recorded (null: not recorded).
  explicit Delivery(store::Store& store, Owns owns = {}, audit::Trail* trail = nullptr)
      : store_(store), owns_(std::move(owns)), trail_(trail) {}

  // Submission's rule for who a message says wrote it (RFC 5322 §3.6.2; the same for
  // SMTP submission and JMAP EmailSubmission): exactly one From field, at most one
  // Sender field, and every mailbox in them one that leads to `account` (`owns`).
  // BadInput for a missing or repeated field, NoPermission naming the first address
  // the account may not use.
  Result<void> check_authors(std::string_view message, store::AccountId account);

  // Is `domain` (any case) one we accept mail for?
  Result<bool> is_local_domain(std::string_view domain);

  // Has the account reached its storage quota? SMTP then refuses the recipient
  // ("mailbox full") rather than failing the message for every recipient at DATA.
  Result<bool> is_full(const store::Account& account);

  // Delivers `message` to the INBOX of each account (duplicates delivered once) in one
  // commit. Returns once the message is durable in every one of them, or fails whole;
  // each delivery is then recorded in the audit trail as coming from `origin`. Then
  // each account with a vacation reply on answers `envelope_sender` (RFC 3834: once a
  // week per sender, only when one of the account's addresses is in To, Cc or Bcc,
  // never to lists or automatic mail; from the null sender).
  Result<std::vector<store::Appended>> deliver_local(std::string message,
                                                     const std::vector<store::AccountId>& accounts,
                                                     const Origin& origin,
                                                     std::string_view envelope_sender = {});

  // Puts `message` in the outbound queue for `entry.recipients`; durable on return.
  Result<store::QueueEntry> enqueue(std::string message, const store::QueueEntry& entry);

 private:
  void answer_vacation(store::AccountId account, std::string_view envelope_sender,
                       std::string_view header);

  store::Store& store_;
  Owns owns_;
  audit::Trail* trail_;
};

}  // namespace rampart::delivery
