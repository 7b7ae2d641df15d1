// DKIM verification (RFC 6376 section 6) of rsa-sha256 and ed25519-sha256 (RFC 8463)
// signatures, simple and relaxed canonicalization, in two steps so that an asynchronous
// caller can look the keys up in between; no I/O here:
//
//   for (const SignatureRef& ref : signatures(message)) {   // signature.h
//     records = ref.domain.empty() ? {} : TXT of ref.selector + "._domainkey." + ref.domain
//     if the lookup failed (not "no such name"): that signature is TempError, the
//       caller's to say; else verdicts.push_back(verify(message, ref.index, records, now))
//   }
//
// Thread-safe (no state). The message has CRLF line ends.
//
// What each signature's result means (RFC 8601 section 2.7.1's words):
// - Pass: the body hash and the signature verify with a usable key.
// - Fail: the signature could be checked and does not hold: the body or the signed header
//   fields changed (the body is shorter than l= says), the signature expired (x= is
//   before `now`), or the key is revoked (an empty p=: section 6.1.2 treats it as a failed
//   check).
// - PermError: it cannot be verified, and asking again will not change that: a malformed
//   field, a missing required tag, an unknown version, algorithm or canonicalization, From
//   not in h=, i= outside d=, x= not after t=, no key record, a malformed key record or one
//   that does not fit (k=, h=, s=, t=s), rsa-sha1 (RFC 8301 section 3.1: never valid), an
//   RSA key under 1024 bits (RFC 8301 section 3.2) or over 8192, a header over the limits.
// - Neutral: not verified because the message has more than kMaxSignatures signatures.
// - TempError is only the caller's (a failed lookup); Policy is not used here.
//
// l= (body length): only the first l bytes of the canonicalized body are signed. Such a
// signature can pass with anything appended to the body; the verdict says so
// (body_length_limited, unsigned_body_length) and the caller must not trust, show as
// signed or use for reputation what lies past the signed length.
//
// Limits (besides signature.h's): kMaxKeyRecords records tried per signature. The work per
// signature is one canonicalization and hash of the body and of the signed header fields,
// and one public-key operation per record tried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dkim/signature.h"

namespace rampart::dkim {

inline constexpr std::size_t kMaxKeyRecords = 4;
inline constexpr int kMinRsaBits = 1024;  // RFC 8301 section 3.2
inline constexpr int kMaxRsaBits = 8192;  // what a verifier must support is 4096

// The RFC 8601 / RFC 7601 dkim result of one signature, and what Authentication-Results
// reports with it.
struct Verdict {
  enum class Result { Pass, Fail, Neutral, Policy, TempError, PermError };
  Result result = Result::PermError;
  // As written in the signature (printable ASCII), empty when missing or malformed.
  std::string domain;     // d= (header.d)
  std::string selector;   // s= (header.s)
  std::string algorithm;  // a= (header.a)
  std::string identity;   // i=, or "@" and d= (header.i)
  std::string reason;     // why it did not pass, for the log and reason=; no message bytes
  bool body_length_limited = false;  // l= was given
  // The canonicalized body's bytes that are signed, and those past them that are not
  // (both 0 when the body was not hashed).
  std::size_t signed_body_length = 0;
  std::size_t unsigned_body_length = 0;
  bool testing = false;  // the key says t=y: the signer is testing DKIM (section 3.6.1)
  std::string header_b;  // the first 8 characters of b= (RFC 6008 header.b)
};

// Verifies signature `index` (SignatureRef::index) with the TXT records found for its key,
// each record's strings joined: empty when none was found (a permerror, "no key"). Records
// past kMaxKeyRecords are not tried; of those tried, the first that passes wins, else the
// first that got furthest (fail over permerror). `now` is Unix seconds, for x=.
Verdict verify(std::string_view message, std::size_t index,
               const std::vector<std::string>& key_records, std::int64_t now);

// "pass", "fail", "neutral", "policy", "temperror", "permerror".
std::string_view result_name(Verdict::Result result);

}  // namespace rampart::dkim
