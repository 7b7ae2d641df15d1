// The maildrop of one POP3 session (RFC 1939 §5-6): the account's INBOX as it was at
// login, numbered from 1 in UID order, with the messages DELE marked. Marks change
// nothing in the store; QUIT expunges deleted_uids() (the UPDATE state), RSET clears
// them. Pure: 16 bytes per message, no store handle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/types.h"

namespace rampart::pop3 {

// RFC 1939 §7 UIDL: the message's IMAP UID then the mailbox's UIDVALIDITY, each in 8
// uppercase hex digits (Dovecot's default "%08Xu%08Xv"): stable across sessions and
// restarts, and a new mailbox's messages never repeat an old one's.
std::string unique_id(store::Uid uid, std::uint32_t uidvalidity);

class Maildrop {
 public:
  struct Message {
    std::uint64_t size = 0;  // octets as RETR sends them (mime::crlf_size)
    store::Uid uid = 0;
    bool deleted = false;
  };

  Maildrop() = default;  // empty (Result<Maildrop> over the blocking pool needs one)
  Maildrop(store::MailboxId mailbox, std::uint32_t uidvalidity, std::vector<Message> messages);

  store::MailboxId mailbox() const { return mailbox_; }
  // Message `number` (from 1), unless there is none or it is marked deleted.
  const Message* find(std::uint32_t number) const;
  // Every message number, marked ones too (LIST and UIDL skip those).
  std::uint32_t highest_number() const { return static_cast<std::uint32_t>(messages_.size()); }
  // Messages not marked, and their octets (STAT, RSET).
  std::uint32_t count() const { return count_; }
  std::uint64_t octets() const { return octets_; }
  std::string unique_id(const Message& message) const;

  // DELE: false when there is no such message or it is already marked.
  bool mark_deleted(std::uint32_t number);
  // RSET.
  void unmark_all();
  // Ascending.
  std::vector<store::Uid> deleted_uids() const;

 private:
  store::MailboxId mailbox_ = 0;
  std::uint32_t uidvalidity_ = 0;
  std::vector<Message> messages_;
  std::uint32_t count_ = 0;
  std::uint64_t octets_ = 0;
};

}  // namespace rampart::pop3
