#include <iterator>
#include <string>

#include "store/sqlite/schema_internal.h"

namespace rampart::store::sqlite {
namespace {

// kMigrations[i] takes the schema from version i to i + 1. Append, never edit: a
// database in the field may stand at any earlier version.
//
// AUTOINCREMENT on ids that clients see (JMAP ids, IMAP mailbox ids): SQLite would
// otherwise reuse the largest id after its row is deleted.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE store_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_uidvalidity INTEGER NOT NULL
);
INSERT INTO store_state (id, last_uidvalidity) VALUES (1, 0);

CREATE TABLE domains (
  name TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  address TEXT NOT NULL UNIQUE,
  domain TEXT NOT NULL REFERENCES domains (name),
  password_hash TEXT NOT NULL,
  created INTEGER NOT NULL,
  modseq INTEGER NOT NULL DEFAULT 0,
  -- changes_since(since < changes_floor) is TooBig: the log below it was pruned.
  changes_floor INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_by_domain ON accounts (domain);

CREATE TABLE aliases (
  address TEXT PRIMARY KEY,
  domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
  target TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX aliases_by_domain ON aliases (domain);

CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role INTEGER NOT NULL,
  subscribed INTEGER NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL,
  highest_modseq INTEGER NOT NULL,
  message_count INTEGER NOT NULL DEFAULT 0,
  unseen_count INTEGER NOT NULL DEFAULT 0,
  total_size INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account, name)
);
CREATE UNIQUE INDEX mailboxes_by_role ON mailboxes (account, role) WHERE role != 0;

-- One row per distinct message content; the file is blobs/<id[0:2]>/<id[2:]>.
-- A row exists only while its file is durable.
CREATE TABLE blobs (
  id TEXT PRIMARY KEY,
  structure BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  mailbox INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  flags TEXT NOT NULL,  -- sorted, space-separated
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  UNIQUE (mailbox, uid)
);
CREATE INDEX messages_by_blob ON messages (blob_id);

-- mailbox and message are plain numbers: the log outlives what it describes.
CREATE TABLE changes (
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  modseq INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  mailbox INTEGER NOT NULL,
  message INTEGER NOT NULL,
  uid INTEGER NOT NULL
);
CREATE INDEX changes_by_modseq ON changes (account, modseq);
)sql",
    R"sql(
CREATE TABLE queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
  sender TEXT NOT NULL,
  ret TEXT NOT NULL,
  envid TEXT NOT NULL,
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  size INTEGER NOT NULL,
  queued_at INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX queue_by_blob ON queue (blob_id);
CREATE INDEX queue_by_next_attempt ON queue (next_attempt);

CREATE TABLE queue_recipients (
  queue INTEGER NOT NULL REFERENCES queue (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  address TEXT NOT NULL,
  notify TEXT NOT NULL,
  orcpt TEXT NOT NULL,
  PRIMARY KEY (queue, position)
) WITHOUT ROWID;
)sql",
    // v3: what changed in one mailbox since a MODSEQ (IMAP updates, QRESYNC).
    R"sql(
CREATE INDEX messages_by_modseq ON messages (mailbox, modseq);
CREATE INDEX changes_by_mailbox ON changes (mailbox, modseq);
)sql",
    // v4: per-account storage quotas (IMAP QUOTA, SMTP "mailbox full").
    R"sql(
ALTER TABLE accounts ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0;
)sql",
    // v5: app passwords, one per device, revocable.
    R"sql(
CREATE TABLE app_passwords (
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,  -- SHA-256 of a random secret of 120 bits
  created INTEGER NOT NULL,
  PRIMARY KEY (account, name)
) WITHOUT ROWID;
CREATE INDEX app_passwords_by_hash ON app_passwords (account, secret_hash);
)sql",
    // v6: threads (JMAP threadId), and moves that keep a message's id.
    R"sql(
ALTER TABLE messages ADD COLUMN thread INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET thread = id;
CREATE INDEX messages_by_thread ON messages (thread);
ALTER TABLE changes ADD COLUMN thread INTEGER NOT NULL DEFAULT 0;
-- Message-IDs seen in an account, and the thread each belongs to. Kept after their
-- messages go, so a late reply still finds its conversation.
CREATE TABLE thread_keys (
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  message_id TEXT NOT NULL,
  thread INTEGER NOT NULL,
  PRIMARY KEY (account, message_id)
) WITHOUT ROWID;
)sql",
    // v7: JMAP uploads.
    R"sql(
CREATE TABLE uploads (
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (account, blob_id)
) WITHOUT ROWID;
CREATE INDEX uploads_by_blob ON uploads (blob_id);
CREATE INDEX uploads_by_created ON uploads (account, created);
)sql",
    // v8: small per-account records (JMAP Identity, EmailSubmission).
    R"sql(
