// Where accepted mail goes: into local mailboxes, or into the outbound queue for
// remote recipients. The one place a message enters the store from outside (SMTP,
// LMTP, later Sieve redirects and imports). It parses the MIME structure once and
// writes each blob once. Blocking and thread-safe; call it from the blocking pool.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "delivery/vacation.h"
#include "store/store.h"

namespace rampart::audit {
class Trail;
}
namespace rampart::directory {
class Directory;
}
namespace rampart::dkim {
class KeyStore;
}

namespace rampart::delivery {

// Who hands a message in, for the audit trail's delivery records.
struct Origin {
  std::string protocol;  // "smtp", "lmtp", "jmap", "vacation", "alert"
  std::string actor;     // the account that sent it, or empty (from outside, the system)
  std::string address;   // the client's address, or empty
  std::string detail;    // what the record says first ("ID from <sender>")
};

// One recipient of a submission.
struct Recipient {
  std::string address;           // as the client gave it
  std::string notify;            // NOTIFY= (RFC 3461), kept with a queued copy for its DSN
  std::string orcpt;             // ORCPT=
  store::AccountId account = 0;  // the local account, when the caller resolved it already
};

// Who a message comes from and goes to (RFC 5321 §2.3.1).
struct Envelope {
  std::string mail_from;  // empty: the null sender <>
  std::vector<Recipient> recipients;
  std::string ret, envid;  // RET= and ENVID= (RFC 3461)
  // Where local recipients get it: INBOX, or Junk for mail the MX's checks put there
  // (INBOX when the account has no such mailbox).
  std::string mailbox = "INBOX";
  // What the MX's filters found, for Sieve's spamtest and virustest (RFC 5235): unset
  // when not tested; spam_score 1..10, spam_percent 0..100, virus_score 1..5.
  std::optional<int> spam_score, spam_percent, virus_score;
  // What the MX's checks found (mailauth/inbound.h): this server's Authentication-Results
  // value (from its authserv-id on; empty: not checked) and whether the ARC chain the
  // message came with validated. An ARC seal records them.
  std::string auth_results;
  bool arc_passed = false;
  // The hosted domain whose key seals the message's ARC set (RFC 8617) when it goes to
  // the queue: set for what an account forwards (a Sieve redirect). Empty: not sealed.
  std::string arc_sealer;
};

// What became of each recipient of a submission.
enum class Outcome {
  Delivered,   // into a local account's INBOX
  Queued,      // into the outbound queue, for another domain
  NoSuchUser,  // a domain of ours with no such account or alias: nothing sent
};

// A message as the store takes it: its MIME structure parsed once (IMAP and JMAP serve
// ENVELOPE, BODYSTRUCTURE and Email/get from it) and its threading ids. Every way into
// the store (SMTP, IMAP APPEND, JMAP) prepares messages here.
store::NewMessage prepare_message(std::string raw, store::Flags flags = {},
                                  std::int64_t internal_date = 0);

// What an account's Sieve script (or, without one, the default) made of one message
// for it: where its copies go and what follows once they are stored (Delivery).
struct Disposition {
  struct Copy {
    std::string mailbox;  // by name; a missing one is INBOX unless `create`
    bool create = false;
    std::optional<store::Flags> flags;  // imap4flags, instead of none
  };
  std::vector<Copy> copies;
  std::optional<std::string> edited;  // editheader: the message the copies and redirects get
  std::vector<std::string> redirects;
  std::optional<std::string> refusal;  // reject/ereject: the reason told to the sender
  std::optional<AutoReply> reply;      // the script's vacation answer to consider (RFC 5230)
  std::vector<std::pair<std::string, std::int64_t>> duplicates;  // ids to remember, until
  std::string summary;  // what the script did, for the log and the audit record
};

class Delivery {
 public:
  // `directory` says where a recipient's mail lands and which addresses an account
  // owns; `trail` is where each local delivery is recorded (null: not recorded);
  // `keys` sign what goes to the outbound queue (null: not signed).
  Delivery(store::Store& store, directory::Directory& directory, audit::Trail* trail = nullptr,
           dkim::KeyStore* keys = nullptr)
      : store_(store), directory_(directory), trail_(trail), keys_(keys) {}

