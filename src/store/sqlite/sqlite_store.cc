// The embedded backend: SQLite (WAL) for metadata and small blobs, one file per
// distinct large message content. Each role of the store is a class of its own (roles_internal.h)
// over one Database (database_internal.h), defined here with the store that joins them.
#include <algorithm>
#include <optional>

#include "mime/encode.h"
#include "store/names_internal.h"
#include "store/sqlite/roles_internal.h"
#include "store/sqlite/rows_internal.h"
#include "store/sqlite/schema_internal.h"

namespace rampart::store::sqlite {

Database::Database(std::filesystem::path database, BlobFiles blobs,
                   std::unique_ptr<Connection> writer, std::size_t max_batch)
    : database_(std::move(database)),
      blobs_(std::move(blobs)),
      committer_(std::move(writer), blobs_, bus_, max_batch) {}

Result<void> Database::ensure_blob_row(Transaction& transaction, const NewMessage& message,
                                       const std::string& blob_id) {
  Connection& connection = transaction.connection();
  if (Query known(connection, "SELECT length(structure), crlf_size IS NULL FROM blobs WHERE id = ?",
                  blob_id);
      known.next()) {
    // An upload keeps no structure; the first message with the same bytes adds it.
    if (known.get<std::int64_t>(0) == 0 && !message.structure.empty()) {
      Query(connection, "UPDATE blobs SET structure = ? WHERE id = ?", Bytes{message.structure},
            blob_id)
          .run();
    }
    // A blob from before schema v11, delivered again: its bytes are at hand.
    if (known.get<bool>(1)) {
      Query(connection, "UPDATE blobs SET crlf_size = ? WHERE id = ?", mime::crlf_size(message.raw),
            blob_id)
          .run();
    }
    return {};
  }
  if (message.raw.size() <= kInlineBlobMax) {
    Query(connection, "INSERT INTO blobs (id, structure, crlf_size, content) VALUES (?, ?, ?, ?)",
          blob_id, Bytes{message.structure}, mime::crlf_size(message.raw), Bytes{message.raw})
        .run();
    return {};
  }
  if (!blobs_.exists(blob_id)) {
    auto written = blobs_.write(blob_id, message.raw, files::SyncDirectory::Yes);
    if (!written) return tl::unexpected(written.error());
  }
  Query(connection, "INSERT INTO blobs (id, structure, crlf_size) VALUES (?, ?, ?)", blob_id,
        Bytes{message.structure}, mime::crlf_size(message.raw))
      .run();
  return {};
}

Result<void> Database::stage_blob(const NewMessage& message, const std::string& blob_id,
                                  std::vector<std::string>& written) const {
  if (message.raw.size() <= kInlineBlobMax) return blobs_.check_reserve(message.raw.size());
  if (!blobs_.exists(blob_id)) {
    auto stored = blobs_.write(blob_id, message.raw, files::SyncDirectory::No);
    if (!stored) return stored;
  }
  written.push_back(blob_id);
  return {};
}

Result<std::string> Database::read_blob(std::string_view blob_id) {
  auto kept = read([&](Connection& connection) -> Result<std::optional<std::string>> {
    Query query(connection, "SELECT content IS NOT NULL, content FROM blobs WHERE id = ?", blob_id);
    if (query.next() && query.get<bool>(0)) return query.get<std::string>(1);
    return std::nullopt;
  });
  if (!kept) return tl::unexpected(kept.error());
  if (*kept) return std::move(**kept);
  return blobs_.read(blob_id);
}

namespace {

// The flags of `flags` that are valid, normalized; the others left out.
Flags valid_flags(const Flags& flags) {
  Flags valid;
  for (const std::string& flag : flags) {
    if (auto normalized = normalize_flags({flag}); normalized) {
      valid.insert(valid.end(), normalized->begin(), normalized->end());
    }
  }
  auto normalized = normalize_flags(valid);
  return normalized ? *normalized : Flags{};
}

}  // namespace

Result<std::vector<Appended>> Database::add_message(const NewMessage& message,
                                                    const std::vector<DeliveryTarget>& targets) {
  auto meta = meta_of(message);
  if (!meta) return tl::unexpected(meta.error());
  if (targets.empty()) return std::vector<Appended>{};
  return write_with_blob(
      message, meta->blob_id, [&](Transaction& transaction) -> Result<std::vector<Appended>> {
        std::vector<Appended> appended;
        for (const auto& target : targets) {
          // A copy of its own only for a target with its own flags.
          std::optional<MessageMeta> flagged;
          if (target.flags) {
            flagged = *meta;
            flagged->flags = valid_flags(*target.flags);
          }
          auto added = insert_message(transaction, target, flagged ? *flagged : *meta, &message);
          if (!added) return tl::unexpected(added.error());
          appended.push_back(*added);
        }
        return appended;
      });
}

Result<std::vector<Appended>> Database::add_messages(const std::vector<NewMessage>& messages,
                                                     MailboxId mailbox) {
  std::vector<MessageMeta> metas;
  std::vector<std::string> written;
  for (const NewMessage& message : messages) {
    auto meta = meta_of(message);
    if (!meta) return tl::unexpected(meta.error());
    metas.push_back(std::move(*meta));
    if (auto staged = stage_blob(message, metas.back().blob_id, written); !staged) {
      return tl::unexpected(staged.error());
    }
  }
  return write(
      [&](Transaction& transaction) -> Result<std::vector<Appended>> {
        std::uint64_t adding = 0;
        for (const auto& meta : metas) adding += meta.size;
        auto allowed = check_quota(transaction.connection(), mailbox, adding);
        if (!allowed) return tl::unexpected(allowed.error());
        std::vector<Appended> appended;
        for (std::size_t i = 0; i < messages.size(); ++i) {
          auto ensured = ensure_blob_row(transaction, messages[i], metas[i].blob_id);
          if (!ensured) return tl::unexpected(ensured.error());
          auto added = insert_message(transaction, {.account = 0, .mailbox = mailbox}, metas[i],
                                      &messages[i]);
          if (!added) return tl::unexpected(added.error());
          appended.push_back(*added);
        }
        return appended;
      },
      std::move(written));
}

Result<std::vector<Appended>> Database::copy_or_move(MailboxId from, const std::vector<Uid>& uids,
                                                     MailboxId to, bool move) {
  return write([&](Transaction& transaction) -> Result<std::vector<Appended>> {
    Connection& connection = transaction.connection();
    auto source = load_mailbox(connection, from);
    if (!source) return tl::unexpected(source.error());
    auto target = load_mailbox(connection, to);
    if (!target) return tl::unexpected(target.error());
    const auto messages = load_messages(connection, from, uids);
    // A move within one account takes no more room.
    if (!move || source->account != target->account) {
      std::uint64_t adding = 0;
      for (const auto& message : messages) adding += message.size;
      auto allowed = check_quota(connection, to, adding);
      if (!allowed) return tl::unexpected(allowed.error());
    }
    std::vector<Appended> appended;
    for (const auto& message : messages) {
      if (move && source->account == target->account) {
        auto moved = relocate_message(transaction, source->account, message, to);
        if (!moved) return tl::unexpected(moved.error());
        moved->source_uid = message.uid;
        appended.push_back(*moved);
        continue;
      }
      auto added =
          insert_message(transaction, {.account = target->account, .mailbox = to}, message);
      if (!added) return tl::unexpected(added.error());
      added->source_uid = message.uid;
      appended.push_back(*added);
      if (move) remove_message(transaction, source->account, message);
    }
    return appended;
  });
}

namespace {

// Every role over the one database it owns.
class SqliteStore final : public Store,
                          public SqliteDirectoryStore,
                          public SqliteMailStore,
                          public SqliteBlobStore,
                          public SqliteQueueStore,
                          public SqliteObjectStore,
                          public SqliteDavStore {
 public:
  // The roles hold a reference to the database, which lives as long as the store.
  explicit SqliteStore(std::unique_ptr<Database> database)
      : SqliteDirectoryStore(*database),
        SqliteMailStore(*database),
        SqliteBlobStore(*database),
        SqliteQueueStore(*database),
        SqliteObjectStore(*database),
        SqliteDavStore(*database),
        database_(std::move(database)) {}

 private:
  std::unique_ptr<Database> database_;
};

}  // namespace
}  // namespace rampart::store::sqlite

namespace rampart::store {

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return fail(Errc::Internal, "create " + options.data_dir.string() + ": " + error.message());
  }
  auto blobs = sqlite::BlobFiles::open(options.data_dir / "blobs", options.reserve_free_bytes,
                                       options.on_reserve);
  if (!blobs) return tl::unexpected(blobs.error());
  const auto database = options.data_dir / "rampart.db";
  auto writer = sqlite::Connection::open(database, sqlite::Connection::Mode::Write);
  if (!writer) return tl::unexpected(writer.error());
  if (auto migrated = sqlite::migrate(**writer); !migrated) return tl::unexpected(migrated.error());
  return std::make_unique<sqlite::SqliteStore>(std::make_unique<sqlite::Database>(
      database, std::move(*blobs), std::move(*writer), options.max_batch));
}

}  // namespace rampart::store
