// The embedded store's the outbound queue.
#include <algorithm>

#include "base/clock.h"
#include "base/sha256.h"
#include "store/names_internal.h"
#include "store/sqlite/roles_internal.h"
#include "store/sqlite/rows_internal.h"
#include "store/sqlite/schema_internal.h"

namespace rampart::store::sqlite {

Result<QueueEntry> SqliteQueueStore::enqueue(const NewMessage& message, const QueueEntry& entry) {
  if (entry.recipients.empty()) return fail(Errc::BadInput, "no recipients");
  QueueEntry stored = entry;
  stored.blob_id = sha256_hex(message.raw);
  stored.size = message.raw.size();
  stored.queued_at = unix_seconds();
  stored.next_attempt = stored.queued_at;
  stored.attempts = 0;
  return db_.write_with_blob(
      message, stored.blob_id, [&](Transaction& transaction) -> Result<QueueEntry> {
        Connection& connection = transaction.connection();
        Query insert(connection,
                     "INSERT INTO queue (account, sender, ret, envid, blob_id, size, queued_at, "
                     "next_attempt) VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     stored.account, stored.sender, stored.ret, stored.envid, stored.blob_id,
                     stored.size, stored.queued_at, stored.next_attempt);
        insert.next();
        stored.id = insert.get<std::int64_t>(0);
        for (std::size_t i = 0; i < stored.recipients.size(); ++i) {
          const QueuedRecipient& recipient = stored.recipients[i];
          Query(connection,
                "INSERT INTO queue_recipients (queue, position, address, notify, orcpt) "
                "VALUES (?, ?, ?, ?, ?)",
                stored.id, static_cast<std::int64_t>(i), recipient.address, recipient.notify,
                recipient.orcpt)
              .run();
        }
        return stored;
      });
}

namespace {

constexpr const char* kSelectEntry =
    "SELECT id, IFNULL(account, 0), sender, ret, envid, blob_id, size, queued_at, next_attempt, "
    "attempts, held, delay_reported FROM queue ";

QueueEntry entry_from(const Query& row) {
  return {.id = row.get<std::int64_t>(0),
          .account = row.get<AccountId>(1),
          .sender = row.get<std::string>(2),
          .ret = row.get<std::string>(3),
          .envid = row.get<std::string>(4),
          .recipients = {},
          .blob_id = row.get<std::string>(5),
          .size = row.get<std::uint64_t>(6),
          .queued_at = row.get<std::int64_t>(7),
          .next_attempt = row.get<std::int64_t>(8),
          .attempts = row.get<int>(9),
          .held = row.get<int>(10) != 0,
          .delay_reported = row.get<int>(11) != 0};
}

void load_recipients(Connection& connection, QueueEntry& entry) {
  Query recipients(
      connection,
      "SELECT address, notify, orcpt, state, reply, via, reported FROM queue_recipients "
      "WHERE queue = ? ORDER BY position",
      entry.id);
  while (recipients.next()) {
    entry.recipients.push_back(
        {.address = recipients.get<std::string>(0),
         .notify = recipients.get<std::string>(1),
         .orcpt = recipients.get<std::string>(2),
         .state = static_cast<QueuedRecipient::State>(recipients.get<int>(3)),
         .reply = recipients.get<std::string>(4),
         .via = recipients.get<std::string>(5),
         .reported = recipients.get<int>(6) != 0});
  }
}

}  // namespace

Result<std::vector<QueueEntry>> SqliteQueueStore::list_queue() {
  return db_.read([&](Connection& connection) -> Result<std::vector<QueueEntry>> {
    std::vector<QueueEntry> entries;
    Query query(connection, std::string(kSelectEntry) + "ORDER BY id");
    while (query.next()) entries.push_back(entry_from(query));
    for (QueueEntry& entry : entries) load_recipients(connection, entry);
    return entries;
  });
}

Result<DueQueue> SqliteQueueStore::due_queue(std::int64_t now, std::size_t limit,
                                             const std::vector<std::int64_t>& skip) {
  std::string skipped = "[";
  for (std::int64_t id : skip) {
    if (skipped.size() > 1) skipped += ',';
    skipped += std::to_string(id);
  }
  skipped += ']';
  return db_.read([&](Connection& connection) -> Result<DueQueue> {
    DueQueue due;
    Query query(connection,
                std::string(kSelectEntry) +
                    "WHERE held = 0 AND next_attempt <= ? AND id NOT IN (SELECT value FROM "
                    "json_each(?)) ORDER BY next_attempt, id LIMIT ?",
                now, skipped, static_cast<std::int64_t>(limit));
    while (query.next()) due.entries.push_back(entry_from(query));
    for (QueueEntry& entry : due.entries) load_recipients(connection, entry);
    Query next(connection,
               "SELECT IFNULL(min(next_attempt), 0) FROM queue WHERE held = 0 AND next_attempt > ?",
               now);
    if (next.next()) due.next_attempt = next.get<std::int64_t>(0);
    return due;
  });
}

Result<QueueEntry> SqliteQueueStore::get_queue_entry(std::int64_t id) {
  return db_.read([&](Connection& connection) -> Result<QueueEntry> {
    Query query(connection, std::string(kSelectEntry) + "WHERE id = ?", id);
    if (!query.next()) return fail(Errc::NotFound, "no queue entry " + std::to_string(id));
    QueueEntry entry = entry_from(query);
    load_recipients(connection, entry);
    return entry;
  });
}

Result<void> SqliteQueueStore::hold_queue_entry(std::int64_t id, bool held) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Query update(transaction.connection(), "UPDATE queue SET held = ? WHERE id = ? RETURNING id",
                 held ? 1 : 0, id);
    if (!update.next()) return fail(Errc::NotFound, "no queue entry " + std::to_string(id));
    return {};
  });
}

