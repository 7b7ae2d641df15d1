// JMAP Mail (RFC 8621) over the store: Mailbox, Thread, Email and SearchSnippet. IMAP
// and JMAP read and write the same rows, and every JMAP state is the account's MODSEQ,
// so /changes reads the same change log as IMAP CONDSTORE/QRESYNC.
//
// An Email is one stored message and is in exactly one mailbox (the session says
// maxMailboxesPerEmail 1): setting mailboxIds to another mailbox moves the message,
// keeping its id; IMAP COPY makes a new Email. Keywords are the IMAP flags ($seen is
// \Seen, ...); \Deleted has no keyword.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "jmap/api.h"
#include "jmap/compose.h"

namespace rampart::store {
class Store;
}
namespace rampart::directory {
class Directory;
}
namespace rampart::delivery {
class Delivery;
}
namespace rampart::filter {
class Learner;
}

namespace rampart::jmap {

inline constexpr char kMailCapability[] = "urn:ietf:params:jmap:mail";
inline constexpr char kSubmissionCapability[] = "urn:ietf:params:jmap:submission";
inline constexpr char kVacationCapability[] = "urn:ietf:params:jmap:vacationresponse";

// `hostname` names the server in the Message-IDs it makes; `learner` (null: none) is
// told of Emails moved into or out of Junk (filter/learning.h).
void add_mail_methods(Dispatcher& dispatcher, store::Store& store, std::string hostname,
                      filter::Learner* learner = nullptr);

// VacationResponse/get and /set (§8) keep the setting delivery/vacation.h answers
// with; Identity/* and EmailSubmission/* (RFC 8621 §6-7): identities are addresses the
// directory says the account owns; a submission checks that every From address is
// the account's too, then delivers to local recipients at once and queues the rest
// (without Bcc), as SMTP submission does. Sending is final (maxDelayedSend 0).
void add_submission_methods(Dispatcher& dispatcher, store::Store& store,
                            directory::Directory& directory, delivery::Delivery& delivery);

// A blob the account may read (RFC 8620 §6): "B<sha256>" is an upload of its own or one
// of its messages, "B<sha256>_<part>" a part of one of its messages (transfer
// encoding undone); nullopt for anything else. Uploads and downloads use it too.
std::optional<Blob> read_account_blob(store::Store& store, std::int64_t account,
                                      std::string_view blob_id);

// Records a read of blob `blob_id` (one read_account_blob gave) in the audit trail
// through `context.audit`, as a read of the messages it is or is part of (counted
// toward the bulk-download alert), or of an upload; `what` says how ("download").
void audit_blob_read(store::Store& store, const Context& context, std::string_view what,
                     std::string_view blob_id);

// Keeps an upload (RFC 8620 §6.1) and answers it: {"accountId", "blobId", "type",
// "size"}, or the store's error (OverQuota past the account's quota; its detail is
// for the log, never for the client).
Result<json::object> upload(store::Store& store, std::int64_t account,
                            const std::string& account_id, std::string_view bytes,
                            std::string_view type);

}  // namespace rampart::jmap
