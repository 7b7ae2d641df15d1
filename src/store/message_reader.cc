#include "store/message_reader.h"

#include "mime/body.h"

namespace rampart::store {

MessageReader MessageReader::stored(MailStore& mail, BlobStore& blobs, MessageMeta meta,
                                    std::optional<std::string> structure) {
  const std::string blob_id = meta.blob_id;
  const MessageId id = meta.id;
  Read read_structure = [&mail, id]() { return mail.read_structure(id); };
  if (structure) {
    read_structure = [given = std::move(*structure)]() mutable -> Result<std::string> {
      return std::move(given);
    };
  }
  return MessageReader(
      std::move(meta), [&blobs, blob_id]() { return blobs.read_blob(blob_id); },
      std::move(read_structure));
}

MessageReader MessageReader::of_bytes(MessageMeta meta, std::string raw) {
  MessageReader reader(std::move(meta), nullptr, nullptr);
  reader.raw_ = std::move(raw);
  return reader;
}

MessageReader::MessageReader(MessageMeta meta, Read read_raw, Read read_structure)
    : meta_(std::move(meta)),
      read_raw_(std::move(read_raw)),
      read_structure_(std::move(read_structure)) {}

const std::string& MessageReader::raw() {
  if (!raw_) {
    auto read = read_raw_ ? read_raw_() : Result<std::string>();
    if (!read) read_error_ = read.error();
    raw_ = read ? std::move(*read) : std::string();
  }
  return *raw_;
}

const mime::Message& MessageReader::message() {
  if (message_) return *message_;
  Result<std::string> stored = read_structure_ ? read_structure_() : Result<std::string>();
  if (!stored && stored.error().code != Errc::NotFound) read_error_ = stored.error();
  auto decoded = stored && !stored->empty() ? mime::decode_structure(*stored)
                                            : Result<mime::Message>(fail(Errc::NotFound));
  if (decoded) {
    message_ = std::move(*decoded);
  } else {
    // Missing or damaged: the message itself says what it is.
    reparsed_ = true;
    message_ = mime::parse(raw());
  }
  return *message_;
}

std::string_view MessageReader::header() {
  const mime::Part& root = message().root;
  const std::string& bytes = raw();
  if (root.header_end > bytes.size() || root.header_begin > root.header_end) return {};
  return std::string_view(bytes).substr(root.header_begin, root.header_end - root.header_begin);
}

const std::string& MessageReader::decoded_text(const mime::Part& part) {
  // Keyed by where the body lies, not by the part's address, which a move changes.
  const std::pair<std::size_t, std::size_t> key{part.body_begin, part.body_end};
  auto found = texts_.find(key);
  if (found == texts_.end()) found = texts_.emplace(key, mime::decode_text_body(raw(), part)).first;
  return found->second;
}

}  // namespace rampart::store
