// Group commit: one thread owns the write connection and runs the writes of many
// threads in one transaction with one WAL fsync, each inside its own SAVEPOINT so
// that a failing write fails alone.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/blob_files_internal.h"
#include "store/sqlite/change_bus_internal.h"
#include "store/sqlite/connection_internal.h"
#include "store/store.h"

namespace rampart::store::sqlite {

// What one write may do besides SQL on connection(): take its account's MODSEQ,
// log changes, and release blobs it stopped referencing. Lives on the committer thread.
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  Connection& connection() { return connection_; }

  // The account's MODSEQ for this write: allocated on first use, the same afterwards.
  ModSeq modseq(AccountId account);
  // Logs a change at modseq(account). Message changes raise their mailbox's
  // highest_modseq and log one MailboxUpdated for it when the write ends.
  void record(AccountId account, ChangeKind kind, MailboxId mailbox, MessageId message = 0,
              Uid uid = 0, ThreadId thread = 0);
  // The blob may have lost its last reference; the committer deletes it if so.
  void release_blob(std::string blob_id) { released_blobs_.push_back(std::move(blob_id)); }

 private:
  friend class Committer;
  // Inside the write's savepoint, after its work succeeded.
  void finish();

  Connection& connection_;
  std::map<AccountId, ChangeEvent> events_;
  std::map<MailboxId, AccountId> message_mailboxes_;  // mailboxes whose messages changed
  std::set<MailboxId> mailboxes_logged_;              // mailboxes with their own change row
  std::vector<std::string> released_blobs_;
};

class Committer {
 public:
  using Work = std::function<Result<void>(Transaction&)>;

  Committer(std::unique_ptr<Connection> connection, const BlobFiles& blobs, LocalChangeBus& bus,
            std::size_t max_batch);
  // Finishes the queued writes, then stops the thread.
  ~Committer();

  // Runs `work` in the next batch and returns once it is committed durably, or failed
  // and rolled back. `written_blobs`: blobs the caller stored; their directories are
  // synced before the commit, and they are deleted after it if no row names them.
  Result<void> run(const Work& work, std::vector<std::string> written_blobs = {});

 private:
  struct Item {
    const Work* work;
    std::vector<std::string> written_blobs;
    Result<void> result;
    bool done = false;
  };
  void loop();
  void commit(const std::vector<Item*>& batch);
  // Deletes at most `limit` of the files in `unreferenced_` that no row names.
  void delete_unreferenced(std::size_t limit);

  std::unique_ptr<Connection> connection_;
  const BlobFiles& blobs_;
  LocalChangeBus& bus_;
  const std::size_t max_batch_;

  std::mutex mutex_;
  std::condition_variable queued_;
  std::condition_variable finished_;
  std::deque<Item*> queue_;
  bool stopping_ = false;
  // Blob files that may have lost their last row: all deleted before the writers are
  // woken when no other write waits; while writes wait, a few after each batch's
  // writers are woken, so unlinking files (costly on ext4) does not delay
  // acknowledgments under load. This thread only.
  std::vector<std::string> unreferenced_;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace rampart::store::sqlite
