// What DKIM verification and signing share with ARC (arc.h), which signs and verifies
// the same way over other data: not an interface for anything else.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "dkim/signature.h"
#include "dkim/signer.h"
#include "dkim/verifier.h"

namespace rampart::dkim::detail {

// The body hash (RFC 6376 section 6.1.3), checked only once a key is found usable.
struct BodyCheck {
  bool matches = false;
  std::string reason;
  std::size_t signed_length = 0, unsigned_length = 0;  // of the canonicalized body
};
BodyCheck check_body(const Signature& sig, std::string_view body);

// The data a signature covers (section 3.7): the fields h= names, each the bottom-most
// not yet taken (section 5.4.2; one not there adds nothing), then the signature's own
// field with b='s value empty and no CRLF.
std::string signed_data(const Signature& sig, const std::vector<std::string_view>& fields,
                        std::string_view signature_field);

// The outcome of trying one key record; higher ranks win when there are several.
struct Outcome {
  Verdict::Result result;
  std::string reason;
  bool testing = false;
};
// Section 6.1.2 from step 5 on, then 6.1.3, for one key record: `data` is what the
// signature covers.
Outcome try_key(const Signature& sig, std::string_view record, const BodyCheck& body,
                std::string_view data);

// rsa-sha256 signs the data (hashed inside); ed25519-sha256 signs its SHA-256 hash
// (RFC 8463 section 3).
Result<std::string> sign_data(const Key& key, std::string_view data);
// The h= list signer.h's kSignedFields make of a message's header (each name once per
// field present, From once more), and the relaxed fields it covers, CRLF-ended.
std::pair<std::string, std::string> fields_to_sign(const SplitMessage& split);
// A base64 value folded onto lines of at most 72 characters after a tab.
std::string folded(std::string_view value);
std::string sha256(std::string_view data);

}  // namespace rampart::dkim::detail
