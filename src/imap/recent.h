// Which session is told first of a message, so that exactly one IMAP4rev1 session sees
// it as \Recent (RFC 3501 section 2.3.2). Shared by every IMAP session of the process.
//
// Per mailbox it keeps the largest UID some session has claimed. The claims live in
// memory: after a restart no claim is known and, as the RFC asks when the server cannot
// tell, the messages count as recent again for the first session to select the mailbox.
// The same happens when more than `max_mailboxes` mailboxes have claims (mailboxes
// created and deleted one after the other): the claims are forgotten, so the map stays
// bounded.
#pragma once

#include <mutex>
#include <unordered_map>
#include <utility>

#include "store/types.h"

namespace rampart::imap {

class RecentClaims {
 public:
  explicit RecentClaims(std::size_t max_mailboxes = 1 << 16) : max_mailboxes_(max_mailboxes) {}

  // Claims the UIDs after the last claim up to `largest` for the caller: the range it
  // got (first > last when none).
  std::pair<store::Uid, store::Uid> claim(store::MailboxId mailbox, store::Uid largest) {
    std::lock_guard lock(mutex_);
    if (claimed_.size() >= max_mailboxes_ && !claimed_.contains(mailbox)) claimed_.clear();
    store::Uid& claimed = claimed_[mailbox];
    const store::Uid first = claimed + 1;
    if (largest > claimed) claimed = largest;
    return {first, largest};
  }
  // The largest UID claimed so far, 0 for none (EXAMINE and STATUS look without
  // claiming).
  store::Uid claimed(store::MailboxId mailbox) const {
    std::lock_guard lock(mutex_);
    const auto it = claimed_.find(mailbox);
    return it == claimed_.end() ? 0 : it->second;
  }

 private:
  const std::size_t max_mailboxes_;
  mutable std::mutex mutex_;
  std::unordered_map<store::MailboxId, store::Uid> claimed_;
};

}  // namespace rampart::imap
