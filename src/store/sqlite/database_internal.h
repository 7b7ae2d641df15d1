// The embedded store's database, shared by its role classes (roles_internal.h): the
// SQLite file with a pool of read connections, each read in one transaction (one
// snapshot, so readers never wait for the writer), the Committer that runs every
// write in a group commit, the blob files and the change bus.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "base/result.h"
#include "store/sqlite/blob_files_internal.h"
#include "store/sqlite/change_bus_internal.h"
#include "store/sqlite/committer_internal.h"
#include "store/sqlite/connection_internal.h"
#include "store/store.h"

namespace rampart::store::sqlite {

class Database {
 public:
  Database(std::filesystem::path database, BlobFiles blobs, std::unique_ptr<Connection> writer,
           std::size_t max_batch);

  LocalChangeBus& bus() { return bus_; }

  // Runs `work` in one read transaction on a pooled connection.
  template <class Work>
  std::invoke_result_t<Work&, Connection&> read(Work&& work) {
    std::unique_ptr<Connection> connection;
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        connection = std::move(idle_readers_.back());
        idle_readers_.pop_back();
      }
    }
    if (!connection) {
      auto opened = Connection::open(database_, Connection::Mode::Read);
      if (!opened) return tl::unexpected(opened.error());
      connection = std::move(*opened);
    }
    std::invoke_result_t<Work&, Connection&> result = fail(Errc::Internal);
    try {
      Query(*connection, "BEGIN").run();
      result = work(*connection);
      Query(*connection, "COMMIT").run();
    } catch (const Failure& failure) {
      result = tl::unexpected(to_error(failure));
      if (connection->in_transaction()) connection.reset();  // not worth reusing
    }
    if (connection) {
      std::lock_guard lock(readers_mutex_);
      if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(connection));
    }
    return result;
  }

  // Runs `work` on the committer thread in the next batch; returns once durable.
  template <class Work>
  std::invoke_result_t<Work&, Transaction&> write(Work&& work,
                                                  std::vector<std::string> written_blobs = {}) {
    std::optional<std::invoke_result_t<Work&, Transaction&>> out;
    auto committed = committer_.run(
        [&](Transaction& transaction) -> Result<void> {
          out = work(transaction);
          if (!*out) return tl::unexpected(out->error());
          return {};
        },
        std::move(written_blobs));
    if (!committed) return tl::unexpected(committed.error());
    return std::move(*out);
  }

  // Blobs up to this size live in their row: no file to create, sync and later unlink
  // for the common message. Larger ones are files under blobs/ (BlobFiles).
  static constexpr std::size_t kInlineBlobMax = 64 * 1024;

  // On the writer's thread, before the commit: a large blob's file is written (in
  // parallel with other writers; the committer syncs its directory once per batch) and
  // its id added to `written`; a small one is only checked against the free-space
  // reserve.
  Result<void> stage_blob(const NewMessage& message, const std::string& blob_id,
                          std::vector<std::string>& written) const;

  // Stages the blob, then runs `work` in a commit with the blob's row in place.
  template <class Work,
            class Value = typename std::invoke_result_t<Work&, Transaction&>::value_type>
  Result<Value> write_with_blob(const NewMessage& message, const std::string& blob_id, Work work) {
    std::vector<std::string> written;
    if (auto staged = stage_blob(message, blob_id, written); !staged) {
      return tl::unexpected(staged.error());
    }
    return write(
        [&](Transaction& transaction) -> Result<Value> {
          auto ensured = ensure_blob_row(transaction, message, blob_id);
          if (!ensured) return tl::unexpected(ensured.error());
          return work(transaction);
        },
        std::move(written));
  }

  // On the committer thread: the blob's row, with its bytes when small; for a large one
  // its file again if an earlier batch deleted it since it was written (its last
  // reference went, or a delivery of the same bytes failed).
  Result<void> ensure_blob_row(Transaction& transaction, const NewMessage& message,
                               const std::string& blob_id);

  // A blob's bytes: from its row, else its file. NotFound for an unknown or invalid id.
  Result<std::string> read_blob(std::string_view blob_id);

  Result<std::vector<Appended>> add_message(const NewMessage& message,
                                            const std::vector<DeliveryTarget>& targets);

  // Several messages into one mailbox in one commit: each blob is staged first, then
  // one transaction adds every row.
  Result<std::vector<Appended>> add_messages(const std::vector<NewMessage>& messages,
                                             MailboxId mailbox);

  Result<std::vector<Appended>> copy_or_move(MailboxId from, const std::vector<Uid>& uids,
                                             MailboxId to, bool move);

 private:
  // Enough for the blocking pool's threads; a busier moment opens more and closes them.
  static constexpr std::size_t kMaxIdleReaders = 8;

  const std::filesystem::path database_;
  const BlobFiles blobs_;
  LocalChangeBus bus_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  Committer committer_;  // last: its thread uses the members above
};

}  // namespace rampart::store::sqlite
