// The MIME structure of one message, computed once at delivery and stored, so that
// IMAP (ENVELOPE, BODYSTRUCTURE, BODY[1.2]) and JMAP (Email/get) are served without
// reparsing. Every range is a pair of byte offsets into the raw message; nothing here
// copies a body. RFC 5322, RFC 2045-2049, RFC 2231, RFC 6532.
//
// parse() never fails: any bytes give a structure plus a list of defects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace rampart::mime {

// What was wrong with the input, and where (a byte offset into the raw message, at or
// near the header line or part concerned). Only the first kMaxDefects are kept.
enum class DefectKind : std::uint8_t {
  MissingHeaderBodySeparator,  // a non-header line ended the header without a blank line
  InvalidHeaderLine,           // a continuation line before any field, or a bare "From " line
  HeaderTooBig,                // fields beyond Limits::max_header_bytes/max_headers dropped
  InvalidContentType,          // unparsable Content-Type: the default type applies
  MissingBoundary,             // multipart without a boundary parameter
  NoBoundaryFound,             // multipart whose boundary never occurs: one part, the body
  MissingCloseDelimiter,       // the last part runs to the end of the multipart body
  DepthLimit,                  // a container beyond Limits::max_depth became a leaf
  PartLimit,                   // parts beyond Limits::max_parts were not split off
  EncodedContainer,            // message/rfc822 with base64/quoted-printable: a leaf
  InvalidEncodedWord,          // RFC 2047 word that does not decode; kept as it was
  UnknownCharset,              // the raw bytes are kept
  InvalidCharsetData,          // bytes invalid in their charset; replaced by U+FFFD
  UndeclaredEightBit,          // 8-bit header bytes that are not UTF-8: read as windows-1252
  InvalidParameter,            // a parameter without a value, or a broken RFC 2231 form
  InvalidAddress,              // an address list entry that had to be guessed or skipped
};

inline constexpr std::size_t kMaxDefects = 256;

struct Defect {
  DefectKind kind;
  std::size_t offset = 0;
  bool operator==(const Defect&) const = default;
};

struct Limits {
  // Multipart and message/rfc822 nesting. A container at this depth (root = 0) becomes
  // a leaf application/octet-stream with a DepthLimit defect. Clamped to kMaxDepthCap.
  int max_depth = 32;
  // Parts in the whole tree, root included. When it is reached, no further part is
  // split off: the rest of a multipart body stays in its last part (PartLimit).
  std::size_t max_parts = 2000;
  // Per header section (the message's or a part's): fields that end beyond this many
  // bytes, or beyond max_headers fields, are dropped (HeaderTooBig). The header's end,
  // and so the body's start, is still found.
  std::size_t max_header_bytes = 512 * 1024;
  std::size_t max_headers = 2000;
};

inline constexpr int kMaxDepthCap = 256;

// One entry of an address list. Groups are flattened as IMAP ENVELOPE has them: a
// GroupStart (name = the group's display name), its mailboxes, then a GroupEnd.
struct Address {
  enum class Kind : std::uint8_t { Mailbox, GroupStart, GroupEnd };
  Kind kind = Kind::Mailbox;
  std::string name_raw;  // display name as sent: quotes and comments removed, RFC 2047 kept
  std::string name;      // display name decoded to UTF-8
  std::string local;     // local part, unquoted; may be empty ("<>")
  std::string domain;    // empty when missing (an InvalidAddress defect is recorded)
  std::string route;     // obsolete source route "@a.example,@b.example", else empty
  bool operator==(const Address&) const = default;
};

// The IMAP ENVELOPE fields plus what JMAP asks of every message. Header values are
// unfolded; absent headers are empty. IMAP's defaults (Sender and Reply-To fall back
// to From) are the IMAP layer's to apply.
struct Envelope {
  std::string date;                       // the Date header as sent
  std::optional<std::int64_t> date_unix;  // parsed Date in Unix seconds, if it parses
  std::int32_t date_zone_minutes = 0;     // its zone offset east of UTC
  std::string subject_raw;                // as sent (RFC 2047 kept)
  std::string subject;                    // decoded to UTF-8, trimmed
  std::vector<Address> from, sender, reply_to, to, cc, bcc;
  std::string in_reply_to;  // as sent; parse_message_ids() gives the ids
  std::string message_id;   // as sent
  std::string references;   // as sent
  bool operator==(const Envelope&) const = default;
};

// A decoded parameter (Content-Type or Content-Disposition): the name lowercased, the
// value in UTF-8 (RFC 2231 continuations joined and converted, RFC 2047 decoded).
struct Parameter {
  std::string name;
  std::string value;
  bool operator==(const Parameter&) const = default;
};

// One MIME entity. Offsets are into the raw message:
//   [header_begin, header_end)  the header fields, each with its line end;
//   [header_end, body_begin)    the blank separator line (empty when missing);
//   [body_begin, body_end)      the body, undecoded. For a multipart part the line end
//                               before a delimiter belongs to the delimiter (RFC 2046).
// IMAP BODY[n.MIME] / BODY[HEADER] is [header_begin, body_begin); BODY[n] is the body.
//
// Invariant: a part has children if and only if it is a container — multipart/* (one
// child or more) or message/rfc822 / message/global (exactly one child: the embedded
// message's root, with `envelope` set). A container the parser cannot or may not
// descend into becomes a leaf application/octet-stream, with a defect saying why.
struct Part {
  std::size_t header_begin = 0, header_end = 0, body_begin = 0, body_end = 0;
  std::string type = "text";               // lowercased
  std::string subtype = "plain";           // lowercased
  std::vector<Parameter> parameters;       // Content-Type parameters, in order
  std::string charset;                     // lowercased; "us-ascii" for text/* without one
  std::string transfer_encoding = "7bit";  // lowercased
  std::string id;                          // Content-ID as sent
  std::string description;                 // Content-Description decoded to UTF-8
  std::string disposition;                 // lowercased disposition type, empty if absent
  std::vector<Parameter> disposition_parameters;
  std::vector<std::string> language;  // Content-Language tags
  std::string location;               // Content-Location, unfolded, whitespace removed
  std::string md5;                    // Content-MD5 as sent
  std::size_t lines = 0;              // body lines: its LFs, plus one for an unterminated last line
  std::vector<Part> children;
  std::optional<Envelope> envelope;  // message/rfc822 and message/global only

  std::size_t size() const { return body_end - body_begin; }
  bool is_multipart() const { return type == "multipart"; }
  bool is_message() const { return envelope.has_value(); }
  // The attachment's name: Content-Disposition filename, else Content-Type name.
  std::string_view filename() const;
  // A Content-Type parameter's value, or empty.
  std::string_view parameter(std::string_view name) const;

  bool operator==(const Part&) const = default;
};

struct Message {
  std::size_t size = 0;  // the raw message's length
  Envelope envelope;
  Part root;
  std::vector<Defect> defects;  // in input order, at most kMaxDefects
  bool operator==(const Message&) const = default;
};

// Parses a whole message. Never fails; the structure borrows nothing from `raw`.
Message parse(std::string_view raw, const Limits& limits = {});

// A compact, versioned binary form of a Message for the store to keep as an opaque
// blob. decode_structure() checks everything it reads: corrupt or truncated input, an
// unknown version or nesting beyond kMaxDepthCap gives Errc::BadInput, never a crash.
std::string encode_structure(const Message& message);
Result<Message> decode_structure(std::string_view bytes);

}  // namespace rampart::mime
