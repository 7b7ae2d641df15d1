// The embedded store's calendars and address books (store/dav_store.h).
#include <algorithm>
#include <string>

#include "base/sha256.h"
#include "store/sqlite/roles_internal.h"
#include "store/sqlite/rows_internal.h"

namespace rampart::store::sqlite {

namespace {

constexpr std::string_view kCollectionColumns =
    "SELECT id, account, kind, name, display_name, description, color, components, timezone, "
    "properties, modseq, sync_floor FROM dav_collections ";

DavCollection collection_from(const Query& query) {
  return DavCollection{.id = query.get<CollectionId>(0),
                       .account = query.get<AccountId>(1),
                       .kind = static_cast<CollectionKind>(query.get<int>(2)),
                       .name = query.get<std::string>(3),
                       .display_name = query.get<std::string>(4),
                       .description = query.get<std::string>(5),
                       .color = query.get<std::string>(6),
                       .components = query.get<std::string>(7),
                       .timezone = query.get<std::string>(8),
                       .properties = query.get<std::string>(9),
                       .modseq = query.get<ModSeq>(10),
                       .sync_floor = query.get<ModSeq>(11)};
}

// The text itself only when asked for (column 11 is then `data`, else '').
constexpr std::string_view kObjectColumns =
    "SELECT id, collection, name, uid, etag, size, component, first_start, last_end, modseq, "
    "data IS NULL, ";

DavObject object_from(const Query& query) {
  return DavObject{.id = query.get<std::int64_t>(0),
                   .collection = query.get<CollectionId>(1),
                   .name = query.get<std::string>(2),
                   .uid = query.get<std::string>(3),
                   .etag = query.get<std::string>(4),
                   .data = query.get<std::string>(11),
                   .size = query.get<std::uint64_t>(5),
                   .index = {.component = query.get<int>(6),
                             .first_start = query.get<std::int64_t>(7),
                             .last_end = query.get<std::int64_t>(8)},
                   .modseq = query.get<ModSeq>(9),
                   .destroyed = query.get<bool>(10)};
}

std::string object_sql(bool with_data, std::string_view rest) {
  std::string sql(kObjectColumns);
  sql += with_data ? "coalesce(data, '')" : "''";
  sql += " FROM dav_objects ";
  sql += rest;
  return sql;
}

Result<DavCollection> load_collection(Connection& connection, CollectionId id) {
  Query query(connection, std::string(kCollectionColumns) + "WHERE id = ?", id);
  if (!query.next()) return fail(Errc::NotFound, "no such collection");
  return collection_from(query);
}

// Marks the collection changed at the account's MODSEQ of this write.
ModSeq touch(Transaction& transaction, const DavCollection& collection) {
  const ModSeq modseq = transaction.modseq(collection.account);
  Query(transaction.connection(), "UPDATE dav_collections SET modseq = ? WHERE id = ?", modseq,
        collection.id)
      .run();
  return modseq;
}

// Beyond kDavTombstones, the oldest tombstones go and the sync floor rises past them.
void prune_tombstones(Connection& connection, CollectionId collection) {
  Query count(connection, "SELECT count(*) FROM dav_objects WHERE collection = ? AND data IS NULL",
              collection);
  count.next();
  const auto tombstones = count.get<std::int64_t>(0);
  const auto excess = tombstones - static_cast<std::int64_t>(kDavTombstones);
  if (excess <= 0) return;
  Query pruned(connection,
               "DELETE FROM dav_objects WHERE id IN (SELECT id FROM dav_objects WHERE "
               "collection = ? AND data IS NULL ORDER BY modseq LIMIT ?) RETURNING modseq",
               collection, excess);
  ModSeq floor = 0;
  while (pruned.next()) floor = std::max(floor, pruned.get<ModSeq>(0));
  Query(connection, "UPDATE dav_collections SET sync_floor = max(sync_floor, ?) WHERE id = ?",
        floor, collection)
      .run();
}

}  // namespace

Result<std::vector<DavCollection>> SqliteDavStore::list_collections(AccountId account,
                                                                    CollectionKind kind) {
  return db_.read([&](Connection& connection) -> Result<std::vector<DavCollection>> {
    std::vector<DavCollection> out;
    Query query(connection,
                std::string(kCollectionColumns) + "WHERE account = ? AND kind = ? ORDER BY name",
                account, static_cast<int>(kind));
    while (query.next()) out.push_back(collection_from(query));
    return out;
  });
}

Result<DavCollection> SqliteDavStore::find_collection(AccountId account, CollectionKind kind,
                                                      std::string_view name) {
  return db_.read([&](Connection& connection) -> Result<DavCollection> {
    Query query(connection,
                std::string(kCollectionColumns) + "WHERE account = ? AND kind = ? AND name = ?",
                account, static_cast<int>(kind), name);
    if (!query.next()) return fail(Errc::NotFound, "no such collection");
    return collection_from(query);
  });
}

Result<DavCollection> SqliteDavStore::create_collection(const DavCollection& collection) {
  if (collection.name.empty()) return fail(Errc::BadInput, "empty collection name");
  return db_.write([&](Transaction& transaction) -> Result<DavCollection> {
    Connection& connection = transaction.connection();
    Query count(connection, "SELECT count(*) FROM dav_collections WHERE account = ?",
                collection.account);
    count.next();
    if (count.get<std::size_t>(0) >= kDavCollections) {
      return fail(Errc::TooBig, "too many collections");
    }
    Query taken(connection,
                "SELECT 1 FROM dav_collections WHERE account = ? AND kind = ? AND name = ?",
                collection.account, static_cast<int>(collection.kind), collection.name);
    if (taken.next()) return fail(Errc::Exists, "collection exists");
    const ModSeq modseq = transaction.modseq(collection.account);
    Query insert(connection,
                 "INSERT INTO dav_collections (account, kind, name, display_name, description, "
                 "color, components, timezone, properties, modseq) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                 collection.account, static_cast<int>(collection.kind), collection.name,
                 collection.display_name, collection.description, collection.color,
                 collection.components, collection.timezone, collection.properties, modseq);
    insert.next();
    DavCollection made = collection;
    made.id = insert.get<CollectionId>(0);
    made.modseq = modseq;
    made.sync_floor = 0;
    return made;
  });
}

Result<DavCollection> SqliteDavStore::update_collection(const DavCollection& collection) {
  return db_.write([&](Transaction& transaction) -> Result<DavCollection> {
    auto stored = load_collection(transaction.connection(), collection.id);
    if (!stored) return stored;
    const ModSeq modseq = transaction.modseq(stored->account);
    Query(transaction.connection(),
          "UPDATE dav_collections SET display_name = ?, description = ?, color = ?, "
          "components = ?, timezone = ?, properties = ?, modseq = ? WHERE id = ?",
          collection.display_name, collection.description, collection.color, collection.components,
          collection.timezone, collection.properties, modseq, collection.id)
        .run();
    DavCollection updated = collection;
    updated.account = stored->account;
    updated.kind = stored->kind;
    updated.name = stored->name;
    updated.modseq = modseq;
    updated.sync_floor = stored->sync_floor;
    return updated;
  });
}

Result<void> SqliteDavStore::delete_collection(CollectionId id) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    auto stored = load_collection(transaction.connection(), id);
    if (!stored) return tl::unexpected(stored.error());
    transaction.modseq(stored->account);
    Query(transaction.connection(), "DELETE FROM dav_collections WHERE id = ?", id).run();
    return {};
  });
}

