// DKIM's "relaxed" canonicalization (RFC 6376 section 3.4.2 and 3.4.4) and the split
// of a message into the header fields a signature covers and the body it hashes.
// Pure: bytes in, bytes out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rampart::dkim {

struct SplitMessage {
  // Each field with its continuation lines, without the CRLF that ends it.
  std::vector<std::string_view> fields;
  std::string_view body;  // after the empty line; empty when there is none
};

SplitMessage split_message(std::string_view message);

// The field's name (before the colon), as written.
std::string_view field_name(std::string_view field);

// "name:value": the name lowercased, the value unfolded, runs of spaces and tabs made
// one space, none around the colon or at the end. No CRLF.
std::string relaxed_header(std::string_view field);

// Every line with runs of spaces and tabs made one space and none at its end, empty
// lines at the end removed, and a non-empty body ending in CRLF.
std::string relaxed_body(std::string_view body);

}  // namespace rampart::dkim