CREATE TABLE objects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  destroyed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX objects_by_type ON objects (account, type, modseq);
)sql",
    // v9: app passwords as bearer tokens, found by their hash alone.
    R"sql(
CREATE INDEX app_passwords_by_secret ON app_passwords (secret_hash);
)sql",
    // v10: subscriptions to names no mailbox has (IMAP SUBSCRIBE may name one, and
    // deleting a subscribed mailbox leaves its name subscribed, RFC 3501 §6.3.6). A
    // mailbox's own subscription is its `subscribed` column; a row here is adopted by
    // the mailbox created under its name.
    R"sql(
CREATE TABLE orphan_subscriptions (
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  PRIMARY KEY (account, name)
) WITHOUT ROWID;
)sql",
    // v11: each blob's size with CRLF line ends (mime::crlf_size), what POP3 counts.
    // NULL for blobs written before: computed from the file when first asked for.
    R"sql(
ALTER TABLE blobs ADD COLUMN crlf_size INTEGER;
)sql",
    // v12: the outbound queue's held entries, and each recipient's state and last
    // reply (QueuedRecipient::State).
    R"sql(
ALTER TABLE queue ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_recipients ADD COLUMN state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_recipients ADD COLUMN reply TEXT NOT NULL DEFAULT '';
)sql",
    // v13: whether a queue entry's sender was told it is late (a delay DSN); the host,
    // address and TLS of each recipient's last attempt, and whether its outcome was
    // reported to the sender.
    R"sql(
ALTER TABLE queue ADD COLUMN delay_reported INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_recipients ADD COLUMN via TEXT NOT NULL DEFAULT '';
ALTER TABLE queue_recipients ADD COLUMN reported INTEGER NOT NULL DEFAULT 0;
)sql",
    // v14: SMTP TLS reporting (RFC 8460): session counts per reporting period,
    // destination domain, policy and outcome, kept until reported (TlsResult).
    R"sql(
CREATE TABLE tls_results (
  period INTEGER NOT NULL,
  domain TEXT NOT NULL,
  policy_type TEXT NOT NULL,
  policy TEXT NOT NULL,
  result_type TEXT NOT NULL,
  mx_host TEXT NOT NULL,
  receiving_ip TEXT NOT NULL,
  info TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (period, domain, policy_type, result_type, mx_host, receiving_ip, info)
) WITHOUT ROWID;
)sql",
    // v15: the bytes of a small blob (up to kInlineBlobMax) in its row; NULL: in its
    // file under blobs/, as every blob was before.
    R"sql(
ALTER TABLE blobs ADD COLUMN content BLOB;
)sql",
    // v16: calendars and address books (store/dav_store.h): collections of an account,
    // and the iCalendar and vCard objects in them with the fields queries need; a
    // deleted object stays as a tombstone (data NULL) for sync-collection.
    R"sql(
CREATE TABLE dav_collections (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind INTEGER NOT NULL,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  color TEXT NOT NULL DEFAULT '',
  components TEXT NOT NULL DEFAULT '',
  timezone TEXT NOT NULL DEFAULT '',
  properties TEXT NOT NULL DEFAULT '',
  modseq INTEGER NOT NULL,
  sync_floor INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account, kind, name)
);

CREATE TABLE dav_objects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  collection INTEGER NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  uid TEXT NOT NULL,
  etag TEXT NOT NULL,
  data TEXT,
  size INTEGER NOT NULL,
  component INTEGER NOT NULL,
  first_start INTEGER NOT NULL,
  last_end INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  UNIQUE (collection, name)
);
CREATE INDEX dav_objects_by_uid ON dav_objects (collection, uid);
CREATE INDEX dav_objects_by_modseq ON dav_objects (collection, modseq);
)sql",
};

}  // namespace

Result<void> migrate(Connection& connection) {
  try {
    int version = 0;
    {
      Query query(connection, "PRAGMA user_version");
      if (query.next()) version = query.get<int>(0);
    }
    const int newest = static_cast<int>(std::size(kMigrations));
    if (version > newest) {
      return fail(Errc::Internal, "database schema version " + std::to_string(version) +
                                      " is newer than this program's " + std::to_string(newest));
    }
    for (; version < newest; ++version) {
      connection.execute_script("BEGIN IMMEDIATE");
      try {
        connection.execute_script(kMigrations[version]);
        connection.execute_script(("PRAGMA user_version = " + std::to_string(version + 1)).c_str());
        connection.execute_script("COMMIT");
      } catch (const Failure&) {
        if (connection.in_transaction()) connection.execute_script("ROLLBACK");
        throw;
      }
    }
  } catch (const Failure& failure) {
    return tl::unexpected(to_error(failure));
  }
  return {};
}

}  // namespace rampart::store::sqlite
