// The DKIM-Signature header field (RFC 6376 section 3.5) and the key record (section
// 3.6.1), parsed: both are tag-lists (section 3.2), checked here against every syntax
// rule and against the checks of section 6.1.1 that need neither the key nor the clock.
// Also what a message's signatures need looked up (`signatures`). Pure: bytes in, a value
// out, no I/O, so the fuzz build takes it alone (fuzz/dkim_verify_fuzz.cc); the
// verification itself, which needs OpenSSL, is verifier.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "dkim/canonical.h"

namespace rampart::dkim {

// The bounds on what a message or a key record can make the verifier do or hold.
// Signatures past the tenth are not verified (section 6.1 lets a verifier limit them).
inline constexpr std::size_t kMaxSignatures = 10;
// A header with more fields or bytes than this is not verified at all: every signature of
// it is a permerror. The header's bytes are canonicalized at most once per signature.
inline constexpr std::size_t kMaxHeaderFields = 1000;
inline constexpr std::size_t kMaxHeaderBytes = 1 << 20;
// Tags in one tag-list, and header field names in one h=.
inline constexpr std::size_t kMaxTags = 64;
inline constexpr std::size_t kMaxSignedFields = 128;
// A key record (its TXT strings joined) longer than this is refused; 4096-bit RSA keys
// take some 750 bytes.
inline constexpr std::size_t kMaxKeyRecordBytes = 4096;

// One tag-spec of a tag-list. Views into the parsed text.
struct Tag {
  std::string_view name;   // case-sensitive (section 3.2)
  std::string_view value;  // without the white space around it; may hold folding inside
  std::string_view raw;    // everything between the "=" and the ";" (or the end)
};

// The tags of `text`, in order. Fails on a tag-spec that is not NAME=VALUE, a name given
// twice, a byte in a value outside VALCHAR (printable ASCII but ";") and folding white
// space, or more than `max_tags` tags. A ";" may end the list.
Result<std::vector<Tag>> parse_tag_list(std::string_view text, std::size_t max_tags = kMaxTags);

enum class SigningAlgorithm { RsaSha1, RsaSha256, Ed25519Sha256 };
enum class Canonicalization { Simple, Relaxed };

// A DKIM-Signature field, parsed. Views into the field. Each value is set only once it has
// been found well-formed, so a field with an error still says what it could (its d=, for
// Authentication-Results).
struct Signature {
  std::string error;  // why this is no valid signature (a permerror); empty: it is one

  std::string_view algorithm_name;  // a=, as written
  SigningAlgorithm algorithm = SigningAlgorithm::RsaSha256;
  Canonicalization header_canonicalization = Canonicalization::Simple;  // c=, default simple
  Canonicalization body_canonicalization = Canonicalization::Simple;
  std::string_view domain;    // d=: at least two labels of letters, digits and hyphens
  std::string_view selector;  // s=: labels of letters, digits, hyphens and underscores
  std::string identity;       // i=, or "@" and d= when absent
  std::vector<std::string_view> signed_fields;  // h=, in order, as written
  std::optional<std::uint64_t> body_length;     // l= (UINT64_MAX when larger)
  std::optional<std::int64_t> timestamp;        // t=
  std::optional<std::int64_t> expiry;           // x=
  std::string signature;                        // b=, decoded
  std::string body_hash;                        // bh=, decoded
  std::string signature_text;                   // b= without its white space
  // Where b='s value lies in the field, white space around it included: it is hashed as
  // empty (section 3.7).
  std::size_t b_begin = 0, b_end = 0;
  // ARC (RFC 8617) fields only: i=, the set's instance (1 to 50), and an ARC-Seal's cv=
  // ("none", "pass" or "fail").
  std::uint32_t instance = 0;
  std::string_view chain_validation;
};

// What kind of field parse_signature reads. ARC-Message-Signature (RFC 8617 section
// 4.1.2) is a DKIM-Signature without v=, whose i= is the instance; ARC-Seal (section
// 4.1.3) has neither h= nor bh= (nor c=: always relaxed) and has cv=.
enum class SignatureKind { Dkim, ArcMessage, ArcSeal };

// Parses one DKIM-Signature field ("DKIM-Signature:" and its value, as split_message gives
// it). Required: v=1, a=, b=, bh=, d=, h= naming From, s=; i= must lie in d=; q= must offer
// dns/txt; x= must be after t=. rsa-sha1 parses (the verifier refuses it, RFC 8301).
// The ARC kinds as SignatureKind says; their identity is "@" and d=.
Signature parse_signature(std::string_view field, SignatureKind kind = SignatureKind::Dkim);

enum class KeyType { Rsa, Ed25519 };

// A key record (section 3.6.1): one TXT record, its strings joined.
struct KeyRecord {
  KeyType type = KeyType::Rsa;  // k=, default rsa
  bool allows_sha256 = true;    // h= absent, or naming sha256
  bool allows_email = true;     // s= absent, or naming * or email
  bool testing = false;         // t=y
  bool strict = false;          // t=s: i= must have d='s domain exactly, no subdomain
  std::string public_key;       // p=, decoded; empty: the key is revoked
};

// Fails on a malformed tag-list, a v= that is not first or not DKIM1, an unknown k=, a
// missing or malformed p=, a record over kMaxKeyRecordBytes.
Result<KeyRecord> parse_key_record(std::string_view record);

// The field is named `name`: ASCII case folded, white space before the colon ignored (RFC
// 5322's obsolete syntax). A line without a colon is no field.
bool field_is(std::string_view field, std::string_view name);

// A message's header read within the limits, and where its DKIM-Signature fields are.
struct SignedHeader {
  SplitMessage split;                         // at most kMaxHeaderFields fields
  std::vector<std::size_t> signature_fields;  // indices into split.fields, top first
  bool over_limit = false;  // more than kMaxHeaderFields fields or kMaxHeaderBytes bytes
};
SignedHeader read_header(std::string_view message);

// A DKIM-Signature field of a message and the key it needs: a TXT lookup of
// SELECTOR._domainkey.DOMAIN. `index` counts the message's DKIM-Signature fields from the
// top, from 0. Domain and selector are empty when nothing needs looking up (the field is
// malformed or rsa-sha1, or the header over the limits): verify() says why without a key.
struct SignatureRef {
  std::size_t index;
  std::string domain, selector;
};

// The message's DKIM-Signature fields, the first kMaxSignatures of them, parsed: what to
// look up before calling verify() for each. `message` has CRLF line ends.
std::vector<SignatureRef> signatures(std::string_view message);

// How many DKIM-Signature fields the message has (within kMaxHeaderFields), so that the
// caller can log those past kMaxSignatures that were not verified.
std::size_t signature_count(std::string_view message);

}  // namespace rampart::dkim
