// FETCH BODY[section]<partial>, BINARY[section] and BINARY.SIZE[section] (RFC 9051
// §6.4.5, RFC 3516): parsing the item as the command parser hands it over (one atom,
// e.g. "BODY.PEEK[1.2.HEADER.FIELDS (SUBJECT)]<0.100>") and cutting the bytes out of
// the message with the stored MIME structure. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.h"

namespace rampart::imap {

struct Section {
  // Whole: BODY[]; Part: BODY[1.2] (that part's body); Text: TEXT, the body of the
  // message itself or of the message embedded in the part.
  enum class Text { Whole, Part, Header, HeaderFields, HeaderFieldsNot, Text, Mime };
  std::vector<std::uint32_t> part;  // "1.2" → {1, 2}; empty: the message itself
  Text text = Text::Whole;
  std::vector<std::string> fields;  // HEADER.FIELDS[.NOT], uppercased
};

struct BodyRequest {
  enum class Item { Body, Binary, BinarySize };
  Item item = Item::Body;
  bool peek = false;  // .PEEK: does not set \Seen
  Section section;
  std::optional<std::uint64_t> partial_offset, partial_length;
  // The item's name in the response: "BODY[1.2]<0>", "BINARY[1]", "BINARY.SIZE[1]".
  std::string response_name() const;
};

// nullopt when `atom` is not a well-formed BODY/BINARY item (the session answers BAD).
std::optional<BodyRequest> parse_body_request(std::string_view atom);

// The bytes the section names, before any partial; nullopt when the section does not
// exist in this message (the session answers NIL, as Dovecot does, or NO for BINARY
// of an unknown encoding). BINARY decodes the part's Content-Transfer-Encoding.
std::optional<std::string> extract_section(std::string_view raw, const mime::Message& message,
                                           const BodyRequest& request);

}  // namespace rampart::imap
