// ARC, the Authenticated Received Chain (RFC 8617): each hop that forwards a message
// adds a set of three fields, numbered i=1, 2, ... from the first: what it found
// (ARC-Authentication-Results), a DKIM-like signature of the message
// (ARC-Message-Signature) and a seal over every set so far (ARC-Seal, with cv= saying
// how the chain before it validated). A receiver that trusts a sealer can then trust
// the results it recorded, though forwarding broke SPF and DKIM.
//
// Verification is in two steps, as for DKIM (verifier.h), so that an asynchronous caller
// can look the keys up between them:
//
//   for (const ArcKey& key : arc_keys(message)) records[key] = TXT of
//       key.selector + "._domainkey." + key.domain
//   ArcVerdict verdict = verify_arc(message, records, now);
//
// Pure but for OpenSSL; thread-safe. The message has CRLF line ends. Bounds: 50 sets
// (section 4.2.1), the header limits of signature.h, kMaxKeyRecords records tried per
// signature; the work is one body hash, one hash of the signed fields and one
// public-key operation per set at most.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dkim/signer.h"

namespace rampart::dkim {

inline constexpr std::uint32_t kMaxArcSets = 50;

// A key a chain needs: SELECTOR._domainkey.DOMAIN.
using ArcKey = std::pair<std::string, std::string>;  // domain, selector

// The keys the newest ARC-Message-Signature and every ARC-Seal need; none when the
// message has no chain or one that fails on its form alone.
std::vector<ArcKey> arc_keys(std::string_view message);

struct ArcVerdict {
  // RFC 8617 section 4.4: the chain validation status.
  enum class Result { None, Pass, Fail };
  Result result = Result::None;
  std::uint32_t instances = 0;  // the sets found (the newest's i=)
  std::string reason;           // why it failed; no message bytes
  std::string sealer;           // d= of the newest ARC-Seal
  // Pass only: what the newest sealer recorded (its ARC-Authentication-Results after
  // "i=N;"), for a local policy that trusts that sealer.
  std::string newest_results;
};

// Section 5.2: no ARC field: None. Fail when a field is malformed, a set is missing or
// doubled, there are more than 50, the newest seal says cv=fail, the first does not say
// cv=none or a later one cv=pass, the newest ARC-Message-Signature does not verify, or
// any seal does not. `records` holds the TXT records found for each key (a key absent
// or with none: that signature fails). `now` is Unix seconds.
ArcVerdict verify_arc(std::string_view message,
                      const std::map<ArcKey, std::vector<std::string>>& records, std::int64_t now);

// "none", "pass", "fail".
std::string_view arc_result_name(ArcVerdict::Result result);

// The next set of a message this server forwards (section 5.1): its three fields,
// CRLF-ended, to put before `message`, signed by `domain` with `key` (rsa-sha256 or
// ed25519-sha256, relaxed/relaxed, the fields signer.h signs). `results` is the payload
// of this server's Authentication-Results field for the message (from the authserv-id
// on), or the authserv-id alone; `chain` what verify_arc said when it arrived. Empty
// when it must not be sealed: the chain failed (a seal would vouch for it) or already
// has 50 sets, or the key cannot sign.
std::string seal_arc(std::string_view message, std::string_view domain, const Key& key,
                     std::string_view results, ArcVerdict::Result chain, std::int64_t now);

}  // namespace rampart::dkim
