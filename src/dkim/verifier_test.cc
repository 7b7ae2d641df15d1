#include "dkim/verifier.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/base64.h"
#include "dkim/canonical.h"
#include "dkim/signer.h"

namespace rampart::dkim {
namespace {

using enum Verdict::Result;

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// NAME<TAB>RECORD lines, as testdata/*/keys.txt hold them; "#" begins a comment.
std::map<std::string, std::string> read_keys(const std::filesystem::path& path) {
  std::map<std::string, std::string> keys;
  std::istringstream lines(read(path));
  for (std::string line; std::getline(lines, line);) {
    const std::size_t tab = line.find('\t');
    if (line.starts_with("#") || tab == std::string::npos) continue;
    keys[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return keys;
}

// Each signature of `message` verified with the records `keys` has for it, as the caller
// does after its lookups.
std::vector<Verdict> verify_all(std::string_view message,
                                const std::map<std::string, std::string>& keys,
                                std::int64_t now = 1800000000) {
  std::vector<Verdict> verdicts;
  for (const SignatureRef& ref : signatures(message)) {
    std::vector<std::string> records;
    const auto found = keys.find(ref.selector + "._domainkey." + ref.domain);
    if (found != keys.end()) records.push_back(found->second);
    verdicts.push_back(verify(message, ref.index, records, now));
  }
  return verdicts;
}

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), size);
}

Key make_key(Algorithm algorithm, std::size_t bits = 2048) {
  EVP_PKEY* key = algorithm == Algorithm::Rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits)
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  return Key{algorithm == Algorithm::Rsa ? "rsa" : "ed", algorithm,
             std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free)};
}

const Key& rsa_key() {
  static const Key key = make_key(Algorithm::Rsa);
  return key;
}

constexpr std::string_view kMessage =
    "From: Joe <joe@example.test>\r\n"
    "To: sue@example.net\r\n"
    "Subject: dinner\r\n"
    "\r\n"
    "Are you hungry?\r\n";

