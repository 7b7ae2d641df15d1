// The embedded store's mailboxes, messages, flags, threads and the change log.
#include <algorithm>

#include "base/clock.h"
#include "base/sha256.h"
#include "store/names_internal.h"
#include "store/sqlite/roles_internal.h"
#include "store/sqlite/rows_internal.h"
#include "store/sqlite/schema_internal.h"

namespace rampart::store::sqlite {

Result<std::vector<Mailbox>> SqliteMailStore::list_mailboxes(AccountId account) {
  return db_.read([&](Connection& connection) -> Result<std::vector<Mailbox>> {
    if (!Query(connection, "SELECT 1 FROM accounts WHERE id = ?", account).next()) {
      return fail(Errc::NotFound, "no such account");
    }
    std::vector<Mailbox> mailboxes;
    Query query(connection, sql(kSelectMailbox, "WHERE account = ? ORDER BY name"), account);
    while (query.next()) mailboxes.push_back(mailbox_from(query));
    return mailboxes;
  });
}

Result<Mailbox> SqliteMailStore::find_mailbox(AccountId account, std::string_view name) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return tl::unexpected(normalized.error());
  return db_.read([&](Connection& connection) -> Result<Mailbox> {
    Query query(connection, sql(kSelectMailbox, "WHERE account = ? AND name = ?"), account,
                *normalized);
    if (!query.next()) return fail(Errc::NotFound, "no such mailbox");
    return mailbox_from(query);
  });
}

Result<Mailbox> SqliteMailStore::create_mailbox(AccountId account, std::string_view name,
                                                Role role) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return tl::unexpected(normalized.error());
  return db_.write([&](Transaction& transaction) {
    return create_mailbox_in(transaction, account, *normalized, role, false);
  });
}

Result<void> SqliteMailStore::rename_mailbox(MailboxId id, std::string_view new_name) {
  auto normalized = normalize_mailbox_name(new_name);
  if (!normalized) return tl::unexpected(normalized.error());
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    auto mailbox = load_mailbox(connection, id);
    if (!mailbox) return tl::unexpected(mailbox.error());
    if (mailbox->name == "INBOX") return fail(Errc::BadInput, "INBOX cannot be renamed");
    if (*normalized == mailbox->name) return {};
    const std::string prefix = mailbox->name + "/";
    if (normalized->starts_with(prefix)) {
      return fail(Errc::BadInput, "a mailbox cannot move under itself");
    }
    std::vector<std::pair<MailboxId, std::string>> renames;
    {
      Query query(connection, "SELECT id, name FROM mailboxes WHERE account = ?", mailbox->account);
      while (query.next()) {
        const auto name = query.get<std::string>(1);
        if (name == mailbox->name || name.starts_with(prefix)) {
          renames.emplace_back(query.get<MailboxId>(0),
                               *normalized + name.substr(mailbox->name.size()));
        }
      }
    }
    // A name already taken fails the UNIQUE constraint: Exists.
    for (const auto& [child, name] : renames) {
      Query(connection, "UPDATE mailboxes SET name = ? WHERE id = ?", name, child).run();
      transaction.record(mailbox->account, ChangeKind::MailboxUpdated, child);
    }
    create_parents(transaction, mailbox->account, *normalized);
    return {};
  });
}

Result<void> SqliteMailStore::delete_mailbox(MailboxId id) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    auto mailbox = load_mailbox(connection, id);
    if (!mailbox) return tl::unexpected(mailbox.error());
    if (mailbox->name == "INBOX") return fail(Errc::BadInput, "INBOX cannot be deleted");
    {
      Query messages(connection, "SELECT id, uid, blob_id, thread FROM messages WHERE mailbox = ?",
                     id);
      while (messages.next()) {
        transaction.record(mailbox->account, ChangeKind::MessageDestroyed, id,
                           messages.get<MessageId>(0), messages.get<Uid>(1),
                           messages.get<ThreadId>(3));
        transaction.release_blob(messages.get<std::string>(2));
      }
    }
    Query(connection, "DELETE FROM messages WHERE mailbox = ?", id).run();
    Query(connection, "DELETE FROM mailboxes WHERE id = ?", id).run();
    if (mailbox->subscribed) {
      // Kept while the account is under its bound of such names (mail_store.h).
      Query(connection,
            "INSERT OR IGNORE INTO orphan_subscriptions (account, name) SELECT ?, ? "
            "WHERE (SELECT count(*) FROM orphan_subscriptions WHERE account = ?) < ?",
            mailbox->account, mailbox->name, mailbox->account,
            static_cast<std::int64_t>(kMaxOrphanSubscriptions))
          .run();
    }
    transaction.record(mailbox->account, ChangeKind::MailboxDestroyed, id);
    return {};
  });
}

