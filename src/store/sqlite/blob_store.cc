// The embedded store's blob bytes and JMAP uploads.
#include <algorithm>

#include "base/clock.h"
#include "base/sha256.h"
#include "mime/encode.h"
#include "store/names_internal.h"
#include "store/sqlite/roles_internal.h"
#include "store/sqlite/rows_internal.h"
#include "store/sqlite/schema_internal.h"

namespace rampart::store::sqlite {

Result<std::string> SqliteBlobStore::read_blob(std::string_view blob_id) {
  return db_.read_blob(blob_id);
}

Result<std::vector<std::uint64_t>> SqliteBlobStore::crlf_sizes(
    const std::vector<std::string>& blob_ids) {
  constexpr std::int64_t kUnknown = -1;
  auto sizes = db_.read([&](Connection& connection) -> Result<std::vector<std::int64_t>> {
    std::vector<std::int64_t> out;
    out.reserve(blob_ids.size());
    for (const std::string& id : blob_ids) {
      Query query(connection, "SELECT coalesce(crlf_size, -1) FROM blobs WHERE id = ?", id);
      if (!query.next()) return fail(Errc::NotFound, "no such blob");
      out.push_back(query.get<std::int64_t>(0));
    }
    return out;
  });
  if (!sizes) return tl::unexpected(sizes.error());
  // Blobs stored before schema v11: read each once, and keep what it gave.
  std::vector<std::pair<std::string, std::uint64_t>> computed;
  std::vector<std::uint64_t> out;
  out.reserve(sizes->size());
  for (std::size_t i = 0; i < sizes->size(); ++i) {
    if ((*sizes)[i] != kUnknown) {
      out.push_back(static_cast<std::uint64_t>((*sizes)[i]));
      continue;
    }
    auto bytes = db_.read_blob(blob_ids[i]);
    if (!bytes) return tl::unexpected(bytes.error());
    out.push_back(mime::crlf_size(*bytes));
    computed.emplace_back(blob_ids[i], out.back());
  }
  if (!computed.empty()) {
    auto kept = db_.write([&](Transaction& transaction) -> Result<void> {
      for (const auto& [id, size] : computed) {
        Query(transaction.connection(), "UPDATE blobs SET crlf_size = ? WHERE id = ?", size, id)
            .run();
      }
      return {};
    });
    if (!kept) return tl::unexpected(kept.error());
  }
  return out;
}

Result<Upload> SqliteBlobStore::add_upload(AccountId account, std::string_view bytes,
                                           std::string_view type) {
  NewMessage content{.raw = std::string(bytes),
                     .structure = {},
                     .flags = {},
                     .internal_date = 0,
                     .message_id = {},
                     .parent_ids = {}};
  Upload upload{.blob_id = sha256_hex(bytes),
                .type = std::string(type),
                .size = bytes.size(),
                .created = unix_seconds()};
  return db_.write_with_blob(
      content, upload.blob_id, [&](Transaction& transaction) -> Result<Upload> {
        Connection& connection = transaction.connection();
        {
          Query expired(connection,
                        "DELETE FROM uploads WHERE account = ? AND created < ? RETURNING blob_id",
                        account, upload.created - kUploadLifetime);
          while (expired.next()) transaction.release_blob(expired.get<std::string>(0));
        }
        Query quota(connection, "SELECT quota_bytes FROM accounts WHERE id = ?", account);
        if (!quota.next()) return fail(Errc::NotFound, "no such account");
        if (const auto limit = quota.get<std::uint64_t>(0); limit != 0) {
          Query pending(
              connection,
              "SELECT coalesce(sum(size), 0) FROM uploads WHERE account = ? AND blob_id != ?",
              account, upload.blob_id);
          pending.next();
          if (load_usage(connection, account).bytes + pending.get<std::uint64_t>(0) + upload.size >
              limit) {
            return fail(Errc::OverQuota, "over quota");
          }
        }
        Query(connection,
              "INSERT OR REPLACE INTO uploads (account, blob_id, type, size, created) "
              "VALUES (?, ?, ?, ?, ?)",
              account, upload.blob_id, upload.type, upload.size, upload.created)
            .run();
        return upload;
      });
}

Result<Upload> SqliteBlobStore::find_blob(AccountId account, std::string_view blob_id) {
  return db_.read([&](Connection& connection) -> Result<Upload> {
    Query upload(connection,
                 "SELECT type, size, created FROM uploads WHERE account = ? AND blob_id = ?",
                 account, blob_id);
    if (upload.next()) {
      return Upload{.blob_id = std::string(blob_id),
                    .type = upload.get<std::string>(0),
                    .size = upload.get<std::uint64_t>(1),
                    .created = upload.get<std::int64_t>(2)};
    }
    Query message(connection,
                  "SELECT size, internal_date FROM messages WHERE blob_id = ? AND mailbox IN "
                  "(SELECT id FROM mailboxes WHERE account = ?) LIMIT 1",
                  blob_id, account);
    if (!message.next()) return fail(Errc::NotFound, "no such blob");
    return Upload{.blob_id = std::string(blob_id),
                  .type = "message/rfc822",
                  .size = message.get<std::uint64_t>(0),
                  .created = message.get<std::int64_t>(1)};
  });
}

}  // namespace rampart::store::sqlite
