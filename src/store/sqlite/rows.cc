#include <algorithm>

#include "base/address.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "store/names_internal.h"
#include "store/sqlite/rows_internal.h"

namespace rampart::store::sqlite {

std::string sql(std::string_view select, std::string_view rest) {
  return std::string(select) + std::string(rest);
}

Account account_from(const Query& row) {
  return {.id = row.get<AccountId>(0),
          .address = row.get<std::string>(1),
          .password_hash = row.get<std::string>(2),
          .created = row.get<std::int64_t>(3),
          .modseq = row.get<ModSeq>(4),
          .quota_bytes = row.get<std::uint64_t>(5)};
}

Mailbox mailbox_from(const Query& row) {
  return {.id = row.get<MailboxId>(0),
          .account = row.get<AccountId>(1),
          .name = row.get<std::string>(2),
          .role = static_cast<Role>(row.get<int>(3)),
          .subscribed = row.get<bool>(4),
          .uidvalidity = row.get<std::uint32_t>(5),
          .uidnext = row.get<Uid>(6),
          .highest_modseq = row.get<ModSeq>(7),
          .message_count = row.get<std::uint32_t>(8),
          .unseen_count = row.get<std::uint32_t>(9),
          .total_size = row.get<std::uint64_t>(10)};
}

MessageMeta message_from(const Query& row) {
  return {.id = row.get<MessageId>(0),
          .mailbox = row.get<MailboxId>(1),
          .uid = row.get<Uid>(2),
          .modseq = row.get<ModSeq>(3),
          .flags = split_flags(row.get<std::string>(4)),
          .internal_date = row.get<std::int64_t>(5),
          .size = row.get<std::uint64_t>(6),
          .blob_id = row.get<std::string>(7),
          .thread = row.get<ThreadId>(8)};
}

Result<Account> load_account(Connection& connection, AccountId id) {
  Query query(connection, sql(kSelectAccount, "WHERE id = ?"), id);
  if (!query.next()) return fail(Errc::NotFound, "no such account");
  return account_from(query);
}

Result<Mailbox> load_mailbox(Connection& connection, MailboxId id) {
  Query query(connection, sql(kSelectMailbox, "WHERE id = ?"), id);
  if (!query.next()) return fail(Errc::NotFound, "no such mailbox");
  return mailbox_from(query);
}

bool mailbox_exists(Connection& connection, AccountId account, std::string_view name) {
  return Query(connection, "SELECT 1 FROM mailboxes WHERE account = ? AND name = ?", account, name)
      .next();
}

std::vector<MessageMeta> load_messages(Connection& connection, MailboxId mailbox,
                                       std::vector<Uid> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  std::vector<MessageMeta> messages;
  if (uids.size() <= 16) {
    for (Uid uid : uids) {
      Query query(connection, sql(kSelectMessage, "WHERE mailbox = ? AND uid = ?"), mailbox, uid);
      if (query.next()) messages.push_back(message_from(query));
    }
    return messages;
  }
  // Many UIDs (FETCH 1:*): one range scan beats a lookup per UID.
  Query query(connection,
              sql(kSelectMessage, "WHERE mailbox = ? AND uid BETWEEN ? AND ? ORDER BY uid"),
              mailbox, uids.front(), uids.back());
  while (query.next()) {
    if (std::binary_search(uids.begin(), uids.end(), query.get<Uid>(2))) {
      messages.push_back(message_from(query));
    }
  }
  return messages;
}

bool is_seen(const Flags& flags) {
  return std::binary_search(flags.begin(), flags.end(), "\\Seen");
}

Flags apply(FlagOperation operation, const Flags& current, const Flags& given) {
  Flags out;
  switch (operation) {
    case FlagOperation::Add:
      std::set_union(current.begin(), current.end(), given.begin(), given.end(),
                     std::back_inserter(out));
      break;
    case FlagOperation::Remove:
      std::set_difference(current.begin(), current.end(), given.begin(), given.end(),
                          std::back_inserter(out));
      break;
    case FlagOperation::Replace:
      out = given;
      break;
  }
  return out;
}

MailboxId insert_mailbox(Transaction& transaction, AccountId account, std::string_view name,
                         Role role, bool subscribed) {
  Connection& connection = transaction.connection();
  // Time-based (RFC 3501 §2.3.1.1 suggests it) yet strictly increasing across the
  // store, so a mailbox re-created under an old name never repeats a UIDVALIDITY.
  Query uidvalidity(connection,
                    "UPDATE store_state SET last_uidvalidity = max(last_uidvalidity + 1, ?) "
                    "RETURNING last_uidvalidity",
                    unix_seconds());
  uidvalidity.next();
  const ModSeq modseq = transaction.modseq(account);
  // A name left subscribed without a mailbox: the new mailbox takes the subscription.
  Query adopt(connection,
              "DELETE FROM orphan_subscriptions WHERE account = ? AND name = ? RETURNING 1",
              account, name);
  if (adopt.next()) subscribed = true;
  Query insert(connection,
               "INSERT INTO mailboxes (account, name, role, subscribed, uidvalidity, uidnext, "
               "highest_modseq) VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING id",
               account, name, static_cast<int>(role), subscribed, uidvalidity.get<std::uint32_t>(0),
               modseq);
  insert.next();
  const auto id = insert.get<MailboxId>(0);
  transaction.record(account, ChangeKind::MailboxCreated, id);
  return id;
}

void create_parents(Transaction& transaction, AccountId account, std::string_view name) {
  for (const auto& parent : mailbox_parents(name)) {
    if (!mailbox_exists(transaction.connection(), account, parent)) {
      insert_mailbox(transaction, account, parent, Role::None, false);
    }
  }
}

Result<Mailbox> create_mailbox_in(Transaction& transaction, AccountId account,
                                  std::string_view name, Role role, bool subscribed) {
  std::size_t adding = 1;
  for (const auto& parent : mailbox_parents(name)) {
    if (!mailbox_exists(transaction.connection(), account, parent)) ++adding;
  }
  Query count(transaction.connection(), "SELECT count(*) FROM mailboxes WHERE account = ?",
              account);
  count.next();
  if (count.get<std::size_t>(0) + adding > MailStore::kMaxMailboxes) {
    return fail(Errc::TooBig, "too many mailboxes");
  }
  create_parents(transaction, account, name);
  if (mailbox_exists(transaction.connection(), account, name)) {
    return fail(Errc::Exists, "mailbox exists");
  }
  return load_mailbox(transaction.connection(),
                      insert_mailbox(transaction, account, name, role, subscribed));
}

Usage load_usage(Connection& connection, AccountId account) {
  Query query(connection,
              "SELECT coalesce(sum(total_size), 0), coalesce(sum(message_count), 0) "
              "FROM mailboxes WHERE account = ?",
              account);
  query.next();
  // Calendars and address books count against the quota too.
  Query dav(connection,
            "SELECT coalesce(sum(o.size), 0) FROM dav_objects o JOIN dav_collections c ON "
            "c.id = o.collection WHERE c.account = ?",
            account);
  dav.next();
  return {.bytes = query.get<std::uint64_t>(0) + dav.get<std::uint64_t>(0),
          .messages = query.get<std::uint64_t>(1)};
}

Result<void> check_quota(Connection& connection, MailboxId mailbox, std::uint64_t adding) {
  Query owner(connection,
              "SELECT a.id, a.quota_bytes FROM mailboxes m JOIN accounts a ON a.id = m.account "
              "WHERE m.id = ?",
              mailbox);
  if (!owner.next()) return fail(Errc::NotFound, "no such mailbox");
  const auto quota = owner.get<std::uint64_t>(1);
  if (quota == 0) return {};
  if (load_usage(connection, owner.get<AccountId>(0)).bytes + adding > quota) {
    return fail(Errc::OverQuota, "over quota");
  }
  return {};
}

Result<MessageMeta> meta_of(const NewMessage& message) {
  auto flags = normalize_flags(message.flags);
  if (!flags) return tl::unexpected(flags.error());
  return MessageMeta{
      .flags = std::move(*flags),
      .internal_date = message.internal_date ? message.internal_date : unix_seconds(),
      .size = message.raw.size(),
      .blob_id = sha256_hex(message.raw)};
}

ThreadId assign_thread(Connection& connection, AccountId account, const NewMessage& message,
                       ThreadId fresh) {
  std::vector<std::string_view> keys;
  if (!message.message_id.empty()) keys.push_back(message.message_id);
  for (const auto& parent : message.parent_ids) {
    if (!parent.empty()) keys.push_back(parent);
  }
  ThreadId thread = 0;
  for (std::string_view key : keys) {
    Query known(connection, "SELECT thread FROM thread_keys WHERE account = ? AND message_id = ?",
                account, key);
    if (known.next()) {
      thread = known.get<ThreadId>(0);
      break;
    }
  }
  if (thread == 0) thread = fresh;
  for (std::string_view key : keys) {
    Query(connection,
          "INSERT OR IGNORE INTO thread_keys (account, message_id, thread) VALUES (?, ?, ?)",
          account, key, thread)
        .run();
  }
  return thread;
}

Result<Appended> insert_message(Transaction& transaction, const DeliveryTarget& target,
                                const MessageMeta& source, const NewMessage* threading) {
  Connection& connection = transaction.connection();
  AccountId account = 0;
  Uid uid = 0;
  {
    Query mailbox(connection,
                  "UPDATE mailboxes SET uidnext = uidnext + 1, message_count = message_count + 1, "
                  "unseen_count = unseen_count + ?, total_size = total_size + ? WHERE id = ? "
                  "RETURNING account, uidnext - 1",
                  is_seen(source.flags) ? 0 : 1, source.size, target.mailbox);
    if (!mailbox.next()) return fail(Errc::NotFound, "no such mailbox");
    account = mailbox.get<AccountId>(0);
    uid = mailbox.get<Uid>(1);
  }
  if (target.account != 0 && target.account != account) {
    return fail(Errc::NotFound, "mailbox belongs to another account");
  }
  const ModSeq modseq = transaction.modseq(account);
  bool same_account = false;
  if (!threading && source.mailbox != 0) {
    Query owner(connection, "SELECT account FROM mailboxes WHERE id = ?", source.mailbox);
    same_account = owner.next() && owner.get<AccountId>(0) == account;
  }
  Query insert(connection,
               "INSERT INTO messages (mailbox, uid, modseq, flags, internal_date, size, blob_id, "
               "thread) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
               target.mailbox, uid, modseq, join_flags(source.flags), source.internal_date,
               source.size, source.blob_id, same_account ? source.thread : 0);
  insert.next();
  const auto id = insert.get<MessageId>(0);
  ThreadId thread = same_account ? source.thread : id;
  if (threading) thread = assign_thread(connection, account, *threading, id);
  if (!same_account) {
    Query(connection, "UPDATE messages SET thread = ? WHERE id = ?", thread, id).run();
  }
  transaction.record(account, ChangeKind::MessageCreated, target.mailbox, id, uid, thread);
  return Appended{.id = id, .mailbox = target.mailbox, .uid = uid, .modseq = modseq};
}

void remove_message(Transaction& transaction, AccountId account, const MessageMeta& message) {
  Connection& connection = transaction.connection();
  Query(connection, "DELETE FROM messages WHERE id = ?", message.id).run();
  Query(connection,
        "UPDATE mailboxes SET message_count = message_count - 1, "
        "unseen_count = unseen_count - ?, total_size = total_size - ? WHERE id = ?",
        is_seen(message.flags) ? 0 : 1, message.size, message.mailbox)
      .run();
  transaction.record(account, ChangeKind::MessageDestroyed, message.mailbox, message.id,
                     message.uid, message.thread);
  transaction.release_blob(message.blob_id);
}

Result<Appended> relocate_message(Transaction& transaction, AccountId account,
                                  const MessageMeta& message, MailboxId to) {
  Connection& connection = transaction.connection();
  const int unseen = is_seen(message.flags) ? 0 : 1;
  Query target(connection,
               "UPDATE mailboxes SET uidnext = uidnext + 1, message_count = message_count + 1, "
               "unseen_count = unseen_count + ?, total_size = total_size + ? WHERE id = ? "
               "RETURNING uidnext - 1",
               unseen, message.size, to);
  if (!target.next()) return fail(Errc::NotFound, "no such mailbox");
  const auto uid = target.get<Uid>(0);
  Query(connection,
        "UPDATE mailboxes SET message_count = message_count - 1, "
        "unseen_count = unseen_count - ?, total_size = total_size - ? WHERE id = ?",
        unseen, message.size, message.mailbox)
      .run();
  const ModSeq modseq = transaction.modseq(account);
  Query(connection, "UPDATE messages SET mailbox = ?, uid = ?, modseq = ? WHERE id = ?", to, uid,
        modseq, message.id)
      .run();
  transaction.record(account, ChangeKind::MessageMoved, message.mailbox, message.id, message.uid,
                     message.thread);
  transaction.record(account, ChangeKind::MessageUpdated, to, message.id, uid, message.thread);
  return Appended{.id = message.id, .mailbox = to, .uid = uid, .modseq = modseq};
}

std::vector<MessageMeta> select_in(Connection& connection, AccountId account,
                                   std::string_view column, std::vector<std::int64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<MessageMeta> messages;
  const std::string statement =
      sql(kSelectMessage, "WHERE " + std::string(column) +
                              " = ? AND mailbox IN (SELECT id FROM mailboxes WHERE account = ?)");
  for (std::int64_t value : values) {
    Query query(connection, statement, value, account);
    while (query.next()) messages.push_back(message_from(query));
  }
  std::sort(messages.begin(), messages.end(),
            [](const MessageMeta& a, const MessageMeta& b) { return a.id < b.id; });
  return messages;
}

}  // namespace rampart::store::sqlite