Result<void> SqliteMailStore::set_subscribed(MailboxId id, bool subscribed) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    Query update(connection, "UPDATE mailboxes SET subscribed = ? WHERE id = ? RETURNING account",
                 subscribed, id);
    if (!update.next()) return fail(Errc::NotFound, "no such mailbox");
    transaction.record(update.get<AccountId>(0), ChangeKind::MailboxUpdated, id);
    return {};
  });
}

Result<void> SqliteMailStore::subscribe_name(AccountId account, std::string_view given,
                                             bool subscribed) {
  auto normalized = normalize_mailbox_name(given);
  if (!normalized) return tl::unexpected(normalized.error());
  const std::string& name = *normalized;
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    Query update(connection,
                 "UPDATE mailboxes SET subscribed = ? WHERE account = ? AND name = ? RETURNING id",
                 subscribed, account, name);
    if (update.next()) {
      transaction.record(account, ChangeKind::MailboxUpdated, update.get<MailboxId>(0));
      return {};
    }
    if (subscribed) {
      Query count(connection, "SELECT count(*) FROM orphan_subscriptions WHERE account = ?",
                  account);
      count.next();
      if (count.get<std::int64_t>(0) >= static_cast<std::int64_t>(kMaxOrphanSubscriptions)) {
        return fail(Errc::TooBig, "too many subscriptions without a mailbox");
      }
      Query(connection, "INSERT OR IGNORE INTO orphan_subscriptions (account, name) VALUES (?, ?)",
            account, name)
          .run();
      return {};
    }
    Query removed(connection,
                  "DELETE FROM orphan_subscriptions WHERE account = ? AND name = ? RETURNING 1",
                  account, name);
    if (!removed.next()) return fail(Errc::NotFound, "not subscribed");
    return {};
  });
}

Result<std::vector<std::string>> SqliteMailStore::orphan_subscriptions(AccountId account) {
  return db_.read([&](Connection& connection) -> Result<std::vector<std::string>> {
    Query query(connection, "SELECT name FROM orphan_subscriptions WHERE account = ? ORDER BY name",
                account);
    std::vector<std::string> names;
    while (query.next()) names.push_back(query.get<std::string>(0));
    return names;
  });
}

Result<std::vector<Appended>> SqliteMailStore::deliver(const NewMessage& message,
                                                       const std::vector<DeliveryTarget>& targets) {
  return db_.add_message(message, targets);
}

Result<std::vector<Appended>> SqliteMailStore::append_messages(
    MailboxId mailbox, const std::vector<NewMessage>& messages) {
  return db_.add_messages(messages, mailbox);
}

Result<MailboxSnapshot> SqliteMailStore::snapshot(MailboxId id) {
  return db_.read([&](Connection& connection) -> Result<MailboxSnapshot> {
    auto mailbox = load_mailbox(connection, id);
    if (!mailbox) return tl::unexpected(mailbox.error());
    MailboxSnapshot snapshot{.mailbox = std::move(*mailbox), .messages = {}};
    snapshot.messages.reserve(snapshot.mailbox.message_count);
    Query query(connection, sql(kSelectMessage, "WHERE mailbox = ? ORDER BY uid"), id);
    while (query.next()) snapshot.messages.push_back(message_from(query));
    return snapshot;
  });
}

