// The store: accounts, mailboxes, messages, flags, UIDs, MODSEQs, the change log and
// immutable blobs, in roles a component receives one by one (it takes only what it
// uses: the directory gets DirectoryStore, IMAP never sees the queue):
//
//   DirectoryStore  domains, accounts, app passwords, aliases, quota and usage
//   MailStore       mailboxes, messages, flags, threads, the change log and its bus
//   BlobStore       message bytes by hash, JMAP uploads
//   QueueStore      the outbound queue
//   ObjectStore     small per-account records (JMAP Identity, EmailSubmission, ...)
//   DavStore        calendars and address books, and the objects in them
//   AuditLog        the audit trail's records (store/audit_log.h, a database of its own)
//
// `Store` is all of them over one database. One backend per deployment (embedded
// SQLite + blob files today; PostgreSQL + S3 later, coming in one role at a time).
// No protocol knowledge lives here.
//
// Threading: every method is blocking and thread-safe. Network threads never call it
// directly; front ends hand calls to a blocking pool (net/offload.h). Writes from many
// threads are batched into one transaction and one set of fsyncs (group commit).
//
// Durability: a method that changes data returns only after the change is durable
// (blob files fsync'd and renamed, their directories fsync'd, the transaction
// committed with SQLite synchronous=FULL). A message exists only once both its blob
// and its row are durable; a crash before that leaves no trace a reader can see.
//
// MODSEQ: each account has one counter that every change advances (the JMAP state
// string); a mailbox's highest_modseq is the largest MODSEQ of a change inside it, so
// it is strictly increasing per mailbox too. Every change is recorded in the change
// log, from which IMAP CONDSTORE/QRESYNC and JMAP /changes are served.
//
// Errors: NotFound (no such account/mailbox/message), Exists (name taken), BadInput
// (invalid name), OverQuota (disk full), Internal (I/O or database failure).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "base/result.h"
#include "store/blob_store.h"
#include "store/dav_store.h"
#include "store/directory_store.h"
#include "store/mail_store.h"
#include "store/object_store.h"
#include "store/queue_store.h"

namespace rampart::store {

// Every role over one database. The roles are virtual bases, so one backend may
// implement each in a class of its own.
class Store : public virtual DirectoryStore,
              public virtual MailStore,
              public virtual BlobStore,
              public virtual QueueStore,
              public virtual ObjectStore,
              public virtual DavStore {
 public:
  ~Store() override = default;
};

struct SqliteOptions {
  std::filesystem::path data_dir;  // holds rampart.db and blobs/
  // Upper bound on how many pending writes one commit may carry.
  std::size_t max_batch = 256;
  // Message and upload writes that would leave less free space than this on the data
  // directory's file system fail with OverQuota (a temporary failure to SMTP), and
  // call `on_reserve`, so the database and the audit trail keep room to write.
  std::uint64_t reserve_free_bytes = 0;
  std::function<void()> on_reserve;
};

// Opens (creating if needed) the embedded store. Errors name the file.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

}  // namespace rampart::store
