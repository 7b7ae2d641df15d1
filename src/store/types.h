// What every role of the store (src/store/store.h) shares: the ids, and a message as
// it is handed in (NewMessage) and described (MessageMeta).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rampart::store {

using AccountId = std::int64_t;
using MailboxId = std::int64_t;
using MessageId = std::int64_t;
using Uid = std::uint32_t;
using ModSeq = std::uint64_t;
// A conversation: the id of the message that started it (JMAP threadId).
using ThreadId = std::int64_t;

// Flags and keywords in one sorted set of strings: system flags keep their backslash
// ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"), keywords are atoms.
using Flags = std::vector<std::string>;

struct NewMessage {
  std::string raw;        // the message bytes exactly as received
  std::string structure;  // mime::encode_structure(mime::parse(raw)), stored opaque
  Flags flags;
  std::int64_t internal_date = 0;  // Unix seconds; 0 = now
  // Threading, without angle brackets: its own Message-ID (may be empty), and the ids
  // it answers (In-Reply-To first, then References from the newest). The message
  // joins the thread of the first of these the account already knows, else starts
  // one; a parent arriving after its reply joins the reply's thread.
  std::string message_id;
  std::vector<std::string> parent_ids;
};

struct MessageMeta {
  MessageId id = 0;
  MailboxId mailbox = 0;
  Uid uid = 0;
  ModSeq modseq = 0;
  Flags flags;
  std::int64_t internal_date = 0;
  std::uint64_t size = 0;
  std::string blob_id;  // content hash
  ThreadId thread = 0;
};

}  // namespace rampart::store
