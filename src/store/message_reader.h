// One stored message as the protocols read it (IMAP SEARCH and FETCH, JMAP): its
// metadata, its raw bytes, its parsed structure and the decoded text of its parts,
// each read or computed once, when first asked for.
//
// The store keeps each message's structure (mime::encode_structure) beside its bytes,
// so that reading headers or a body part does not parse the whole message again.
// When that structure is missing or damaged, the reader parses the raw bytes instead:
// the same message, whichever protocol asks. A message whose bytes cannot be read
// reads as empty, and read_error() says why.
//
// Not thread-safe; the store reads happen on the thread that first asks, so a caller
// on a network thread asks (raw(), message()) on the blocking pool first.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "mime/message.h"
#include "store/store.h"

namespace rampart::store {

class MessageReader {
 public:
  using Read = std::function<Result<std::string>()>;

  // A stored message: its bytes from `blobs`. `structure`, when given, is its stored
  // structure already read in bulk (MailStore::read_structures; empty if the store has
  // none); when not, it is read from `mail` if needed.
  static MessageReader stored(MailStore& mail, BlobStore& blobs, MessageMeta meta,
                              std::optional<std::string> structure = std::nullopt);
  // A message that is not stored (JMAP Email/parse, tests): its bytes, parsed here.
  static MessageReader of_bytes(MessageMeta meta, std::string raw);
  // The general form: how to read the bytes and the stored structure.
  MessageReader(MessageMeta meta, Read read_raw, Read read_structure);

  const MessageMeta& meta() const { return meta_; }
  MessageMeta& meta() { return meta_; }

  // The message's bytes; empty if they cannot be read.
  const std::string& raw();
  // The parsed structure: the stored one, or the raw bytes parsed when it is missing
  // or damaged.
  const mime::Message& message();
  // The top-level header section (empty if the structure does not fit the bytes).
  std::string_view header();
  // A text part's body with its transfer encoding undone and in UTF-8
  // (mime::decode_text_body); `part` must belong to message().
  const std::string& decoded_text(const mime::Part& part);

  // Whether message() had to parse the raw bytes (the stored structure was missing or
  // damaged); meaningful once message() has been called.
  bool reparsed() const { return reparsed_; }
  // Why the bytes or the structure could not be read, if they could not.
  const std::optional<Error>& read_error() const { return read_error_; }

 private:
  MessageMeta meta_;
  Read read_raw_, read_structure_;
  std::optional<std::string> raw_;
  std::optional<mime::Message> message_;
  std::map<std::pair<std::size_t, std::size_t>, std::string> texts_;  // by body offsets
  std::optional<Error> read_error_;
  bool reparsed_ = false;
};

}  // namespace rampart::store
