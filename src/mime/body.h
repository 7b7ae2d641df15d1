// Body decoding for IMAP BINARY, SEARCH and JMAP bodyValues: transfer encodings to
// bytes, and charsets to UTF-8 (glibc iconv). Lenient: they never fail, and say
// through `damaged` (when not null) whether they had to skip or replace anything.
#pragma once

#include <string>
#include <string_view>

#include "mime/message.h"

namespace rampart::mime {

// Base64: characters outside the alphabet are skipped, padding may be missing.
std::string decode_base64(std::string_view encoded, bool* damaged = nullptr);

// Quoted-printable (RFC 2045 §6.7): soft line breaks removed, trailing whitespace on
// lines dropped, an '=' not followed by two hex digits kept as it is. `header_q` also
// turns '_' into a space (the RFC 2047 Q encoding).
std::string decode_quoted_printable(std::string_view encoded, bool* damaged = nullptr,
                                    bool header_q = false);

// The part's body with its Content-Transfer-Encoding undone (7bit, 8bit, binary and
// unknown encodings are returned as they are). `raw` is the whole message.
std::string decode_body(std::string_view raw, const Part& part, bool* damaged = nullptr);

// `bytes` in `charset` (a MIME charset name, any case) as UTF-8. With no charset or
// us-ascii, 8-bit text is kept if it is valid UTF-8 and read as windows-1252 if not,
// as mail clients do; invalid sequences in utf-8 and other charsets become U+FFFD. An
// unknown charset gives the bytes unchanged and `known` false.
std::string to_utf8(std::string_view bytes, std::string_view charset, bool* damaged = nullptr,
                    bool* known = nullptr);

// The text of a text/* part as UTF-8: decode_body, then to_utf8 with the part's charset.
std::string decode_text_body(std::string_view raw, const Part& part, bool* damaged = nullptr);

}  // namespace rampart::mime