// `message` under a DKIM-Signature of `tags` with c=relaxed/relaxed, bh= and b= added,
// signed by `key` with `digest` (ignored for Ed25519). Written here from RFC 6376 section
// 3.7 rather than taken from the signer, so that it can sign any tags; h= must name
// fields the message has once each.
std::string signed_by(std::string_view message, std::string_view tags, const Key& key,
                      const EVP_MD* digest = EVP_sha256()) {
  const SplitMessage split = split_message(message);
  std::string field = "DKIM-Signature: " + std::string(tags) +
                      "; c=relaxed/relaxed; bh=" + base64_encode(sha256(relaxed_body(split.body))) +
                      "; b=";
  const std::size_t h = tags.find(" h=") + 3;
  std::string_view names = tags.substr(h, tags.find(';', h) - h);
  std::string data;
  for (;;) {
    const std::string_view name = names.substr(0, names.find(':'));
    for (std::string_view header_field : split.fields) {
      if (field_is(header_field, name)) data += relaxed_header(header_field) + "\r\n";
    }
    if (name.size() == names.size()) break;
    names.remove_prefix(name.size() + 1);
  }
  data += relaxed_header(field);
  const bool ed25519 = key.algorithm == Algorithm::Ed25519;
  const std::string input = ed25519 ? sha256(data) : data;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  std::size_t size = 0;
  EXPECT_EQ(EVP_DigestSignInit(context.get(), nullptr, ed25519 ? nullptr : digest, nullptr,
                               key.key.get()),
            1);
  EXPECT_EQ(EVP_DigestSign(context.get(), nullptr, &size,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  std::string signature(size, '\0');
  EXPECT_EQ(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  signature.resize(size);
  return field + base64_encode(signature) + "\r\n" + std::string(message);
}

constexpr std::string_view kTags = "v=1; a=rsa-sha256; d=example.test; s=rsa; h=from:to:subject";

Verdict verify_one(std::string_view message, const std::string& record,
                   std::int64_t now = 1800000000) {
  return verify(message, 0, {record}, now);
}

TEST(Verifier, PassesWhatRampartsSignerSigned) {
  const std::vector<Key> keys = {rsa_key(), make_key(Algorithm::Ed25519)};
  const std::map<std::string, std::string> records = {
      {"rsa._domainkey.example.test", keys[0].record()},
      {"ed._domainkey.example.test", keys[1].record()}};
  const std::string message = std::string(kMessage);
  const std::string signed_message = sign(message, "example.test", keys, 1700000000) + message;

  const auto verdicts = verify_all(signed_message, records);
  ASSERT_EQ(verdicts.size(), 2u);
  for (const Verdict& verdict : verdicts) {
    EXPECT_EQ(verdict.result, Pass) << verdict.algorithm << ": " << verdict.reason;
    EXPECT_EQ(verdict.domain, "example.test");
    EXPECT_EQ(verdict.identity, "@example.test");
    EXPECT_FALSE(verdict.body_length_limited);
    EXPECT_EQ(verdict.unsigned_body_length, 0u);
    EXPECT_EQ(verdict.header_b.size(), 8u);
    EXPECT_NE(signed_message.find("b=" + verdict.header_b), std::string::npos);
  }
  EXPECT_EQ(verdicts[0].algorithm, "rsa-sha256");
  EXPECT_EQ(verdicts[1].algorithm, "ed25519-sha256");
  EXPECT_EQ(verdicts[1].selector, "ed");

  // A changed body, a changed field, an added From (signed once more than there are).
  for (const std::string& changed :
       {signed_message + "P.S.\r\n", replaced(signed_message, "dinner", "Dinner"),
        replaced(signed_message, "From: Joe", "From: Eve <eve@evil.test>\r\nFrom: Joe")}) {
    for (const Verdict& verdict : verify_all(changed, records)) {
      EXPECT_EQ(verdict.result, Fail) << verdict.algorithm;
    }
  }
  EXPECT_EQ(verify_all(signed_message + "P.S.\r\n", records)[0].reason, "body hash did not verify");
  EXPECT_EQ(verify_all(replaced(signed_message, "dinner", "Dinner"), records)[1].reason,
            "signature did not verify");
}

TEST(Verifier, PassesTheRfc8463Example) {
  const std::filesystem::path data = std::filesystem::path(RAMPART_DKIM_TESTDATA) / "rfc8463";
  const std::string message = read(data / "signed.eml");
  const auto keys = read_keys(data / "keys.txt");
  ASSERT_EQ(keys.size(), 2u);
  const auto verdicts = verify_all(message, keys);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].result, Pass) << verdicts[0].reason;
  EXPECT_EQ(verdicts[0].algorithm, "ed25519-sha256");
  EXPECT_EQ(verdicts[0].header_b, "/gCrinpc");
  EXPECT_EQ(verdicts[1].result, Pass) << verdicts[1].reason;
  EXPECT_EQ(verdicts[1].algorithm, "rsa-sha256");  // a 1024-bit key: the least accepted
  EXPECT_EQ(verdicts[1].identity, "@football.example.com");

  for (const Verdict& verdict : verify_all(replaced(message, "hungry", "angry"), keys)) {
    EXPECT_EQ(verdict.result, Fail);
  }
  for (const Verdict& verdict : verify_all(replaced(message, "Is dinner", "Was dinner"), keys)) {
    EXPECT_EQ(verdict.result, Fail);
  }
}

class Dkimpy : public ::testing::Test {
 protected:
  static std::filesystem::path directory() {
    return std::filesystem::path(RAMPART_DKIM_TESTDATA) / "dkimpy";
  }
  std::string message(std::string_view name) {
    return read(directory() / (std::string(name) + ".eml"));
  }
  std::map<std::string, std::string> keys_ = read_keys(directory() / "keys.txt");
};

TEST_F(Dkimpy, EveryMessageVerifiesAndFailsOnceChanged) {
  std::size_t messages = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory())) {
    if (entry.path().extension() != ".eml") continue;
    ++messages;
    const std::string original = read(entry.path());
    const auto verdicts = verify_all(original, keys_);
    ASSERT_FALSE(verdicts.empty()) << entry.path();
    for (const Verdict& verdict : verdicts) {
      EXPECT_EQ(verdict.result, Pass)
          << entry.path() << " " << verdict.selector << ": " << verdict.reason;
    }
    for (const std::string& changed : {replaced(original, "Hello Bob", "Hello Rob"),
                                       replaced(original, "A folded", "A falded")}) {
      for (const Verdict& verdict : verify_all(changed, keys_)) {
        EXPECT_EQ(verdict.result, Fail) << entry.path() << " " << verdict.selector;
      }
    }
  }
  EXPECT_EQ(messages, 8u);
  EXPECT_EQ(verify_all(message("several"), keys_).size(), 3u);
}

