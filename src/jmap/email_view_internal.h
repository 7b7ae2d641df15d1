// EmailView: one message as the Email methods read it (email_get.cc, email_query.cc,
// email_filter.cc, search_snippet.cc, email_import.cc).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "jmap/email_format.h"
#include "mime/body.h"
#include "mime/message.h"
#include "store/store.h"

namespace rampart::jmap {

// One message as a query, a get or a snippet sees it: its metadata, and its structure,
// bytes and decoded body text, each read once when first needed. A stored message is
// read through `store`; a message that is not stored (Email/parse, and unit tests of
// what reads it) is handed in as bytes and parsed here, and needs no store.
class EmailView {
 public:
  EmailView(store::Store& store, const store::MessageMeta& meta) : store_(&store), meta_(meta) {}
  // A message that is not stored: its bytes, parsed here.
  EmailView(const store::MessageMeta& meta, std::string raw)
      : meta_(meta),
        parsed_(std::make_unique<mime::Message>(mime::parse(raw))),
        raw_(std::move(raw)) {}
  const store::MessageMeta& meta() const { return meta_; }
  void set_structure(std::string bytes) { structure_bytes_ = std::move(bytes); }

  const mime::Message* structure() {
    if (!parsed_) {
      if (structure_bytes_.empty() && store_ != nullptr) {
        auto bytes = store_->read_structure(meta_.id);
        if (bytes) structure_bytes_ = std::move(*bytes);
      }
      auto decoded = mime::decode_structure(structure_bytes_);
      parsed_ = std::make_unique<mime::Message>(decoded ? std::move(*decoded) : mime::Message{});
    }
    return parsed_.get();
  }
  const std::string& raw() {
    if (!raw_) {
      auto bytes = store_ != nullptr ? store_->read_blob(meta_.blob_id) : Result<std::string>();
      raw_ = bytes ? std::move(*bytes) : std::string();
    }
    return *raw_;
  }
  const BodyLists& lists() {
    if (!lists_) lists_ = body_lists(*structure());
    return *lists_;
  }
  // The text of the body parts, decoded, for body and text searches.
  const std::string& body_text() {
    if (!body_text_) {
      body_text_.emplace();
      for (const BodyPartRef& ref : lists().text) {
        if (ref.part->type == "text")
          *body_text_ += mime::decode_text_body(raw(), *ref.part) + "\n";
      }
    }
    return *body_text_;
  }

 private:
  store::Store* store_ = nullptr;  // null for a message that is not stored
  store::MessageMeta meta_;
  std::string structure_bytes_;
  std::unique_ptr<mime::Message> parsed_;
  std::optional<std::string> raw_;
  std::optional<BodyLists> lists_;
  std::optional<std::string> body_text_;
};

}  // namespace rampart::jmap
