// What the embedded store's role files share: the SELECT lists, turning rows into
// values, and the reads and writes several roles make (mailboxes, messages, quota).
// Writes take the committer's Transaction and run on its thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/sqlite/committer_internal.h"
#include "store/sqlite/connection_internal.h"
#include "store/store.h"

namespace rampart::store::sqlite {

constexpr std::string_view kSelectAccount =
    "SELECT id, address, password_hash, created, modseq, quota_bytes FROM accounts ";

constexpr std::string_view kSelectMailbox =
    "SELECT id, account, name, role, subscribed, uidvalidity, uidnext, highest_modseq, "
    "message_count, unseen_count, total_size FROM mailboxes ";

constexpr std::string_view kSelectMessage =
    "SELECT id, mailbox, uid, modseq, flags, internal_date, size, blob_id, thread FROM messages ";

std::string sql(std::string_view select, std::string_view rest);

Account account_from(const Query& row);

Mailbox mailbox_from(const Query& row);

MessageMeta message_from(const Query& row);

Result<Account> load_account(Connection& connection, AccountId id);

Result<Mailbox> load_mailbox(Connection& connection, MailboxId id);

bool mailbox_exists(Connection& connection, AccountId account, std::string_view name);

// The mailbox's messages with the given UIDs, ascending; absent UIDs are skipped.
std::vector<MessageMeta> load_messages(Connection& connection, MailboxId mailbox,
                                       std::vector<Uid> uids);

bool is_seen(const Flags& flags);

Flags apply(FlagOperation operation, const Flags& current, const Flags& given);

// ---- writes, on the committer thread ----

MailboxId insert_mailbox(Transaction& transaction, AccountId account, std::string_view name,
                         Role role, bool subscribed);

void create_parents(Transaction& transaction, AccountId account, std::string_view name);

// `name` is normalized.
Result<Mailbox> create_mailbox_in(Transaction& transaction, AccountId account,
                                  std::string_view name, Role role, bool subscribed);

Usage load_usage(Connection& connection, AccountId account);

// OverQuota when `adding` more bytes would take the mailbox's account past its quota.
Result<void> check_quota(Connection& connection, MailboxId mailbox, std::uint64_t adding);

// The stored description of a new message, before it has an id, mailbox or UID.
Result<MessageMeta> meta_of(const NewMessage& message);

// The thread a new message of `account` joins: that of the first of its ids the account
// knows (a parent, or its own id named by a reply that came first), else its own new
// thread `fresh`. Its ids then lead to that thread.
ThreadId assign_thread(Connection& connection, AccountId account, const NewMessage& message,
                       ThreadId fresh);

// Adds a message like `source` (flags, date, size, blob, thread) to target.mailbox with
// the next UID. target.account 0 means whichever account owns the mailbox. `threading`:
// a new message's ids, from which its thread is found; without it the copy keeps the
// source's thread, or starts its own in another account.
Result<Appended> insert_message(Transaction& transaction, const DeliveryTarget& target,
                                const MessageMeta& source, const NewMessage* threading = nullptr);

void remove_message(Transaction& transaction, AccountId account, const MessageMeta& message);

// Moves a message to another mailbox of its account, keeping its id: the next UID
// there, a new MODSEQ, the counts of both mailboxes adjusted.
Result<Appended> relocate_message(Transaction& transaction, AccountId account,
                                  const MessageMeta& message, MailboxId to);

// The account's messages whose `column` (id or thread) is one of `values`, ascending id.
std::vector<MessageMeta> select_in(Connection& connection, AccountId account,
                                   std::string_view column, std::vector<std::int64_t> values);

}  // namespace rampart::store::sqlite
