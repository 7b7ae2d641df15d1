// The in-process lock on each account's maildrop (RFC 1939 §4: a POP3 server acquires
// an exclusive lock on the maildrop before entering the TRANSACTION state). A second
// POP3 login to a locked account is told "-ERR [IN-USE]" (RFC 2449 §8.1.1). IMAP and JMAP
// sessions take no lock: they see a POP3 session's deletions through the change log
// when it ends. One registry per server process, shared by every POP3 listener; safe
// from any thread. A cluster of nodes would need the lock in the shared store.
#pragma once

#include <mutex>
#include <optional>
#include <unordered_set>

#include "store/types.h"

namespace rampart::pop3 {

class MaildropLocks {
 public:
  // Held while it lives; releases its account's lock when destroyed.
  class Lock {
   public:
    Lock(Lock&& other) noexcept : locks_(other.locks_), account_(other.account_) {
      other.locks_ = nullptr;
    }
    Lock& operator=(Lock&&) = delete;
    Lock(const Lock&) = delete;
    ~Lock() {
      if (locks_) locks_->release(account_);
    }

   private:
    friend class MaildropLocks;
    Lock(MaildropLocks& locks, store::AccountId account) : locks_(&locks), account_(account) {}
    MaildropLocks* locks_;  // null once moved from
    store::AccountId account_;
  };

  MaildropLocks() = default;
  MaildropLocks(const MaildropLocks&) = delete;
  MaildropLocks& operator=(const MaildropLocks&) = delete;

  // The account's lock, or nullopt when another session holds it.
  std::optional<Lock> try_lock(store::AccountId account);

 private:
  void release(store::AccountId account);

  std::mutex mutex_;
  std::unordered_set<store::AccountId> held_;
};

}  // namespace rampart::pop3
