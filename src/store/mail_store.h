// The mail role of the store: mailboxes, messages, flags, UIDs, MODSEQs, threads and
// the change log, with the change bus that wakes IMAP IDLE and JMAP push. Blocking,
// thread-safe and durable on return, like every role (src/store/store.h).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "store/types.h"

namespace rampart::store {

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

// One copy of a message for one mailbox; several targets share one blob (an SMTP
// message for several local recipients).
struct DeliveryTarget {
  AccountId account = 0;
  MailboxId mailbox = 0;
  // The flags this copy gets instead of the message's (a Sieve script's imap4flags);
  // any that is not a valid flag or keyword is left out.
  std::optional<Flags> flags;
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
  std::vector<MessageMeta> changed;    // new state of each changed message
  std::vector<MessageMeta> unchanged;  // already so: their state, read in the same commit
  std::vector<Uid> conflicts;
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

class MailStore {
 public:
  virtual ~MailStore() = default;

  // Mailboxes. Names are validated here (non-empty levels, no NUL or control
  // characters, bounded length); parents are created as needed. An account holds at
  // most kMaxMailboxes (a create past it is TooBig).
  virtual Result<std::vector<Mailbox>> list_mailboxes(AccountId account) = 0;
  virtual Result<Mailbox> find_mailbox(AccountId account, std::string_view name) = 0;
  virtual Result<Mailbox> create_mailbox(AccountId account, std::string_view name,
                                         Role role = Role::None) = 0;
  // Renames the mailbox and its children. Renaming INBOX is refused (BadInput).
  virtual Result<void> rename_mailbox(MailboxId id, std::string_view new_name) = 0;
  // Deletes the mailbox and its messages (not its children).
  virtual Result<void> delete_mailbox(MailboxId id) = 0;
  virtual Result<void> set_subscribed(MailboxId id, bool subscribed) = 0;
  // IMAP SUBSCRIBE/UNSUBSCRIBE by name: the mailbox's subscription when it exists,
  // else a subscription to a name no mailbox has (kept also when a subscribed mailbox
  // is deleted, RFC 3501 §6.3.6, and taken over by a mailbox created under the name).
  // Unsubscribing a name with neither is NotFound; an account holds at most
  // kMaxOrphanSubscriptions names without a mailbox (then TooBig).
  virtual Result<void> subscribe_name(AccountId account, std::string_view name,
                                      bool subscribed) = 0;
  // The subscribed names no mailbox has, sorted.
  virtual Result<std::vector<std::string>> orphan_subscriptions(AccountId account) = 0;
  static constexpr std::size_t kMaxOrphanSubscriptions = 1000;
  static constexpr std::size_t kMaxMailboxes = 10000;

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
  // The mailbox's messages with these UIDs, ascending; absent UIDs are skipped.
  virtual Result<std::vector<MessageMeta>> get_messages(MailboxId mailbox,
                                                        const std::vector<Uid>& uids) = 0;
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

  // Changes after `since` for one account. NotFound-free: an empty set when nothing
  // changed. TryLater never; Errc::TooBig if `since` is older than the retained log
  // (JMAP cannotCalculateChanges; IMAP falls back to a full resync).
  virtual Result<ChangeSet> changes_since(AccountId account, ModSeq since) = 0;

  virtual ChangeBus& change_bus() = 0;
};

}  // namespace rampart::store
