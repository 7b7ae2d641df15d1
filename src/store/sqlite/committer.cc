#include <algorithm>

#include "base/log.h"
#include "store/sqlite/committer_internal.h"

namespace rampart::store::sqlite {

ModSeq Transaction::modseq(AccountId account) {
  auto [event, inserted] = events_.try_emplace(account);
  if (inserted) {
    Query query(connection_,
                "UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq", account);
    if (!query.next()) throw Failure{SQLITE_CONSTRAINT_FOREIGNKEY, "no such account"};
    event->second.account = account;
    event->second.modseq = query.get<ModSeq>(0);
  }
  return event->second.modseq;
}

void Transaction::record(AccountId account, ChangeKind kind, MailboxId mailbox, MessageId message,
                         Uid uid, ThreadId thread) {
  const ModSeq modseq = this->modseq(account);
  Query(connection_,
        "INSERT INTO changes (account, modseq, kind, mailbox, message, uid, thread) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        account, modseq, static_cast<int>(kind), mailbox, message, uid, thread)
      .run();
  auto& touched = events_[account].mailboxes;
  if (std::find(touched.begin(), touched.end(), mailbox) == touched.end()) {
    touched.push_back(mailbox);
  }
  if (message != 0) {
    message_mailboxes_.emplace(mailbox, account);
  } else {
    mailboxes_logged_.insert(mailbox);
  }
}

void Transaction::finish() {
  for (auto [mailbox, account] : message_mailboxes_) {
    const ModSeq modseq = this->modseq(account);
    Query(connection_, "UPDATE mailboxes SET highest_modseq = ? WHERE id = ?", modseq, mailbox)
        .run();
    // Counts and highest_modseq are mailbox state too (JMAP Mailbox/changes, STATUS).
    if (!mailboxes_logged_.contains(mailbox) && connection_.changes() > 0) {
      record(account, ChangeKind::MailboxUpdated, mailbox);
    }
  }
}

Committer::Committer(std::unique_ptr<Connection> connection, const BlobFiles& blobs,
                     LocalChangeBus& bus, std::size_t max_batch)
    : connection_(std::move(connection)),
      blobs_(blobs),
      bus_(bus),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      thread_([this] { loop(); }) {}

Committer::~Committer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

Result<void> Committer::run(const Work& work, std::vector<std::string> written_blobs) {
  Item item{&work, std::move(written_blobs), {}};
  std::unique_lock lock(mutex_);
  queue_.push_back(&item);
  queued_.notify_one();
  finished_.wait(lock, [&] { return item.done; });
  return item.result;
}

namespace {
// Blob files deleted after each batch while more writes wait.
constexpr std::size_t kDeletesPerBatch = 16;
}  // namespace

void Committer::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      lock.unlock();
      delete_unreferenced(unreferenced_.size());
      return;
    }
    // Whatever queued up during the previous commit's fsync goes into this one.
    std::vector<Item*> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    commit(batch);
    lock.lock();
    // Nothing waiting: the files go before the writers hear, so a caller finds its
    // released blobs gone. Writes waiting: they hear first, and a few files go after.
    if (queue_.empty()) {
      lock.unlock();
      delete_unreferenced(unreferenced_.size());
      lock.lock();
    }
    for (Item* item : batch) item->done = true;
    finished_.notify_all();
    if (!queue_.empty() && !unreferenced_.empty()) {
      lock.unlock();
      delete_unreferenced(kDeletesPerBatch);
      lock.lock();
    }
  }
}

void Committer::delete_unreferenced(std::size_t limit) {
  std::sort(unreferenced_.begin(), unreferenced_.end());
  unreferenced_.erase(std::unique(unreferenced_.begin(), unreferenced_.end()), unreferenced_.end());
  const std::size_t count = std::min(limit, unreferenced_.size());
  for (std::size_t i = unreferenced_.size() - count; i < unreferenced_.size(); ++i) {
    const std::string& blob = unreferenced_[i];
    try {
      if (!Query(*connection_, "SELECT 1 FROM blobs WHERE id = ?", blob).next()) {
        blobs_.remove(blob);
      }
    } catch (const Failure& failure) {
      log::warn("store: leaving blob " + blob + ": " + failure.message);  // an orphan is harmless
    }
  }
  unreferenced_.resize(unreferenced_.size() - count);
}