TEST_F(Dkimpy, SimpleAndRelaxedCanonicalizationDiffer) {
  // White space changed in a signed field and in the body: only "relaxed" forgives each.
  const auto respaced_field = [](const std::string& text) {
    return replaced(text, "To: bob@example.com", "To:   bob@example.com");
  };
  const auto respaced_body = [](const std::string& text) {
    return replaced(text, "Hello Bob,  \r\n", "Hello   Bob,\r\n");
  };
  EXPECT_EQ(verify_all(respaced_field(message("simple-simple")), keys_)[0].result, Fail);
  EXPECT_EQ(verify_all(respaced_field(message("relaxed-simple")), keys_)[0].result, Pass);
  EXPECT_EQ(verify_all(respaced_body(message("relaxed-simple")), keys_)[0].result, Fail);
  EXPECT_EQ(verify_all(respaced_body(message("relaxed-relaxed")), keys_)[0].result, Pass);
  EXPECT_EQ(verify_all(respaced_body(message("ed25519-simple-relaxed")), keys_)[0].result, Pass);
  EXPECT_EQ(verify_all(respaced_field(message("ed25519-simple-relaxed")), keys_)[0].result, Fail);
}

TEST_F(Dkimpy, TakesRepeatedFieldsFromTheBottomAndMissingOnesAsEmpty) {
  // h=from:x-tag:x-tag:reply-to:subject; the message has two X-Tag fields and no Reply-To.
  const std::string original = message("selected-fields");
  ASSERT_EQ(verify_all(original, keys_)[0].result, Pass);
  // An X-Tag above both signed ones is not taken; one below them is, instead of the first.
  EXPECT_EQ(verify_all("X-Tag: added\r\n" + original, keys_)[0].result, Pass);
  EXPECT_EQ(verify_all(replaced(original, "X-Tag: second\r\n", "X-Tag: second\r\nX-Tag: added\r\n"),
                       keys_)[0]
                .result,
            Fail);
  // Reply-To was signed as absent: adding one breaks the signature.
  EXPECT_EQ(
      verify_all(replaced(original, "Subject:", "Reply-To: eve@evil.test\r\nSubject:"), keys_)[0]
          .result,
      Fail);
  EXPECT_EQ(verify_all(replaced(original, "X-Tag: first", "X-Tag: First"), keys_)[0].result, Fail);
}

TEST_F(Dkimpy, ABodyAppendedPastTheSignedLengthPassesButIsReported) {
  const std::string original = message("length");
  const Verdict whole = verify_all(original, keys_)[0];
  ASSERT_EQ(whole.result, Pass) << whole.reason;
  EXPECT_TRUE(whole.body_length_limited);
  EXPECT_EQ(whole.unsigned_body_length, 0u);
  // What l= says is what was hashed.
  const Signature sig = parse_signature(split_message(original).fields[0]);
  ASSERT_TRUE(sig.body_length);
  EXPECT_EQ(whole.signed_body_length, *sig.body_length);

  const Verdict appended = verify_all(original + "Appended\r\n", keys_)[0];
  EXPECT_EQ(appended.result, Pass) << appended.reason;
  EXPECT_TRUE(appended.body_length_limited);
  EXPECT_EQ(appended.signed_body_length, whole.signed_body_length);
  // The empty lines that ended the body are no longer at its end: they count too.
  EXPECT_EQ(appended.unsigned_body_length, std::string("\r\n\r\nAppended\r\n").size());

  // Within the signed length nothing may change, and none of it may go.
  EXPECT_EQ(verify_all(replaced(original, "tabs", "tubs"), keys_)[0].result, Fail);
  const Verdict cut =
      verify_all(replaced(original, " a line that begins with a space\r\n", ""), keys_)[0];
  EXPECT_EQ(cut.result, Fail);
  EXPECT_EQ(cut.reason, "body shorter than l=");
}

TEST(Verifier, OurTestSignerIsRight) {
  // The other tests change one thing in what signed_by signs; this is the unchanged one.
  const Verdict verdict = verify_one(signed_by(kMessage, kTags, rsa_key()), rsa_key().record());
  EXPECT_EQ(verdict.result, Pass) << verdict.reason;
  EXPECT_EQ(verdict.reason, "");
  const Key ed = make_key(Algorithm::Ed25519);
  EXPECT_EQ(
      verify_one(signed_by(kMessage, "v=1; a=ed25519-sha256; d=example.test; s=ed; h=from", ed),
                 ed.record())
          .result,
      Pass);
}

