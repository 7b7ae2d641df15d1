#include "pop3/maildrop.h"

#include <cstdio>

namespace rampart::pop3 {

std::string unique_id(store::Uid uid, std::uint32_t uidvalidity) {
  char text[17];
  std::snprintf(text, sizeof text, "%08X%08X", static_cast<unsigned>(uid),
                static_cast<unsigned>(uidvalidity));
  return text;
}

Maildrop::Maildrop(store::MailboxId mailbox, std::uint32_t uidvalidity,
                   std::vector<Message> messages)
    : mailbox_(mailbox), uidvalidity_(uidvalidity), messages_(std::move(messages)) {
  unmark_all();
}

const Maildrop::Message* Maildrop::find(std::uint32_t number) const {
  if (number == 0 || number > messages_.size()) return nullptr;
  const Message& message = messages_[number - 1];
  return message.deleted ? nullptr : &message;
}

std::string Maildrop::unique_id(const Message& message) const {
  return pop3::unique_id(message.uid, uidvalidity_);
}

bool Maildrop::mark_deleted(std::uint32_t number) {
  if (!find(number)) return false;
  Message& message = messages_[number - 1];
  message.deleted = true;
  --count_;
  octets_ -= message.size;
  return true;
}

void Maildrop::unmark_all() {
  count_ = static_cast<std::uint32_t>(messages_.size());
  octets_ = 0;
  for (Message& message : messages_) {
    message.deleted = false;
    octets_ += message.size;
  }
}

std::vector<store::Uid> Maildrop::deleted_uids() const {
  std::vector<store::Uid> out;
  for (const Message& message : messages_) {
    if (message.deleted) out.push_back(message.uid);
  }
  return out;
}

}  // namespace rampart::pop3
