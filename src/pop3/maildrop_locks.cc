#include "pop3/maildrop_locks.h"

namespace rampart::pop3 {

std::optional<MaildropLocks::Lock> MaildropLocks::try_lock(store::AccountId account) {
  std::lock_guard lock(mutex_);
  if (!held_.insert(account).second) return std::nullopt;
  return Lock(*this, account);
}

void MaildropLocks::release(store::AccountId account) {
  std::lock_guard lock(mutex_);
  held_.erase(account);
}

}  // namespace rampart::pop3
