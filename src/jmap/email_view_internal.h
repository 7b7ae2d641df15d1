// EmailView: one message as the Email methods read it (email_get.cc, email_query.cc,
// email_filter.cc, search_snippet.cc, email_import.cc).
#pragma once

#include <optional>
#include <string>

#include "jmap/email_format.h"
#include "mime/message.h"
#include "store/message_reader.h"
#include "store/store.h"

namespace rampart::jmap {

// One message as a query, a get or a snippet sees it: the store's MessageReader (its
// bytes and structure, read once when first needed, the bytes parsed when the stored
// structure is missing or damaged, as IMAP does), and the JMAP body lists and text
// made from them. A message that is not stored (Email/parse, and unit tests of what
// reads it) is handed in as bytes and needs no store. Not movable: the body lists
// point into the parsed structure.
class EmailView {
 public:
  // `structure`, when given, is the stored structure read in bulk beforehand.
  EmailView(store::Store& store, const store::MessageMeta& meta,
            std::optional<std::string> structure = std::nullopt)
      : reader_(store::MessageReader::stored(store, store, meta, std::move(structure))) {}
  EmailView(const store::MessageMeta& meta, std::string raw)
      : reader_(store::MessageReader::of_bytes(meta, std::move(raw))) {}
  EmailView(EmailView&&) = delete;
  EmailView& operator=(EmailView&&) = delete;

  const store::MessageMeta& meta() const { return reader_.meta(); }
  const mime::Message* structure() { return &reader_.message(); }
  const std::string& raw() { return reader_.raw(); }
  const BodyLists& lists() {
    if (!lists_) lists_ = body_lists(*structure());
    return *lists_;
  }
  // The text of the body parts, decoded, for body and text searches.
  const std::string& body_text() {
    if (!body_text_) {
      body_text_.emplace();
      for (const BodyPartRef& ref : lists().text) {
        if (ref.part->type == "text") *body_text_ += reader_.decoded_text(*ref.part) + "\n";
      }
    }
    return *body_text_;
  }

 private:
  store::MessageReader reader_;
  std::optional<BodyLists> lists_;
  std::optional<std::string> body_text_;
};

}  // namespace rampart::jmap