Result<std::size_t> SqliteQueueStore::retry_queue(std::int64_t id) {
  return db_.write([&](Transaction& transaction) -> Result<std::size_t> {
    Query update(transaction.connection(),
                 "UPDATE queue SET next_attempt = ? WHERE (? = 0 OR id = ?) AND held = 0 "
                 "RETURNING id",
                 unix_seconds(), id, id);
    std::size_t count = 0;
    while (update.next()) ++count;
    if (id != 0 && count == 0) {
      return fail(Errc::NotFound, "no queue entry " + std::to_string(id) + " waiting");
    }
    return count;
  });
}

Result<void> SqliteQueueStore::record_recipients(std::int64_t id,
                                                 const std::vector<std::size_t>& positions,
                                                 const std::vector<QueuedRecipient>& recipients) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    for (std::size_t position : positions) {
      if (position >= recipients.size()) return fail(Errc::BadInput, "no such recipient");
      const QueuedRecipient& recipient = recipients[position];
      Query update(connection,
                   "UPDATE queue_recipients SET state = ?, reply = ?, via = ?, reported = ? "
                   "WHERE queue = ? AND position = ? RETURNING queue",
                   static_cast<int>(recipient.state), recipient.reply, recipient.via,
                   recipient.reported ? 1 : 0, id, static_cast<std::int64_t>(position));
      if (!update.next()) return fail(Errc::NotFound, "no queue entry " + std::to_string(id));
    }
    return {};
  });
}

Result<void> SqliteQueueStore::reschedule(std::int64_t id, int attempts, std::int64_t next_attempt,
                                          bool delay_reported) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Query update(transaction.connection(),
                 "UPDATE queue SET attempts = ?, next_attempt = ?, delay_reported = ? "
                 "WHERE id = ? RETURNING id",
                 attempts, next_attempt, delay_reported ? 1 : 0, id);
    if (!update.next()) return fail(Errc::NotFound, "no queue entry " + std::to_string(id));
    return {};
  });
}

Result<void> SqliteQueueStore::add_tls_results(const std::vector<TlsResult>& results) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    for (const TlsResult& result : results) {
      Query(transaction.connection(),
            "INSERT INTO tls_results (period, domain, policy_type, policy, result_type, mx_host, "
            "receiving_ip, info, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET count = count + excluded.count, policy = excluded.policy",
            result.period, result.domain, result.policy_type, result.policy, result.result_type,
            result.mx_host, result.receiving_ip, result.info, result.count)
          .run();
    }
    return {};
  });
}

Result<std::vector<TlsResult>> SqliteQueueStore::tls_results_before(std::int64_t before,
                                                                    std::size_t limit) {
  return db_.read([&](Connection& connection) -> Result<std::vector<TlsResult>> {
    std::vector<TlsResult> results;
    Query query(connection,
                "SELECT period, domain, policy_type, policy, result_type, mx_host, receiving_ip, "
                "info, count FROM tls_results WHERE period < ? ORDER BY period, domain LIMIT ?",
                before, static_cast<std::int64_t>(limit));
    while (query.next()) {
      results.push_back({.period = query.get<std::int64_t>(0),
                         .domain = query.get<std::string>(1),
                         .policy_type = query.get<std::string>(2),
                         .policy = query.get<std::string>(3),
                         .result_type = query.get<std::string>(4),
                         .mx_host = query.get<std::string>(5),
                         .receiving_ip = query.get<std::string>(6),
                         .info = query.get<std::string>(7),
                         .count = query.get<std::int64_t>(8)});
    }
    return results;
  });
}

Result<void> SqliteQueueStore::remove_tls_results(std::int64_t period, const std::string& domain) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Query(transaction.connection(), "DELETE FROM tls_results WHERE period = ? AND domain = ?",
          period, domain)
        .run();
    return {};
  });
}

Result<void> SqliteQueueStore::remove_queue_entry(std::int64_t id) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Query removed(transaction.connection(), "DELETE FROM queue WHERE id = ? RETURNING blob_id", id);
    if (!removed.next()) return fail(Errc::NotFound, "no queue entry " + std::to_string(id));
    transaction.release_blob(removed.get<std::string>(0));
    return {};
  });
}

}  // namespace rampart::store::sqlite
