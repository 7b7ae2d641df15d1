// Header helpers for the layers above the parser: IMAP HEADER.FIELDS and SEARCH, JMAP
// header:Name:asText/asAddresses/asMessageIds/asDate. Each takes a header section (for
// a stored message, raw.substr(part.header_begin, part.body_begin - part.header_begin))
// or one field's value, and never fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.h"

namespace rampart::mime {

// One field: `name` as sent (without the colon and any space before it), `value` the
// raw text after the colon up to the end of its last continuation line, line ends
// inside (unfold() removes them), `offset` where the field's line starts.
struct HeaderField {
  std::string_view name;
  std::string_view value;
  std::size_t offset = 0;
};

// The header section of a whole message: up to and with the line end before the first
// empty line (CRLF, or a bare LF), or all of it when there is none.
std::string_view header_block(std::string_view message);

// Splits a header section into fields, in order. Stops at the first blank line or
// the first line that is not a field; continuation lines before any field are skipped.
std::vector<HeaderField> header_fields(std::string_view header);

// The raw values of every field named `name` (ASCII case-insensitive), in order.
std::vector<std::string_view> find_header(std::string_view header, std::string_view name);

// Removes the line ends of folded lines (RFC 5322 §2.2.3), keeping the whitespace.
std::string unfold(std::string_view value);

// An unstructured value (Subject, Comments, ...) as UTF-8: unfolded, RFC 2047 encoded
// words decoded (B and Q; whitespace between adjacent encoded words dropped; invalid
// words left as they are), undeclared 8-bit text read as UTF-8 or else windows-1252,
// leading and trailing whitespace trimmed.
std::string decode_text(std::string_view value);

// An address list (From, To, ...), lenient: RFC 5322 with obs forms, quoted strings,
// comments, groups, routes, missing domains. Never fails; junk entries are skipped.
std::vector<Address> parse_address_list(std::string_view value);

// The addr-spec "local@domain", the local part quoted if it needs to be.
std::string address_spec(const Address& address);

// Message-ID, In-Reply-To, References: the ids without their angle brackets.
std::vector<std::string> parse_message_ids(std::string_view value);

// RFC 5322 date-time, with obs forms (two-digit years, named zones, no seconds).
struct DateTime {
  std::int64_t unix_seconds = 0;
  std::int32_t zone_minutes = 0;  // offset east of UTC
};
std::optional<DateTime> parse_date(std::string_view value);

// Content-Type / Content-Disposition value: the lowercased "type/subtype" (or
// disposition) before the first ';', and the decoded parameters.
struct ContentValue {
  std::string value;
  std::vector<Parameter> parameters;
};
ContentValue parse_content_value(std::string_view value);

}  // namespace rampart::mime
