#include "dkim/verifier.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>

#include "base/ascii.h"
#include "dkim/canonical.h"
#include "dkim/crypto_internal.h"

namespace rampart::dkim {

namespace {

using PublicKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

int rank(Verdict::Result result) {
  return result == Verdict::Result::Pass ? 2 : result == Verdict::Result::Fail ? 1 : 0;
}

}  // namespace

namespace detail {

BodyCheck check_body(const Signature& sig, std::string_view body) {
  const std::string canonical = sig.body_canonicalization == Canonicalization::Simple
                                    ? simple_body(body)
                                    : relaxed_body(body);
  std::size_t length = canonical.size();
  if (sig.body_length) {
    // Section 3.5: l= "MUST NOT be larger than the actual number of octets in the
    // canonicalized message body": the body was cut.
    if (*sig.body_length > canonical.size()) return {false, "body shorter than l="};
    length = static_cast<std::size_t>(*sig.body_length);
  }
  BodyCheck out{true, {}, length, canonical.size() - length};
  if (!same_bytes(sha256(std::string_view(canonical).substr(0, length)), sig.body_hash)) {
    out.matches = false;
    out.reason = "body hash did not verify";
  }
  return out;
}

std::string signed_data(const Signature& sig, const std::vector<std::string_view>& fields,
                        std::string_view signature_field) {
  auto canonical = [&](std::string_view field) {
    return sig.header_canonicalization == Canonicalization::Simple ? simple_header(field)
                                                                   : relaxed_header(field);
  };
  std::string data;
  std::vector<bool> taken(fields.size(), false);
  for (std::string_view name : sig.signed_fields) {
    for (std::size_t n = fields.size(); n-- > 0;) {
      if (taken[n] || !field_is(fields[n], name)) continue;
      taken[n] = true;
      data += canonical(fields[n]);
      data += "\r\n";
      break;
    }
  }
  std::string without_b(signature_field.substr(0, sig.b_begin));
  without_b += signature_field.substr(sig.b_end);
  data += canonical(without_b);
  return data;
}

}  // namespace detail

namespace {

// The key in p=: RSA as SubjectPublicKeyInfo (what signers publish, as RFC 6376 appendix
// C makes it) or a bare RSAPublicKey (the words of section 3.6.1), Ed25519 as its 32 bytes
// (RFC 8463 section 4).
PublicKey load_key(KeyType type, const std::string& bytes) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const long size = static_cast<long>(bytes.size());
  if (type == KeyType::Ed25519) {
    return PublicKey(bytes.size() == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                                      data, bytes.size())
                                        : nullptr,
                     EVP_PKEY_free);
  }
  const unsigned char* in = data;
  PublicKey key(d2i_PUBKEY(nullptr, &in, size), EVP_PKEY_free);
  if (!key || in != data + size) {
    in = data;
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &in, size));
    if (key && in != data + size) key.reset();
  }
  if (key && EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) key.reset();
  return key;
}