TEST(Verifier, AnExpiredSignatureFails) {
  const std::string message =
      signed_by(kMessage, std::string(kTags) + "; t=1000; x=2000", rsa_key());
  EXPECT_EQ(verify_one(message, rsa_key().record(), 1500).result, Pass);
  EXPECT_EQ(verify_one(message, rsa_key().record(), 2000).result, Pass);  // not yet past
  const Verdict expired = verify_one(message, rsa_key().record(), 2001);
  EXPECT_EQ(expired.result, Fail);
  EXPECT_EQ(expired.reason, "signature expired");

  const Verdict backwards =
      verify_one(signed_by(kMessage, std::string(kTags) + "; t=2000; x=1000", rsa_key()),
                 rsa_key().record(), 1500);
  EXPECT_EQ(backwards.result, PermError);
  EXPECT_EQ(backwards.reason, "x= not after t=");
}

TEST(Verifier, ARevokedKeyFails) {
  const std::string message = signed_by(kMessage, kTags, rsa_key());
  const Verdict revoked = verify_one(message, "v=DKIM1; k=rsa; p=");
  EXPECT_EQ(revoked.result, Fail);
  EXPECT_EQ(revoked.reason, "key revoked");
}

TEST(Verifier, RefusesRsaSha1) {
  const Verdict sha1 =
      verify_one(signed_by(kMessage, "v=1; a=rsa-sha1; d=example.test; s=rsa; h=from:to:subject",
                           rsa_key(), EVP_sha1()),
                 rsa_key().record());
  EXPECT_EQ(sha1.result, PermError);
  EXPECT_EQ(sha1.reason, "rsa-sha1 is not accepted (RFC 8301)");
  EXPECT_EQ(sha1.algorithm, "rsa-sha1");
}

TEST(Verifier, RefusesRsaKeysUnder1024Bits) {
  const Key small = make_key(Algorithm::Rsa, 512);
  const Verdict refused = verify_one(signed_by(kMessage, kTags, small), small.record());
  EXPECT_EQ(refused.result, PermError);
  EXPECT_EQ(refused.reason, "RSA key under 1024 bits");
  const Key enough = make_key(Algorithm::Rsa, 1024);
  EXPECT_EQ(verify_one(signed_by(kMessage, kTags, enough), enough.record()).result, Pass);
}

TEST(Verifier, RefusesASignatureWithoutFrom) {
  const Verdict verdict = verify_one(
      signed_by(kMessage, "v=1; a=rsa-sha256; d=example.test; s=rsa; h=to:subject", rsa_key()),
      rsa_key().record());
  EXPECT_EQ(verdict.result, PermError);
  EXPECT_EQ(verdict.reason, "From field not signed");
  EXPECT_EQ(verdict.domain, "example.test");  // still said, for Authentication-Results
}

TEST(Verifier, RefusesAnIdentityOutsideTheDomain) {
  const Verdict outside =
      verify_one(signed_by(kMessage, std::string(kTags) + "; i=joe@example.net", rsa_key()),
                 rsa_key().record());
  EXPECT_EQ(outside.result, PermError);
  EXPECT_EQ(outside.reason, "domain mismatch (i= not within d=)");
  const std::string subdomain =
      signed_by(kMessage, std::string(kTags) + "; i=joe@mail.example.test", rsa_key());
  const Verdict inside = verify_one(subdomain, rsa_key().record());
  EXPECT_EQ(inside.result, Pass) << inside.reason;
  EXPECT_EQ(inside.identity, "joe@mail.example.test");
  // A key with t=s allows d='s domain only.
  const std::string strict = "v=DKIM1; t=s; " + rsa_key().record().substr(9);
  EXPECT_EQ(verify_one(subdomain, strict).result, PermError);
  EXPECT_EQ(verify_one(signed_by(kMessage, std::string(kTags) + "; i=joe@example.test", rsa_key()),
                       strict)
                .result,
            Pass);
}

