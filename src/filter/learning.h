// What a user's filing teaches the spam filter: a message moved or copied into the Junk
// mailbox is spam, one taken out of Junk into any mailbox but Trash is ham (RFC 6154
// roles). IMAP (MOVE, COPY) and JMAP (Email/set mailboxIds) both ask lesson_for and
// hand the messages to one Learner, which teaches off the request's path.
#pragma once

#include <string>
#include <vector>

#include "store/mail_store.h"

namespace rampart::filter {

enum class Lesson { None, Spam, Ham };

inline Lesson lesson_for(store::Role from, store::Role to) {
  if (to == store::Role::Junk && from != store::Role::Junk) return Lesson::Spam;
  if (from == store::Role::Junk && to != store::Role::Junk && to != store::Role::Trash) {
    return Lesson::Ham;
  }
  return Lesson::None;
}

class Learner {
 public:
  virtual ~Learner() = default;
  // Queues the messages whose bytes are these blobs to be learned as `lesson` and
  // returns at once; callable from any thread. Failures are the learner's to log.
  virtual void learn(Lesson lesson, std::vector<std::string> blob_ids) = 0;
};

}  // namespace rampart::filter
