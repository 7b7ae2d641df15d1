// DKIM's canonicalizations, "simple" and "relaxed" (RFC 6376 section 3.4), and the split
// of a message into the header fields a signature covers and the body it hashes.
// Pure: bytes in, bytes out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::dkim {

struct SplitMessage {
  // Each field with its continuation lines, without the CRLF that ends it.
  std::vector<std::string_view> fields;
  std::string_view body;  // after the empty line; empty when there is none
  // More than `max_fields` fields: only the first `max_fields` are listed, and the body is
  // empty.
  bool over_limit = false;
};

// `max_fields` bounds what a hostile header can make this hold (the verifier's limit).
SplitMessage split_message(std::string_view message, std::size_t max_fields = SIZE_MAX);

// The field's name (before the colon), as written.
std::string_view field_name(std::string_view field);

// "simple" (section 3.4.1): the field exactly as it is, continuation lines and all.
// No CRLF.
std::string simple_header(std::string_view field);

// "simple" (section 3.4.3): the body with its empty lines at the end removed and one CRLF
// at its end, so an empty body is a CRLF.
std::string simple_body(std::string_view body);

// "relaxed" (section 3.4.2): "name:value", the name lowercased, the value unfolded,
// runs of spaces and tabs made one space, none around the colon or at the end. No CRLF.
std::string relaxed_header(std::string_view field);

// "relaxed" (section 3.4.4): every line with runs of spaces and tabs made one space and
// none at its end, empty lines at the end removed, and a non-empty body ending in CRLF.
std::string relaxed_body(std::string_view body);

}  // namespace rampart::dkim