void Committer::commit(const std::vector<Item*>& batch) {
  Connection& connection = *connection_;
  // The writers renamed their blob files into place; those renames must be durable
  // before a committed row names them. One fsync per directory serves the whole batch.
  std::set<std::filesystem::path> directories;
  for (Item* item : batch) {
    for (const auto& blob : item->written_blobs) directories.insert(blobs_.directory(blob));
  }
  for (const auto& directory : directories) {
    if (auto synced = files::sync_directory(directory); !synced) {
      for (Item* item : batch) {
        for (const auto& blob : item->written_blobs) {
          if (blobs_.directory(blob) == directory) item->result = tl::unexpected(synced.error());
        }
      }
    }
  }

  std::vector<Transaction> committed;  // of the items that succeeded
  std::vector<std::string> files;      // blob files that may now be unreferenced
  auto fail_succeeded = [&](const Error& error) {
    for (Item* item : batch) {
      if (item->result) item->result = tl::unexpected(error);
    }
    committed.clear();
  };
  try {
    Query(connection, "BEGIN IMMEDIATE").run();
    for (Item* item : batch) {
      if (!item->result) continue;
      Transaction transaction(connection);
      Query(connection, "SAVEPOINT item").run();
      try {
        item->result = (*item->work)(transaction);
        if (item->result) transaction.finish();
      } catch (const Failure& failure) {
        item->result = tl::unexpected(to_error(failure));
      }
      if (!connection.in_transaction()) {
        // SQLite rolled the whole transaction back (disk full, I/O error): the
        // items before this one lost their work too.
        fail_succeeded(item->result.error());
        break;
      }
      if (item->result) {
        Query(connection, "RELEASE item").run();
        committed.push_back(std::move(transaction));
      } else {
        Query(connection, "ROLLBACK TO item").run();
        Query(connection, "RELEASE item").run();
      }
    }
    if (connection.in_transaction()) {
      for (const auto& transaction : committed) {
        for (const auto& blob : transaction.released_blobs_) {
          Query deleted(connection,
                        "DELETE FROM blobs WHERE id = ?1 "
                        "AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1) "
                        "AND NOT EXISTS (SELECT 1 FROM queue WHERE blob_id = ?1) "
                        "AND NOT EXISTS (SELECT 1 FROM uploads WHERE blob_id = ?1) "
                        "RETURNING typeof(content)",  // (SQLite 3.40 gets IS NULL wrong here)
                        blob);
          if (deleted.next() && deleted.get<std::string>(0) == "null") files.push_back(blob);
        }
      }
      Query(connection, "COMMIT").run();
    }
  } catch (const Failure& failure) {
    if (connection.in_transaction()) {
      try {
        Query(connection, "ROLLBACK").run();
      } catch (const Failure& rollback) {
        log::error("store: rollback failed: " + rollback.message);
      }
    }
    fail_succeeded(to_error(failure));
  }

  // Files whose row is gone, or never came: unreferenced blobs and the blobs of failed
  // deliveries, deleted once the writers are woken (delete_unreferenced). Only this
  // thread deletes blob files and it checks for each new row that its file exists, so
  // a delivery racing with this cannot lose its blob. (A small blob's bytes went with
  // its row.)
  for (Item* item : batch) {
    files.insert(files.end(), item->written_blobs.begin(), item->written_blobs.end());
  }
  unreferenced_.insert(unreferenced_.end(), files.begin(), files.end());

  // Published before the writers wake, so a caller's own event precedes its return.
  std::map<AccountId, ChangeEvent> events;
  for (const auto& transaction : committed) {
    for (const auto& [account, event] : transaction.events_) {
      ChangeEvent& merged = events[account];
      merged.account = account;
      merged.modseq = std::max(merged.modseq, event.modseq);
      for (MailboxId mailbox : event.mailboxes) {
        if (std::find(merged.mailboxes.begin(), merged.mailboxes.end(), mailbox) ==
            merged.mailboxes.end()) {
          merged.mailboxes.push_back(mailbox);
        }
      }
    }
  }
  for (const auto& [account, event] : events) bus_.publish(event);
}

}  // namespace rampart::store::sqlite