  // The one way a message goes to its recipients, from SMTP, LMTP, JMAP
  // EmailSubmission, vacation replies and alert mail: each recipient is resolved
  // through the directory (unless the caller did); local accounts get the message in
  // their INBOX at once, after a Return-Path (RFC 5321 §4.4) naming the envelope
  // sender, each delivery recorded as coming from `origin`; recipients of other
  // domains go to the outbound queue in one entry submitted by `account` (0: none).
  // Durable on return. The outcomes are in recipient order.
  Result<std::vector<Outcome>> submit(const Envelope& envelope, std::string message,
                                      const Origin& origin, store::AccountId account = 0);

  // Submission's rule for who a message says wrote it (RFC 5322 §3.6.2; the same for
  // SMTP submission and JMAP EmailSubmission): a header section of plain fields (no
  // bare CR, no line that is neither a field nor a continuation), exactly one From
  // field, at most one Sender field, and every mailbox in them and in Resent-From and
  // Resent-Sender one that leads to `account` (Directory::owns).
  // BadInput for a missing or repeated field, NoPermission naming the first address
  // the account may not use.
  Result<void> check_authors(std::string_view message, store::AccountId account);

  // Is `domain` (any case) one we accept mail for?
  Result<bool> is_local_domain(std::string_view domain);

  // Called (on the submitting thread) after each message put in the outbound queue:
  // the delivery service's wake-up.
  void on_queued(std::function<void()> wake) { on_queued_ = std::move(wake); }

  // Has the account reached its storage quota? SMTP then refuses the recipient
  // ("mailbox full") rather than failing the message for every recipient at DATA.
  Result<bool> is_full(const store::Account& account);

 private:
  struct LocalRecipient {
    store::AccountId account = 0;
    std::string address;  // the address it came for (lowercased)
  };
  // Delivers `message` to each account (one copy per account, for its first address)
  // as its Sieve script says (dispose), or to the envelope's mailbox: every copy of the
  // unedited message in one commit, each edited one in its own. Returns once the
  // message is durable where it goes, or fails whole; each delivery is then recorded in
  // the audit trail as coming from `origin`, and the script's other actions follow
  // (follow_up): redirects, refusals, vacation answers.
  Result<void> deliver_local(std::string message, const std::vector<LocalRecipient>& recipients,
                             const Origin& origin, const Envelope& envelope);

  // What the account's active script, run over `message`, does with it; without a
  // script (or when it fails) one copy in the envelope's mailbox. `owner` is the
  // account's address (empty when it could not be read).
  Disposition dispose(const LocalRecipient& recipient, std::string_view owner,
                      const std::string& message, const Envelope& envelope);
  // After the copies are stored: redirects, the refusal's report, the vacation answer
  // (the script's, else the JMAP VacationResponse's when on, for what the script did not
  // refuse or throw away) and the duplicate ids. Best effort: the delivery has
  // succeeded whatever happens.
  void follow_up(const store::Account& owner, const LocalRecipient& recipient,
                 const Disposition& disposition, const std::string& message,
                 const Envelope& envelope);

  // Puts `message` in the outbound queue for `entry.recipients`, DKIM-signed for the
  // domain of its From when that domain is ours and has keys, and ARC-sealed by the
  // envelope's `arc_sealer` when set (arc_seal); durable on return.
  Result<void> enqueue(std::string message, const store::QueueEntry& entry,
                       const Envelope& envelope);
  // The ARC set the envelope's `arc_sealer` adds to a message it forwards (dkim/arc.h),
  // recording the envelope's checks; empty when it has no key or must not seal.
  std::string arc_seal(std::string_view message, const Envelope& envelope);

  void answer(const store::Account& owner, const AutoReply& reply, std::string_view envelope_sender,
              std::string_view header);
  // Sieve redirects an account may make in an hour; past them, a redirect is a keep.
  bool allow_redirect(store::AccountId account);

  store::Store& store_;
  directory::Directory& directory_;
  audit::Trail* trail_;
  dkim::KeyStore* keys_;
  std::function<void()> on_queued_;
  std::mutex redirects_mutex_;
  std::map<store::AccountId, std::vector<std::int64_t>> redirect_times_;  // within the hour
};

}  // namespace rampart::delivery
