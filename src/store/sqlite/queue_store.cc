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

Result<std::vector<QueueEntry>> SqliteQueueStore::list_queue() {
  return db_.read([&](Connection& connection) -> Result<std::vector<QueueEntry>> {
    std::vector<QueueEntry> entries;
    Query query(connection,
                "SELECT id, IFNULL(account, 0), sender, ret, envid, blob_id, size, queued_at, "
                "next_attempt, attempts FROM queue ORDER BY id");
    while (query.next()) {
      entries.push_back({.id = query.get<std::int64_t>(0),
                         .account = query.get<AccountId>(1),
                         .sender = query.get<std::string>(2),
                         .ret = query.get<std::string>(3),
                         .envid = query.get<std::string>(4),
                         .recipients = {},
                         .blob_id = query.get<std::string>(5),
                         .size = query.get<std::uint64_t>(6),
                         .queued_at = query.get<std::int64_t>(7),
                         .next_attempt = query.get<std::int64_t>(8),
                         .attempts = query.get<int>(9)});
    }
    for (QueueEntry& entry : entries) {
      Query recipients(connection,
                       "SELECT address, notify, orcpt FROM queue_recipients WHERE queue = ? "
                       "ORDER BY position",
                       entry.id);
      while (recipients.next()) {
        entry.recipients.push_back({recipients.get<std::string>(0), recipients.get<std::string>(1),
                                    recipients.get<std::string>(2)});
      }
    }
    return entries;
  });
}

}  // namespace rampart::store::sqlite