// rsa-sha256 verifies the data (hashed inside); ed25519-sha256 its SHA-256 hash (RFC 8463
// section 3).
bool signature_holds(const Signature& sig, EVP_PKEY* key, std::string_view data) {
  MdContext context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool rsa = sig.algorithm == SigningAlgorithm::RsaSha256;
  const std::string hashed = rsa ? std::string() : detail::sha256(data);
  const std::string_view input = rsa ? data : std::string_view(hashed);
  return context &&
         EVP_DigestVerifyInit(context.get(), nullptr, rsa ? EVP_sha256() : nullptr, nullptr, key) ==
             1 &&
         EVP_DigestVerify(context.get(),
                          reinterpret_cast<const unsigned char*>(sig.signature.data()),
                          sig.signature.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

}  // namespace

namespace detail {

Outcome try_key(const Signature& sig, std::string_view record, const BodyCheck& body,
                std::string_view data) {
  using enum Verdict::Result;
  auto record_parsed = parse_key_record(record);
  if (!record_parsed) return {PermError, record_parsed.error().detail};
  const KeyRecord& key = *record_parsed;
  auto outcome = [&](Verdict::Result result, std::string reason) {
    return Outcome{result, std::move(reason), key.testing};
  };
  if (!key.allows_sha256) return outcome(PermError, "inappropriate hash algorithm");
  if (key.public_key.empty()) return outcome(Fail, "key revoked");
  const KeyType wanted =
      sig.algorithm == SigningAlgorithm::Ed25519Sha256 ? KeyType::Ed25519 : KeyType::Rsa;
  if (key.type != wanted) return outcome(PermError, "inappropriate key algorithm");
  if (!key.allows_email) return outcome(PermError, "key not for email (s=)");
  if (key.strict) {
    const std::string_view identity = sig.identity;
    if (!iequals(identity.substr(identity.rfind('@') + 1), sig.domain)) {
      return outcome(PermError, "i= not d= exactly (key t=s)");
    }
  }
  const PublicKey public_key = load_key(key.type, key.public_key);
  ERR_clear_error();  // a failed parse leaves errors in this thread's queue
  if (!public_key) return outcome(PermError, "key syntax error: p= is no usable key");
  if (key.type == KeyType::Rsa) {
    const int bits = EVP_PKEY_get_bits(public_key.get());
    if (bits < kMinRsaBits) return outcome(PermError, "RSA key under 1024 bits");
    if (bits > kMaxRsaBits) return outcome(PermError, "RSA key over 8192 bits");
  }
  if (!body.matches) return outcome(Fail, body.reason);
  const bool holds = signature_holds(sig, public_key.get(), data);
  ERR_clear_error();
  if (!holds) return outcome(Fail, "signature did not verify");
  return outcome(Pass, {});
}

}  // namespace detail

Verdict verify(std::string_view message, std::size_t index,
               const std::vector<std::string>& key_records, std::int64_t now) {
  using enum Verdict::Result;
  using namespace detail;
  Verdict verdict;
  auto done = [&](Verdict::Result result, std::string reason) {
    verdict.result = result;
    verdict.reason = std::move(reason);
    return verdict;
  };
  const SignedHeader header = read_header(message);
  if (index >= header.signature_fields.size()) return done(PermError, "no such signature");
  const std::string_view field = header.split.fields[header.signature_fields[index]];
  const Signature sig = parse_signature(field);
  verdict.domain = sig.domain;
  verdict.selector = sig.selector;
  verdict.algorithm = sig.algorithm_name;
  verdict.identity = sig.identity;
  verdict.header_b = sig.signature_text.substr(0, 8);
  verdict.body_length_limited = sig.body_length.has_value();
  if (index >= kMaxSignatures) {
    return done(Neutral, "not verified: more than 10 signatures");
  }
  if (header.over_limit) return done(PermError, "header too large");
  if (!sig.error.empty()) return done(PermError, sig.error);
  if (sig.algorithm == SigningAlgorithm::RsaSha1) {
    return done(PermError, "rsa-sha1 is not accepted (RFC 8301)");
  }
  if (sig.expiry && now > *sig.expiry) return done(Fail, "signature expired");
  if (key_records.empty()) return done(PermError, "no key");

  const BodyCheck body = check_body(sig, header.split.body);
  verdict.signed_body_length = body.signed_length;
  verdict.unsigned_body_length = body.unsigned_length;
  const std::string data = signed_data(sig, header.split.fields, field);
  std::optional<Outcome> best;
  for (std::size_t n = 0; n < key_records.size() && n < kMaxKeyRecords; ++n) {
    Outcome outcome = try_key(sig, key_records[n], body, data);
    if (!best || rank(outcome.result) > rank(best->result)) best = std::move(outcome);
    if (best->result == Pass) break;
  }
  verdict.testing = best->testing;
  return done(best->result, best->reason);
}

std::string_view result_name(Verdict::Result result) {
  using enum Verdict::Result;
  switch (result) {
    case Pass:
      return "pass";
    case Fail:
      return "fail";
    case Neutral:
      return "neutral";
    case Policy:
      return "policy";
    case TempError:
      return "temperror";
    case PermError:
      return "permerror";
  }
  return "permerror";
}

}  // namespace rampart::dkim