Result<MailboxChanges> SqliteMailStore::mailbox_changes(MailboxId id, ModSeq since) {
  return db_.read([&](Connection& connection) -> Result<MailboxChanges> {
    auto mailbox = load_mailbox(connection, id);
    if (!mailbox) return tl::unexpected(mailbox.error());
    Query floor(connection, "SELECT changes_floor FROM accounts WHERE id = ?", mailbox->account);
    if (!floor.next()) return fail(Errc::NotFound, "no such account");
    if (since < floor.get<ModSeq>(0)) return fail(Errc::TooBig, "change log pruned");
    MailboxChanges changes{.mailbox = std::move(*mailbox), .changed = {}, .removed = {}};
    Query changed(connection, sql(kSelectMessage, "WHERE mailbox = ? AND modseq > ? ORDER BY uid"),
                  id, since);
    while (changed.next()) changes.changed.push_back(message_from(changed));
    Query removed(
        connection,
        "SELECT DISTINCT uid FROM changes WHERE mailbox = ? AND modseq > ? AND kind IN (?, ?) "
        "ORDER BY uid",
        id, since, static_cast<int>(ChangeKind::MessageDestroyed),
        static_cast<int>(ChangeKind::MessageMoved));
    while (removed.next()) changes.removed.push_back(removed.get<Uid>(0));
    return changes;
  });
}

Result<std::vector<MessageMeta>> SqliteMailStore::get_messages(MailboxId mailbox,
                                                               const std::vector<Uid>& uids) {
  return db_.read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
    return load_messages(connection, mailbox, uids);
  });
}

Result<std::string> SqliteMailStore::read_structure(MessageId id) {
  return db_.read([&](Connection& connection) -> Result<std::string> {
    Query query(connection,
                "SELECT b.structure FROM messages m JOIN blobs b ON b.id = m.blob_id "
                "WHERE m.id = ?",
                id);
    if (!query.next()) return fail(Errc::NotFound, "no such message");
    return query.get<std::string>(0);
  });
}

Result<std::vector<std::string>> SqliteMailStore::read_structures(
    const std::vector<MessageId>& ids) {
  return db_.read([&](Connection& connection) -> Result<std::vector<std::string>> {
    std::vector<std::string> structures;
    structures.reserve(ids.size());
    for (MessageId id : ids) {
      Query query(connection,
                  "SELECT b.structure FROM messages m JOIN blobs b ON b.id = m.blob_id "
                  "WHERE m.id = ?",
                  id);
      structures.push_back(query.next() ? query.get<std::string>(0) : std::string());
    }
    return structures;
  });
}

Result<std::vector<MessageMeta>> SqliteMailStore::account_messages(AccountId account) {
  return db_.read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
    std::vector<MessageMeta> messages;
    Query query(connection,
                sql(kSelectMessage,
                    "WHERE mailbox IN (SELECT id FROM mailboxes WHERE account = ?) ORDER BY id"),
                account);
    while (query.next()) messages.push_back(message_from(query));
    return messages;
  });
}

Result<std::vector<MessageMeta>> SqliteMailStore::blob_messages(AccountId account,
                                                                std::string_view blob_id) {
  return db_.read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
    std::vector<MessageMeta> messages;
    Query query(
        connection,
        sql(kSelectMessage,
            "WHERE blob_id = ? AND mailbox IN (SELECT id FROM mailboxes WHERE account = ?)"),
        blob_id, account);
    while (query.next()) messages.push_back(message_from(query));
    return messages;
  });
}

Result<std::vector<MessageMeta>> SqliteMailStore::find_messages(AccountId account,
                                                                const std::vector<MessageId>& ids) {
  return db_.read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
    return select_in(connection, account, "id", ids);
  });
}

Result<std::vector<MessageMeta>> SqliteMailStore::thread_messages(
    AccountId account, const std::vector<ThreadId>& threads) {
  return db_.read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
    return select_in(connection, account, "thread", threads);
  });
}