Result<DavPut> SqliteDavStore::put_dav_object(CollectionId collection_id, std::string_view name,
                                              std::string_view uid, std::string_view data,
                                              const DavIndex& index,
                                              const DavCondition& condition) {
  if (name.empty()) return fail(Errc::BadInput, "empty object name");
  const std::string etag = sha256_hex(data);
  return db_.write([&](Transaction& transaction) -> Result<DavPut> {
    Connection& connection = transaction.connection();
    auto collection = load_collection(connection, collection_id);
    if (!collection) return tl::unexpected(collection.error());
    std::optional<DavObject> existing;
    {
      Query query(connection,
                  object_sql(false, "WHERE collection = ? AND name = ? AND data IS NOT NULL"),
                  collection_id, name);
      if (query.next()) existing = object_from(query);
    }
    DavPut put;
    if ((condition.if_none_match && existing) ||
        (condition.if_match && (!existing || existing->etag != *condition.if_match))) {
      put.outcome = DavPut::Outcome::PreconditionFailed;
      return put;
    }
    {
      Query holder(connection,
                   "SELECT name FROM dav_objects WHERE collection = ? AND uid = ? AND "
                   "data IS NOT NULL AND name != ?",
                   collection_id, uid, name);
      if (holder.next()) {
        put.outcome = DavPut::Outcome::UidConflict;
        put.conflict_name = holder.get<std::string>(0);
        return put;
      }
    }
    if (!existing) {
      Query count(connection,
                  "SELECT count(*) FROM dav_objects WHERE collection = ? AND data IS NOT NULL",
                  collection_id);
      count.next();
      if (count.get<std::size_t>(0) >= kDavObjects) return fail(Errc::TooBig, "too many objects");
    }
    Query quota(connection, "SELECT quota_bytes FROM accounts WHERE id = ?", collection->account);
    if (!quota.next()) return fail(Errc::NotFound, "no such account");
    if (const auto limit = quota.get<std::uint64_t>(0); limit != 0) {
      const std::uint64_t freed = existing ? existing->size : 0;
      if (load_usage(connection, collection->account).bytes - freed + data.size() > limit) {
        return fail(Errc::OverQuota, "over quota");
      }
    }
    const ModSeq modseq = touch(transaction, *collection);
    Query write(connection,
                "INSERT INTO dav_objects (collection, name, uid, etag, data, size, component, "
                "first_start, last_end, modseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (collection, name) DO UPDATE SET uid = excluded.uid, "
                "etag = excluded.etag, data = excluded.data, size = excluded.size, "
                "component = excluded.component, first_start = excluded.first_start, "
                "last_end = excluded.last_end, modseq = excluded.modseq RETURNING id",
                collection_id, name, uid, etag, data, data.size(), index.component,
                index.first_start, index.last_end, modseq);
    write.next();
    put.outcome = existing ? DavPut::Outcome::Replaced : DavPut::Outcome::Created;
    put.object = DavObject{.id = write.get<std::int64_t>(0),
                           .collection = collection_id,
                           .name = std::string(name),
                           .uid = std::string(uid),
                           .etag = etag,
                           .data = {},
                           .size = data.size(),
                           .index = index,
                           .modseq = modseq,
                           .destroyed = false};
    return put;
  });
}