TEST(Verifier, HonoursWhatTheKeyRecordAllows) {
  const std::string message = signed_by(kMessage, kTags, rsa_key());
  const std::string p = rsa_key().record().substr(rsa_key().record().find("p="));
  const std::pair<std::string, std::string> refused[] = {
      {"v=DKIM1; h=sha1; " + p, "inappropriate hash algorithm"},
      {"v=DKIM1; s=tlsrpt; " + p, "key not for email (s=)"},
      {"v=DKIM1; k=ed25519; " + p, "inappropriate key algorithm"},
      {"v=DKIM1; k=rsa; p=AAAA", "key syntax error: p= is no usable key"},
      {"v=DKIM2; " + p, "key syntax error: v= not DKIM1 first"},
  };
  for (const auto& [record, reason] : refused) {
    const Verdict verdict = verify_one(message, record);
    EXPECT_EQ(verdict.result, PermError) << record;
    EXPECT_EQ(verdict.reason, reason) << record;
  }
  const Verdict testing = verify_one(message, "v=DKIM1; h=sha256; s=email; t=y; " + p);
  EXPECT_EQ(testing.result, Pass) << testing.reason;
  EXPECT_TRUE(testing.testing);
  EXPECT_FALSE(verify_one(message, rsa_key().record()).testing);
}

TEST(Verifier, TakesABareRsaPublicKeyToo) {
  unsigned char* der = nullptr;
  const int size = i2d_PublicKey(rsa_key().key.get(), &der);  // PKCS#1 RSAPublicKey
  ASSERT_GT(size, 0);
  const std::string bare(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  EXPECT_EQ(verify_one(signed_by(kMessage, kTags, rsa_key()), "p=" + base64_encode(bare)).result,
            Pass);
}

TEST(Verifier, TriesEachKeyRecord) {
  const std::string message = signed_by(kMessage, kTags, rsa_key());
  const Verdict none = verify(message, 0, {}, 1800000000);
  EXPECT_EQ(none.result, PermError);
  EXPECT_EQ(none.reason, "no key");
  EXPECT_EQ(verify(message, 0, {"v=spf1 -all", rsa_key().record()}, 1800000000).result, Pass);
  // None passes: the one that got furthest says why.
  const Verdict revoked = verify(message, 0, {"v=spf1 -all", "p="}, 1800000000);
  EXPECT_EQ(revoked.result, Fail);
  EXPECT_EQ(revoked.reason, "key revoked");
  // Past kMaxKeyRecords records none is tried.
  std::vector<std::string> many(kMaxKeyRecords, "v=spf1 -all");
  many.push_back(rsa_key().record());
  EXPECT_EQ(verify(message, 0, many, 1800000000).result, PermError);
}

TEST(Verifier, StopsAtTheLimits) {
  std::string message = signed_by(kMessage, kTags, rsa_key());
  for (std::size_t n = 1; n <= kMaxSignatures; ++n) message = signed_by(message, kTags, rsa_key());
  ASSERT_EQ(signature_count(message), kMaxSignatures + 1);
  EXPECT_EQ(signatures(message).size(), kMaxSignatures);
  EXPECT_EQ(verify(message, kMaxSignatures - 1, {rsa_key().record()}, 1800000000).result, Pass);
  const Verdict ignored = verify(message, kMaxSignatures, {rsa_key().record()}, 1800000000);
  EXPECT_EQ(ignored.result, Neutral);
  EXPECT_EQ(ignored.domain, "example.test");
  EXPECT_EQ(verify(message, kMaxSignatures + 1, {rsa_key().record()}, 1800000000).result,
            PermError);

  const std::string big =
      signed_by("X-Big: " + std::string(kMaxHeaderBytes, 'x') + "\r\n" + std::string(kMessage),
                kTags, rsa_key());
  const Verdict too_big = verify_one(big, rsa_key().record());
  EXPECT_EQ(too_big.result, PermError);
  EXPECT_EQ(too_big.reason, "header too large");
}

TEST(Verifier, NamesEachResultAsRfc8601Does) {
  EXPECT_EQ(result_name(Pass), "pass");
  EXPECT_EQ(result_name(Fail), "fail");
  EXPECT_EQ(result_name(Neutral), "neutral");
  EXPECT_EQ(result_name(Policy), "policy");
  EXPECT_EQ(result_name(TempError), "temperror");
  EXPECT_EQ(result_name(PermError), "permerror");
}

}  // namespace
}  // namespace rampart::dkim