Result<FlagResult> SqliteMailStore::change_flags(MailboxId mailbox_id, const std::vector<Uid>& uids,
                                                 const FlagChange& change) {
  auto given = normalize_flags(change.flags);
  if (!given) return tl::unexpected(given.error());
  return db_.write([&](Transaction& transaction) -> Result<FlagResult> {
    Connection& connection = transaction.connection();
    auto mailbox = load_mailbox(connection, mailbox_id);
    if (!mailbox) return tl::unexpected(mailbox.error());
    FlagResult result;
    std::int64_t unseen_change = 0;
    for (auto& message : load_messages(connection, mailbox_id, uids)) {
      // RFC 7162 §3.1.3: UNCHANGEDSINCE fails only where the modseq is greater.
      if (change.unchanged_since && message.modseq > *change.unchanged_since) {
        result.conflicts.push_back(message.uid);
        continue;
      }
      Flags updated = apply(change.operation, message.flags, *given);
      if (updated == message.flags) {
        result.unchanged.push_back(std::move(message));
        continue;
      }
      unseen_change += int{is_seen(message.flags)} - int{is_seen(updated)};
      message.flags = std::move(updated);
      message.modseq = transaction.modseq(mailbox->account);
      Query(connection, "UPDATE messages SET flags = ?, modseq = ? WHERE id = ?",
            join_flags(message.flags), message.modseq, message.id)
          .run();
      transaction.record(mailbox->account, ChangeKind::MessageUpdated, mailbox_id, message.id,
                         message.uid, message.thread);
      result.changed.push_back(std::move(message));
    }
    if (unseen_change != 0) {
      Query(connection, "UPDATE mailboxes SET unseen_count = unseen_count + ? WHERE id = ?",
            unseen_change, mailbox_id)
          .run();
    }
    return result;
  });
}

Result<std::vector<Appended>> SqliteMailStore::copy_messages(MailboxId from,
                                                             const std::vector<Uid>& uids,
                                                             MailboxId to) {
  return db_.copy_or_move(from, uids, to, false);
}

Result<std::vector<Appended>> SqliteMailStore::move_messages(MailboxId from,
                                                             const std::vector<Uid>& uids,
                                                             MailboxId to) {
  return db_.copy_or_move(from, uids, to, true);
}

Result<std::vector<Uid>> SqliteMailStore::expunge(MailboxId mailbox_id,
                                                  const std::vector<Uid>& uids) {
  return db_.write([&](Transaction& transaction) -> Result<std::vector<Uid>> {
    Connection& connection = transaction.connection();
    auto mailbox = load_mailbox(connection, mailbox_id);
    if (!mailbox) return tl::unexpected(mailbox.error());
    std::vector<Uid> removed;
    for (const auto& message : load_messages(connection, mailbox_id, uids)) {
      remove_message(transaction, mailbox->account, message);
      removed.push_back(message.uid);
    }
    return removed;
  });
}

Result<ChangeSet> SqliteMailStore::changes_since(AccountId account, ModSeq since) {
  return db_.read([&](Connection& connection) -> Result<ChangeSet> {
    Query state(connection, "SELECT modseq, changes_floor FROM accounts WHERE id = ?", account);
    if (!state.next()) return fail(Errc::NotFound, "no such account");
    ChangeSet set{.from = since, .to = state.get<ModSeq>(0), .changes = {}};
    if (since > set.to) return fail(Errc::BadInput, "modseq from the future");
    if (since < state.get<ModSeq>(1)) return fail(Errc::TooBig, "change log pruned");
    Query query(connection,
                "SELECT modseq, kind, mailbox, message, uid, thread FROM changes "
                "WHERE account = ? AND modseq > ? ORDER BY modseq, rowid",
                account, since);
    while (query.next()) {
      set.changes.push_back({.modseq = query.get<ModSeq>(0),
                             .kind = static_cast<ChangeKind>(query.get<int>(1)),
                             .mailbox = query.get<MailboxId>(2),
                             .message = query.get<MessageId>(3),
                             .uid = query.get<Uid>(4),
                             .thread = query.get<ThreadId>(5)});
    }
    return set;
  });
}

ChangeBus& SqliteMailStore::change_bus() { return db_.bus(); }

}  // namespace rampart::store::sqlite
