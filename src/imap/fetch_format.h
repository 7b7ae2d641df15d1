// FETCH response building blocks (RFC 9051 §7.5.2, RFC 3501 §7.4.2): IMAP strings,
// ENVELOPE, BODY and BODYSTRUCTURE, computed from the MIME structure stored at
// delivery, without reading the message again. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "mime/message.h"

namespace rampart::imap {

// How strings may be sent: `utf8` once the client has ENABLEd UTF8=ACCEPT or IMAP4rev2,
// which allows 8-bit text in quoted strings.
struct Encoding {
  bool utf8 = false;
};

// A quoted string when it can be one, else a literal.
void append_string(std::string& out, std::string_view value, Encoding encoding);
// NIL for an empty value, else as append_string.
void append_nstring(std::string& out, std::string_view value, Encoding encoding);

std::string format_envelope(const mime::Envelope& envelope, Encoding encoding);

// BODYSTRUCTURE when `extended`, else BODY (no extension data).
std::string format_body_structure(const mime::Part& part, bool extended, Encoding encoding);

}  // namespace rampart::imap
