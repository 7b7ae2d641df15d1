// Writing MIME: the encoders that message composition (JMAP Email/set, vacation
// replies, audit alerts, SMTP's Received) uses, the inverse of body.h and
// encoded_word.cc. Pure, but for new_message_id's random bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::mime {

// Line ends as CRLF (lone CR or LF become CRLF).
std::string crlf_lines(std::string_view text);

// The size of crlf_lines(text) with a CRLF after a last line that has no line end:
// a stored message as POP3 sends it (RETR), and as its LIST and STAT count it.
std::uint64_t crlf_size(std::string_view text);

// Quoted-printable (RFC 2045 §6.7) of CRLF text: lines of at most 76 characters, soft
// breaks, trailing whitespace and every byte outside printable ASCII encoded.
std::string encode_quoted_printable(std::string_view text);

// Base64 in lines of 76 characters, each ending in CRLF.
std::string encode_base64_lines(std::string_view bytes);

// RFC 2047 B encoded words of UTF-8 text, each at most 75 characters and split on
// character boundaries, joined by folding whitespace (CRLF SP).
std::string encode_words(std::string_view text);

// An unstructured header value (Subject): control characters (CR, LF, NUL...) made
// spaces, then as it is when it is short ASCII without "=?", else encoded words.
std::string encode_unstructured(std::string_view text);

// True when the text is 7-bit with lines of at most 998 bytes and no NUL: it may go
// as it is (Content-Transfer-Encoding: 7bit).
bool is_7bit_text(std::string_view crlf_text);

// An RFC 5322 date-time: "Mon, 23 Nov 2026 15:09:21 +0100", the day without a
// leading zero (RFC 5322 §3.3 allows one or two digits).
std::string format_date(std::int64_t unix_seconds, int zone_minutes);

// 24 random hex digits: unique enough for Message-IDs and MIME boundaries.
std::string new_token();

// A new RFC 5322 §3.6.4 msg-id with its angle brackets, "<96 random bits in hex@domain>",
// for the Message-ID of a message the server writes. `domain` is the caller's to make
// header-safe (a host name or an account's domain).
std::string new_message_id(std::string_view domain);

}  // namespace rampart::mime