Result<bool> SqliteDavStore::delete_dav_object(CollectionId collection_id, std::string_view name,
                                               const std::optional<std::string>& if_match) {
  return db_.write([&](Transaction& transaction) -> Result<bool> {
    Connection& connection = transaction.connection();
    auto collection = load_collection(connection, collection_id);
    if (!collection) return tl::unexpected(collection.error());
    Query existing(connection,
                   "SELECT etag FROM dav_objects WHERE collection = ? AND name = ? AND "
                   "data IS NOT NULL",
                   collection_id, name);
    if (!existing.next()) return fail(Errc::NotFound, "no such object");
    if (if_match && existing.get<std::string>(0) != *if_match) return false;
    const ModSeq modseq = touch(transaction, *collection);
    Query(connection,
          "UPDATE dav_objects SET data = NULL, size = 0, etag = '', modseq = ? WHERE "
          "collection = ? AND name = ?",
          modseq, collection_id, name)
        .run();
    prune_tombstones(connection, collection_id);
    return true;
  });
}

Result<std::vector<DavObject>> SqliteDavStore::get_dav_objects(
    CollectionId collection, const std::vector<std::string>& names, bool with_data) {
  return db_.read([&](Connection& connection) -> Result<std::vector<DavObject>> {
    std::vector<DavObject> out;
    if (names.empty()) {
      Query query(connection,
                  object_sql(with_data, "WHERE collection = ? AND data IS NOT NULL ORDER BY name"),
                  collection);
      while (query.next()) out.push_back(object_from(query));
      return out;
    }
    for (const auto& name : names) {
      Query query(connection,
                  object_sql(with_data, "WHERE collection = ? AND name = ? AND data IS NOT NULL"),
                  collection, name);
      if (query.next()) out.push_back(object_from(query));
    }
    return out;
  });
}

Result<std::vector<DavObject>> SqliteDavStore::dav_objects_in_range(CollectionId collection,
                                                                    std::int64_t start,
                                                                    std::int64_t end) {
  return db_.read([&](Connection& connection) -> Result<std::vector<DavObject>> {
    std::vector<DavObject> out;
    Query query(connection,
                object_sql(true,
                           "WHERE collection = ? AND data IS NOT NULL AND first_start < ? AND "
                           "last_end > ? ORDER BY name"),
                collection, end, start);
    while (query.next()) out.push_back(object_from(query));
    return out;
  });
}

Result<std::optional<DavObject>> SqliteDavStore::find_dav_uid(AccountId account,
                                                              CollectionKind kind,
                                                              std::string_view uid) {
  return db_.read([&](Connection& connection) -> Result<std::optional<DavObject>> {
    Query query(connection,
                object_sql(true,
                           "WHERE uid = ? AND data IS NOT NULL AND collection IN (SELECT id FROM "
                           "dav_collections WHERE account = ? AND kind = ?) ORDER BY id LIMIT 1"),
                uid, account, static_cast<int>(kind));
    if (!query.next()) return std::optional<DavObject>();
    return std::optional<DavObject>(object_from(query));
  });
}

Result<DavChanges> SqliteDavStore::dav_changes(CollectionId collection_id, ModSeq since) {
  return db_.read([&](Connection& connection) -> Result<DavChanges> {
    auto collection = load_collection(connection, collection_id);
    if (!collection) return tl::unexpected(collection.error());
    if (since > collection->modseq) return fail(Errc::BadInput, "sync token from the future");
    if (since != 0 && since < collection->sync_floor) {
      return fail(Errc::TooBig, "sync token too old");
    }
    DavChanges changes{.changed = {}, .removed = {}, .modseq = collection->modseq};
    Query query(connection, object_sql(false, "WHERE collection = ? AND modseq > ? ORDER BY name"),
                collection_id, since);
    while (query.next()) {
      DavObject object = object_from(query);
      if (!object.destroyed) {
        changes.changed.push_back(std::move(object));
      } else if (since != 0) {
        changes.removed.push_back(std::move(object.name));
      }
    }
    return changes;
  });
}

}  // namespace rampart::store::sqlite
