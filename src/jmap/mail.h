// JMAP Mail (RFC 8621) over the store: Mailbox, Thread, Email and SearchSnippet. IMAP
// and JMAP read and write the same rows, and every JMAP state is the account's MODSEQ,
// so /changes reads the same change log as IMAP CONDSTORE/QRESYNC.
//
// An Email is one stored message and is in exactly one mailbox (the session says
// maxMailboxesPerEmail 1): setting mailboxIds to another mailbox moves the message,
// keeping its id; IMAP COPY makes a new Email. Keywords are the IMAP flags ($seen is
// \Seen, ...); \Deleted has no keyword.
#pragma once

#include "jmap/api.h"

namespace rampart::store {
class Store;
}

namespace rampart::jmap {

inline constexpr char kMailCapability[] = "urn:ietf:params:jmap:mail";

void add_mail_methods(Dispatcher& dispatcher, store::Store& store);

}  // namespace rampart::jmap
