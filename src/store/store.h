// The store: accounts, mailboxes, messages, flags, UIDs, MODSEQs, the change log and
// immutable blobs. One interface, one backend per deployment (embedded SQLite + blob
// files today; PostgreSQL + S3 later). No protocol knowledge lives here.
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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace rampart::store {

using AccountId = std::int64_t;
using MailboxId = std::int64_t;
using MessageId = std::int64_t;
using Uid = std::uint32_t;
using ModSeq = std::uint64_t;
// A conversation: the id of the message that started it (JMAP threadId).
using ThreadId = std::int64_t;

// ---- directory data (policy lives in src/directory) ----

struct Domain {
  std::string name;  // lowercase
};

struct Account {
  AccountId id = 0;
  std::string address;            // lowercase local@domain
  std::string password_hash;      // PHC string ($argon2id$...)
  std::int64_t created = 0;       // Unix seconds
  ModSeq modseq = 0;              // account-wide change counter
  std::uint64_t quota_bytes = 0;  // storage limit over all its mailboxes; 0: none
};

// A password for one device or program, instead of the account's own. The secret is
// random and long, so it is kept as a plain SHA-256 (hex), looked up directly.
struct AppPassword {
  std::string name;  // what the user calls the device: "phone", "laptop mbsync"
  std::string secret_hash;
  std::int64_t created = 0;  // Unix seconds
};

// What an account's mailboxes hold, counted once per message per mailbox.
struct Usage {
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
};

// `address` is local@domain, or @domain for a catch-all; `target` is an address.
struct Alias {
  std::string address;
  std::string target;
};

// ---- mailboxes ----

// RFC 6154 special-use roles (JMAP roles by the same names).
enum class Role { None, Inbox, Drafts, Sent, Trash, Junk, Archive };

struct Mailbox {
  MailboxId id = 0;
  AccountId account = 0;
  std::string name;  // UTF-8, '/' separates levels: "Archive/2026"
  Role role = Role::None;
  bool subscribed = false;
  std::uint32_t uidvalidity = 0;  // fixed at creation, never changes
  Uid uidnext = 1;
  ModSeq highest_modseq = 0;
  std::uint32_t message_count = 0;
  std::uint32_t unseen_count = 0;  // messages without \Seen
  std::uint64_t total_size = 0;    // bytes
};

// Folders a new account gets, with their roles.
inline constexpr std::pair<std::string_view, Role> kDefaultMailboxes[] = {
    {"INBOX", Role::Inbox}, {"Drafts", Role::Drafts}, {"Sent", Role::Sent},
    {"Trash", Role::Trash}, {"Junk", Role::Junk},     {"Archive", Role::Archive}};

// ---- messages ----

// Flags and keywords in one sorted set of strings: system flags keep their backslash
// ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"), keywords are atoms.
using Flags = std::vector<std::string>;

struct NewMessage {
  std::string raw;        // the message bytes exactly as received
  std::string structure;  // mime::encode_structure(mime::parse(raw)), stored opaque
  Flags flags;
  std::int64_t internal_date = 0;  // Unix seconds; 0 = now
  // Threading, without angle brackets: its own Message-ID (may be empty), and the ids
  // it answers (In-Reply-To first, then References from the newest). The message
  // joins the thread of the first of these the account already knows, else starts
  // one; a parent arriving after its reply joins the reply's thread.
  std::string message_id;
  std::vector<std::string> parent_ids;
};

struct MessageMeta {
  MessageId id = 0;
  MailboxId mailbox = 0;
  Uid uid = 0;
  ModSeq modseq = 0;
  Flags flags;
  std::int64_t internal_date = 0;
  std::uint64_t size = 0;
  std::string blob_id;  // content hash
  ThreadId thread = 0;
};

// One copy of a message for one mailbox; several targets share one blob (an SMTP
// message for several local recipients).
struct DeliveryTarget {
  AccountId account = 0;
  MailboxId mailbox = 0;
};

struct Appended {
  MessageId id = 0;
  MailboxId mailbox = 0;
  Uid uid = 0;
  ModSeq modseq = 0;
  Uid source_uid = 0;  // copies and moves: the UID in the source mailbox
};

// A consistent view of one mailbox, read in one transaction.
struct MailboxSnapshot {
  Mailbox mailbox;
  std::vector<MessageMeta> messages;  // ascending UID
};

enum class FlagOperation { Add, Remove, Replace };

struct FlagChange {
  FlagOperation operation = FlagOperation::Add;
  Flags flags;
  // CONDSTORE UNCHANGEDSINCE: messages whose modseq is greater are left alone and
  // reported in FlagResult::conflicts.
  std::optional<ModSeq> unchanged_since;
};

// What changed in one mailbox after a MODSEQ, read in one transaction (IMAP
// NOOP/IDLE updates, CONDSTORE CHANGEDSINCE, QRESYNC).
struct MailboxChanges {
  Mailbox mailbox;                   // its current state
  std::vector<MessageMeta> changed;  // created or changed after `since`: now, ascending UID
  std::vector<Uid> removed;          // expunged after `since`, ascending, each once
};

struct FlagResult {
  std::vector<MessageMeta> changed;  // new state of each changed message
  std::vector<Uid> conflicts;
};

// ---- uploads (JMAP) ----

// Bytes a client uploaded, to be used by a later call (Email/import, attachments).
// Kept for kUploadLifetime, then dropped unless a message now holds the same bytes.
struct Upload {
  std::string blob_id;  // content hash
  std::string type;     // the media type the client gave
  std::uint64_t size = 0;
  std::int64_t created = 0;  // Unix seconds
};
inline constexpr std::int64_t kUploadLifetime = 24 * 3600;

// ---- small per-account records (JMAP Identity, EmailSubmission, ...) ----

// A record the store keeps for a front end without knowing its contents: `data` is
// opaque (JSON for JMAP). Each change takes the account's next MODSEQ, so these
// share the one state with mail; a destroyed record stays as a tombstone so that
// /changes can report it.
struct StoredObject {
  std::int64_t id = 0;  // per store, never reused
  std::string data;     // empty for a tombstone
  ModSeq created = 0;   // the MODSEQ that made it
  ModSeq modseq = 0;    // the MODSEQ of its last change
  bool destroyed = false;
};

// ---- the outbound queue ----

// A message accepted for remote recipients, waiting to be sent (the sender is the
// delivery service's; the store only keeps the queue durable). DSN fields (RFC 3461)
// are kept as the client sent them.
struct QueuedRecipient {
  std::string address;
  std::string notify;  // NOTIFY=, empty if absent
  std::string orcpt;   // ORCPT=, empty if absent
};

struct QueueEntry {
  std::int64_t id = 0;
  AccountId account = 0;  // who submitted it; 0 if that account is gone
  std::string sender;     // envelope MAIL FROM, empty for <>
  std::string ret;        // RET=FULL|HDRS or empty
  std::string envid;      // ENVID= or empty
  std::vector<QueuedRecipient> recipients;
  std::string blob_id;
  std::uint64_t size = 0;
  std::int64_t queued_at = 0;     // Unix seconds
  std::int64_t next_attempt = 0;  // Unix seconds
  int attempts = 0;
};

// ---- the change log ----

enum class ChangeKind {
  MailboxCreated,
  MailboxUpdated,  // renamed, subscription or counts changed
  MailboxDestroyed,
  MessageCreated,
  MessageUpdated,  // flags changed
  MessageDestroyed,
  // Moved out of this mailbox within its account: gone here (IMAP EXPUNGE/VANISHED),
  // the same message elsewhere (the JMAP Email keeps its id).
  MessageMoved,
};

struct Change {
  ModSeq modseq = 0;
  ChangeKind kind = ChangeKind::MessageCreated;
  MailboxId mailbox = 0;
  MessageId message = 0;  // 0 for mailbox changes
  Uid uid = 0;            // 0 for mailbox changes
  ThreadId thread = 0;    // 0 for mailbox changes
};

struct ChangeSet {
  ModSeq from = 0, to = 0;  // (from, to]
  std::vector<Change> changes;
};

// Published after every committed change. Callbacks run on the committing thread and
// must not block or call back into the store: post to your own executor instead.
struct ChangeEvent {
  AccountId account = 0;
  ModSeq modseq = 0;
  std::vector<MailboxId> mailboxes;  // mailboxes touched
};

class ChangeBus {
 public:
  using Callback = std::function<void(const ChangeEvent&)>;
  class Subscription;  // unsubscribes when destroyed
  virtual ~ChangeBus() = default;
  // Subscribe to one account's changes.
  virtual std::unique_ptr<Subscription> subscribe(AccountId account, Callback callback) = 0;
};

class ChangeBus::Subscription {
 public:
  virtual ~Subscription() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Domains
  virtual Result<void> add_domain(std::string_view name) = 0;
  virtual Result<void> remove_domain(std::string_view name) = 0;  // Exists if accounts remain
  virtual Result<std::vector<Domain>> list_domains() = 0;
  virtual Result<bool> has_domain(std::string_view name) = 0;

  // Accounts. add_account creates the default mailboxes; the domain must exist.
  // remove_account deletes the account's mailboxes, messages, change log and
  // every blob no other account references.
  virtual Result<Account> add_account(std::string_view address, std::string_view password_hash) = 0;
  virtual Result<Account> find_account(std::string_view address) = 0;
  virtual Result<Account> get_account(AccountId id) = 0;
  virtual Result<std::vector<Account>> list_accounts(std::string_view domain = {}) = 0;
  virtual Result<void> set_password_hash(AccountId id, std::string_view password_hash) = 0;
  // APPEND and COPY beyond the quota fail with OverQuota; deliveries are not refused
  // here (SMTP checks at RCPT time, so one full mailbox does not fail a message for
  // every other recipient), so usage may end a message above the limit.
  virtual Result<void> set_quota(AccountId id, std::uint64_t quota_bytes) = 0;
  virtual Result<Usage> usage(AccountId id) = 0;

  // App passwords: Exists if the account already has one by that name; NotFound on
  // remove when it has none. find_app_password answers NotFound for no match.
  virtual Result<void> add_app_password(AccountId id, const AppPassword& password) = 0;
  virtual Result<std::vector<AppPassword>> list_app_passwords(AccountId id) = 0;
  virtual Result<void> remove_app_password(AccountId id, std::string_view name) = 0;
  virtual Result<AppPassword> find_app_password(AccountId id, std::string_view secret_hash) = 0;
  // The account with an app password of this hash, whoever it is (bearer tokens).
  virtual Result<Account> find_app_password_owner(std::string_view secret_hash) = 0;
  virtual Result<void> remove_account(AccountId id) = 0;

  // Aliases
  virtual Result<void> add_alias(std::string_view address, std::string_view target) = 0;
  virtual Result<void> remove_alias(std::string_view address) = 0;
  virtual Result<std::vector<Alias>> list_aliases(std::string_view domain = {}) = 0;
  virtual Result<std::optional<Alias>> find_alias(std::string_view address) = 0;

  // Mailboxes. Names are validated here (non-empty levels, no NUL or control
  // characters, bounded length); parents are created as needed.
  virtual Result<std::vector<Mailbox>> list_mailboxes(AccountId account) = 0;
  virtual Result<Mailbox> find_mailbox(AccountId account, std::string_view name) = 0;
  virtual Result<Mailbox> get_mailbox(MailboxId id) = 0;
  virtual Result<Mailbox> create_mailbox(AccountId account, std::string_view name,
                                         Role role = Role::None) = 0;
  // Renames the mailbox and its children. Renaming INBOX is refused (BadInput).
  virtual Result<void> rename_mailbox(MailboxId id, std::string_view new_name) = 0;
  // Deletes the mailbox and its messages (not its children).
  virtual Result<void> delete_mailbox(MailboxId id) = 0;
  virtual Result<void> set_subscribed(MailboxId id, bool subscribed) = 0;

  // Messages. deliver writes the blob once and adds one message per target in one
  // durable commit; the result is in target order.
  virtual Result<std::vector<Appended>> deliver(const NewMessage& message,
                                                const std::vector<DeliveryTarget>& targets) = 0;
  // Appends all of `messages` in one commit, or none of them (IMAP MULTIAPPEND); the
  // result is in input order with ascending UIDs.
  virtual Result<std::vector<Appended>> append_messages(
      MailboxId mailbox, const std::vector<NewMessage>& messages) = 0;
  Result<Appended> append(MailboxId mailbox, const NewMessage& message) {
    auto appended = append_messages(mailbox, {message});
    if (!appended) return tl::unexpected(appended.error());
    return appended->front();
  }
  virtual Result<MailboxSnapshot> snapshot(MailboxId mailbox) = 0;
  // Changes after `since`; TooBig when the change log no longer reaches back that far
  // (IMAP then compares a full snapshot instead).
  virtual Result<MailboxChanges> mailbox_changes(MailboxId mailbox, ModSeq since) = 0;
  virtual Result<MessageMeta> get_message(MessageId id) = 0;
  // The mailbox's messages with these UIDs, ascending; absent UIDs are skipped.
  virtual Result<std::vector<MessageMeta>> get_messages(MailboxId mailbox,
                                                        const std::vector<Uid>& uids) = 0;
  virtual Result<std::string> read_blob(std::string_view blob_id) = 0;
  virtual Result<std::string> read_structure(MessageId id) = 0;
  // Several structures in one read; the result is in `ids` order, empty for an id that
  // no longer exists.
  virtual Result<std::vector<std::string>> read_structures(const std::vector<MessageId>& ids) = 0;
  // Every message of the account, ascending id (JMAP Email/query).
  virtual Result<std::vector<MessageMeta>> account_messages(AccountId account) = 0;
  // The account's messages whose bytes are blob `blob_id` (what a blob read reveals).
  virtual Result<std::vector<MessageMeta>> blob_messages(AccountId account,
                                                         std::string_view blob_id) = 0;
  // The account's messages with these ids, ascending id; others are skipped.
  virtual Result<std::vector<MessageMeta>> find_messages(AccountId account,
                                                         const std::vector<MessageId>& ids) = 0;
  // The account's messages in these threads, ascending id.
  virtual Result<std::vector<MessageMeta>> thread_messages(
      AccountId account, const std::vector<ThreadId>& threads) = 0;
  virtual Result<FlagResult> change_flags(MailboxId mailbox, const std::vector<Uid>& uids,
                                          const FlagChange& change) = 0;
  // Copies keep flags and internal date and get new UIDs in the target, ascending.
  virtual Result<std::vector<Appended>> copy_messages(MailboxId from, const std::vector<Uid>& uids,
                                                      MailboxId to) = 0;
  // Move = copy + expunge in one transaction. Within one account the messages keep
  // their ids (a MessageMoved change in `from`, MessageUpdated in `to`).
  virtual Result<std::vector<Appended>> move_messages(MailboxId from, const std::vector<Uid>& uids,
                                                      MailboxId to) = 0;
  // Removes the given messages; returns the UIDs actually removed, ascending.
  virtual Result<std::vector<Uid>> expunge(MailboxId mailbox, const std::vector<Uid>& uids) = 0;

  // Uploads. add_upload keeps the bytes durably for the account (again: a new time),
  // dropping the account's uploads past kUploadLifetime; OverQuota when they, with
  // the account's mail, would pass its quota. find_blob says whether the account may
  // read a blob: one of its uploads (with its type), or the bytes of one of its
  // messages (type message/rfc822); NotFound otherwise.
  virtual Result<Upload> add_upload(AccountId account, std::string_view bytes,
                                    std::string_view type) = 0;
  virtual Result<Upload> find_blob(AccountId account, std::string_view blob_id) = 0;

  // Records of `type` ("Identity", "EmailSubmission", ...). put_object creates one
  // (id 0) or replaces one of the account's (NotFound otherwise, or if destroyed);
  // destroy_object leaves a tombstone. list_objects gives the account's live records
  // of the type, and with `since` > 0 also tombstones changed after it, ascending id.
  virtual Result<StoredObject> put_object(AccountId account, std::string_view type, std::int64_t id,
                                          std::string_view data) = 0;
  virtual Result<void> destroy_object(AccountId account, std::string_view type,
                                      std::int64_t id) = 0;
  virtual Result<std::vector<StoredObject>> list_objects(AccountId account, std::string_view type,
                                                         ModSeq since = 0) = 0;

  // The outbound queue. enqueue stores the blob and the entry durably (id, blob_id,
  // size, queued_at and next_attempt are filled in) and returns the stored entry.
  virtual Result<QueueEntry> enqueue(const NewMessage& message, const QueueEntry& entry) = 0;
  virtual Result<std::vector<QueueEntry>> list_queue() = 0;

  // Changes after `since` for one account. NotFound-free: an empty set when nothing
  // changed. TryLater never; Errc::TooBig if `since` is older than the retained log
  // (JMAP cannotCalculateChanges; IMAP falls back to a full resync).
  virtual Result<ChangeSet> changes_since(AccountId account, ModSeq since) = 0;

  virtual ChangeBus& change_bus() = 0;
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
