// The Email object's content properties (RFC 8621 §4.1) from a stored message: header
// fields in their parsed forms, the body structure, textBody/htmlBody/attachments (the
// §4.1.4 algorithm), bodyValues and the preview. Pure: the caller reads the raw bytes
// and the structure from the store, so this is unit-tested and fuzzed on its own.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.h"

namespace rampart::jmap {

namespace json = boost::json;

// RFC 3339 dates: UTC ("2026-11-23T14:09:21Z", UTCDate) and with the zone the message
// gave ("2026-11-23T15:09:21+01:00", Date).
std::string utc_date(std::int64_t unix_seconds);
std::string zoned_date(std::int64_t unix_seconds, std::int32_t zone_minutes);
// A UTCDate argument (filters): "YYYY-MM-DDTHH:MM:SSZ", fractions allowed.
std::optional<std::int64_t> parse_utc_date(std::string_view text);

// {"name":..., "email":...} for each mailbox of the list, groups flattened; null when
// the list is empty (the header is absent).
json::value addresses_value(const std::vector<mime::Address>& addresses);

// A part's header section in the raw message (empty if the offsets do not fit it).
std::string_view header_section(std::string_view raw, const mime::Part& part);

// The "headers" property (§4.1.3): each field's name and raw value, in order.
json::array headers_value(std::string_view header);

// A Message-ID, In-Reply-To or References value as a list of ids; null when none.
json::value message_ids_value(std::string_view value);

// "header:Name[:asForm][:all]" (§4.1.3) on a header section: the value, or nullopt when
// the property is not a valid header property.
std::optional<json::value> header_property(std::string_view header, std::string_view property);

// The leaf parts of the body (§4.1.4), with the IMAP section number as partId.
struct BodyPartRef {
  const mime::Part* part = nullptr;
  std::string part_id;
};
struct BodyLists {
  std::vector<BodyPartRef> text, html, attachments;
};
BodyLists body_lists(const mime::Message& message);

// EmailBodyPart (§4.1.4) with `properties` (empty: the default list); `blob_base` is
// the message's blobId, to which "_" and the partId (dots as "_") are added for a
// part's blobId. subParts recurse for multipart parts.
json::object body_part(std::string_view raw, const mime::Part& part, const std::string& part_id,
                       const std::string& blob_base, const std::vector<std::string>& properties);

// EmailBodyValue: the decoded text, cut to at most `max_bytes` (0: no limit) on a
// character boundary.
json::object body_value(std::string_view raw, const mime::Part& part, std::size_t max_bytes);

// Up to 256 characters of plain text from the first text part, whitespace collapsed.
std::string preview(std::string_view raw, const BodyLists& lists);

// The part with this partId (IMAP section number), or null.
const mime::Part* find_part(const mime::Message& message, std::string_view part_id);

// JMAP keywords (lowercase, $seen...) from IMAP flags, and back. \Deleted and \Recent
// have no keyword; an IMAP keyword is compared without case.
std::vector<std::string> keywords_from_flags(const std::vector<std::string>& flags);
std::string flag_from_keyword(std::string_view keyword);
// RFC 8621 §4.1.1: 1-255 printable ASCII characters, none of ( ) { ] % * " \ or space.
bool valid_keyword(std::string_view keyword);

}  // namespace rampart::jmap
