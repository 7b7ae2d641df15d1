// The embedded store's per-account records (JMAP objects).
#include <algorithm>

#include "base/clock.h"
#include "base/sha256.h"
#include "store/names_internal.h"
#include "store/sqlite/roles_internal.h"
#include "store/sqlite/rows_internal.h"
#include "store/sqlite/schema_internal.h"

namespace rampart::store::sqlite {

Result<StoredObject> SqliteObjectStore::put_object(AccountId account, std::string_view type,
                                                   std::int64_t id, std::string_view data) {
  return db_.write([&](Transaction& transaction) -> Result<StoredObject> {
    Connection& connection = transaction.connection();
    const ModSeq modseq = transaction.modseq(account);
    if (id == 0) {
      Query insert(connection,
                   "INSERT INTO objects (account, type, data, created, modseq) "
                   "VALUES (?, ?, ?, ?, ?) RETURNING id",
                   account, type, data, modseq, modseq);
      insert.next();
      return StoredObject{.id = insert.get<std::int64_t>(0),
                          .data = std::string(data),
                          .created = modseq,
                          .modseq = modseq,
                          .destroyed = false};
    }
    Query update(connection,
                 "UPDATE objects SET data = ?, modseq = ? WHERE id = ? AND account = ? AND "
                 "type = ? AND destroyed = 0 RETURNING created",
                 data, modseq, id, account, type);
    if (!update.next()) return fail(Errc::NotFound, "no such object");
    return StoredObject{.id = id,
                        .data = std::string(data),
                        .created = update.get<ModSeq>(0),
                        .modseq = modseq,
                        .destroyed = false};
  });
}

Result<void> SqliteObjectStore::destroy_object(AccountId account, std::string_view type,
                                               std::int64_t id) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    const ModSeq modseq = transaction.modseq(account);
    Query update(transaction.connection(),
                 "UPDATE objects SET data = '', destroyed = 1, modseq = ? WHERE id = ? AND "
                 "account = ? AND type = ? AND destroyed = 0 RETURNING id",
                 modseq, id, account, type);
    if (!update.next()) return fail(Errc::NotFound, "no such object");
    return {};
  });
}

Result<std::vector<StoredObject>> SqliteObjectStore::list_objects(AccountId account,
                                                                  std::string_view type,
                                                                  ModSeq since) {
  return db_.read([&](Connection& connection) -> Result<std::vector<StoredObject>> {
    std::vector<StoredObject> out;
    Query query(connection,
                "SELECT id, data, created, modseq, destroyed FROM objects WHERE account = ? AND "
                "type = ? AND (destroyed = 0 OR (?3 > 0 AND modseq > ?3)) ORDER BY id",
                account, type, since);
    while (query.next()) {
      StoredObject object{.id = query.get<std::int64_t>(0),
                          .data = query.get<std::string>(1),
                          .created = query.get<ModSeq>(2),
                          .modseq = query.get<ModSeq>(3),
                          .destroyed = query.get<bool>(4)};
      if (since > 0 && object.modseq <= since) continue;
      out.push_back(std::move(object));
    }
    return out;
  });
}

}  // namespace rampart::store::sqlite
