#include "dkim/signature.h"

#include <gtest/gtest.h>

namespace rampart::dkim {
namespace {

TEST(TagList, GivesEachTagWithItsValueAndWhatSurroundsIt) {
  const std::string text = " v=1; a = rsa-sha256;\r\n\tb= abc\r\n def ;x=";
  auto tags = parse_tag_list(text);
  ASSERT_TRUE(tags) << tags.error().detail;
  ASSERT_EQ(tags->size(), 4u);
  EXPECT_EQ((*tags)[0].name, "v");
  EXPECT_EQ((*tags)[0].value, "1");
  EXPECT_EQ((*tags)[1].name, "a");
  EXPECT_EQ((*tags)[1].value, "rsa-sha256");
  EXPECT_EQ((*tags)[2].value, "abc\r\n def");
  EXPECT_EQ((*tags)[2].raw, " abc\r\n def ");
  EXPECT_EQ((*tags)[3].name, "x");
  EXPECT_EQ((*tags)[3].value, "");
  // A ";" may end the list, white space after it too; an empty list has no tags.
  EXPECT_EQ(parse_tag_list("a=1;")->size(), 1u);
  EXPECT_EQ(parse_tag_list("a=1; \r\n ")->size(), 1u);
  EXPECT_EQ(parse_tag_list("")->size(), 0u);
  // Names are case-sensitive: these are two tags.
  EXPECT_EQ(parse_tag_list("V=1; v=1")->size(), 2u);
}

TEST(TagList, RefusesWhatTheGrammarDoesNot) {
  for (std::string_view text : {
           "a=1; a=2",          // a name twice
           "1a=x",              // a name begins with a letter
           "a",                 // no "="
           "a=b;;c=d",          // an empty tag-spec inside
           "a=b\x01",           // a control byte
           "a=caf\xc3\xa9",     // beyond ASCII
           "a=b\r\nc=d",        // a line end that does not fold
           "a=b\nc",            // a bare LF
           "a=1; b=2; c=3; d",  // no "=" in the last
       }) {
    EXPECT_FALSE(parse_tag_list(text)) << text;
  }
  EXPECT_TRUE(parse_tag_list("a=1; b=2", 2));
  EXPECT_FALSE(parse_tag_list("a=1; b=2; c=3", 2));
}

// RFC 6376 appendix A.2.
constexpr std::string_view kRfcField =
    "DKIM-Signature: v=1; a=rsa-sha256; s=brisbane; d=example.com;\r\n"
    "      c=simple/simple; q=dns/txt; i=joe@football.example.com;\r\n"
    "      h=Received : From : To : Subject : Date : Message-ID;\r\n"
    "      bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    "      b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB\r\n"
    "        4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut\r\n"
    "        KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV\r\n"
    "        4bmp/YzhwvcubU4=;";

TEST(Signature, ParsesTheRfcExample) {
  const Signature sig = parse_signature(kRfcField);
  ASSERT_EQ(sig.error, "");
  EXPECT_EQ(sig.algorithm, SigningAlgorithm::RsaSha256);
  EXPECT_EQ(sig.algorithm_name, "rsa-sha256");
  EXPECT_EQ(sig.domain, "example.com");
  EXPECT_EQ(sig.selector, "brisbane");
  EXPECT_EQ(sig.identity, "joe@football.example.com");
  EXPECT_EQ(sig.header_canonicalization, Canonicalization::Simple);
  EXPECT_EQ(sig.body_canonicalization, Canonicalization::Simple);
  EXPECT_EQ(sig.signed_fields, (std::vector<std::string_view>{"Received", "From", "To", "Subject",
                                                              "Date", "Message-ID"}));
  EXPECT_EQ(sig.body_hash.size(), 32u);
  EXPECT_EQ(sig.signature.size(), 128u);  // a 1024-bit key
  EXPECT_TRUE(
      sig.signature_text.starts_with("AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB4"));
  EXPECT_FALSE(sig.body_length || sig.timestamp || sig.expiry);
  // b='s value and the white space around it lie between b_begin and b_end.
  const std::string without_b =
      std::string(kRfcField.substr(0, sig.b_begin)) + std::string(kRfcField.substr(sig.b_end));
  EXPECT_TRUE(without_b.ends_with("\r\n      b=;")) << without_b;
}

// A valid field with `change` applied: "tag=value" replaces that tag, "-tag" drops it.
std::string field_with(std::string_view change) {
  std::vector<std::pair<std::string, std::string>> tags = {
      {"v", "1"},
      {"a", "rsa-sha256"},
      {"d", "example.com"},
      {"s", "sel"},
      {"h", "from:to"},
      {"bh", "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="},
      {"b", "AuUoFEfDxTDkHlLX"}};
  if (change.starts_with("-")) {
    std::erase_if(tags, [&](const auto& tag) { return tag.first == change.substr(1); });
  } else if (!change.empty()) {
    const std::size_t equals = change.find('=');
    const std::string name(change.substr(0, equals));
    const std::string value(change.substr(equals + 1));
    auto found =
        std::find_if(tags.begin(), tags.end(), [&](auto& tag) { return tag.first == name; });
    if (found == tags.end()) {
      tags.emplace_back(name, value);
    } else {
      found->second = value;
    }
  }
  std::string field = "DKIM-Signature:";
  for (const auto& [name, value] : tags) field += " " + name + "=" + value + ";";
  return field;
}

TEST(Signature, ChecksEachRuleOfSection3_5) {
  EXPECT_EQ(parse_signature(field_with("")).error, "");
  for (std::string_view required : {"-v", "-a", "-b", "-bh", "-d", "-h", "-s"}) {
    EXPECT_EQ(parse_signature(field_with(required)).error, "signature missing required tag")
        << required;
  }
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"v=2", "incompatible version"},
      {"a=rsa-md5", "unknown algorithm (a=)"},
      {"d=com", "malformed d="},  // at least two labels
      {"d=exa_mple.com", "malformed d="},
      {"d=-example.com", "malformed d="},
      {"s=a..b", "malformed s="},
      {"b=!!!!", "malformed b="},
      {"bh=abc", "malformed bh="},
      {"h=to:subject", "From field not signed"},
      {"h=from::to", "malformed h="},
      {"i=joe", "malformed i="},
      {"i=joe@example.org", "domain mismatch (i= not within d=)"},
      {"i=@badexample.com", "domain mismatch (i= not within d=)"},  // a suffix, no subdomain
      {"c=relaxed/fancy", "unknown canonicalization (c=)"},
      {"q=dns", "no known query method (q=)"},
      {"l=12a", "malformed l="},
      {"t=1234567890123", "malformed t="},  // 13 digits
      {"x=-5", "malformed x="},
  };
  for (const auto& [change, error] : cases) {
    EXPECT_EQ(parse_signature(field_with(change)).error, error) << change;
  }
  EXPECT_EQ(parse_signature(field_with("a=rsa-sha1")).algorithm, SigningAlgorithm::RsaSha1);
  EXPECT_EQ(parse_signature(field_with("h=To : FROM")).error, "");
  EXPECT_EQ(parse_signature(field_with("q=foo/bar:dns/txt")).error, "");
  EXPECT_EQ(parse_signature(field_with("s=under_score-2026")).error, "");
  EXPECT_EQ(parse_signature(field_with("i=joe@Mail.Example.COM")).identity, "joe@Mail.Example.COM");
  EXPECT_EQ(parse_signature(field_with("-i")).identity, "@example.com");
  EXPECT_EQ(*parse_signature(field_with("l=99999999999999999999999")).body_length, UINT64_MAX);
}

TEST(Signature, ExpiryMustBeAfterTheTimestamp) {
  const std::string base = field_with("t=1000");
  EXPECT_EQ(parse_signature(base + " x=2000").error, "");
  EXPECT_EQ(*parse_signature(base + " x=2000").expiry, 2000);
  EXPECT_EQ(parse_signature(base + " x=999").error, "x= not after t=");
  EXPECT_EQ(parse_signature(base + " x=1000").error, "x= not after t=");  // "greater than"
}

TEST(Signature, CanonicalizationDefaultsToSimple) {
  const Signature relaxed = parse_signature(field_with("c=relaxed"));
  EXPECT_EQ(relaxed.header_canonicalization, Canonicalization::Relaxed);
  EXPECT_EQ(relaxed.body_canonicalization, Canonicalization::Simple);
  const Signature both = parse_signature(field_with("c=simple/relaxed"));
  EXPECT_EQ(both.header_canonicalization, Canonicalization::Simple);
  EXPECT_EQ(both.body_canonicalization, Canonicalization::Relaxed);
}

TEST(Signature, AFieldWithAnErrorStillSaysWhoSignedIt) {
  const std::string field = field_with("h=to");
  const Signature sig = parse_signature(field);  // views into `field`
  EXPECT_EQ(sig.error, "From field not signed");
  EXPECT_EQ(sig.domain, "example.com");
  EXPECT_EQ(sig.selector, "sel");
  EXPECT_EQ(sig.signature_text, "AuUoFEfDxTDkHlLX");
  EXPECT_TRUE(parse_signature("DKIM-Signature: v=1; v=1").error.starts_with("malformed"));
  EXPECT_EQ(parse_signature("DKIM-Signature").error, "malformed signature");
}

TEST(KeyRecord, ParsesEachTag) {
  auto key = parse_key_record("v=DKIM1; k=ed25519; h=sha1:sha256; s=email:tlsrpt; t=y:s; p=AAAA");
  ASSERT_TRUE(key) << key.error().detail;
  EXPECT_EQ(key->type, KeyType::Ed25519);
  EXPECT_TRUE(key->allows_sha256);
  EXPECT_TRUE(key->allows_email);
  EXPECT_TRUE(key->testing);
  EXPECT_TRUE(key->strict);
  EXPECT_EQ(key->public_key, std::string(3, '\0'));
  // The defaults: rsa, every hash, every service, no flags.
  auto plain = parse_key_record("p=AA AA");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->type, KeyType::Rsa);
  EXPECT_TRUE(plain->allows_sha256 && plain->allows_email);
  EXPECT_FALSE(plain->testing || plain->strict);
  EXPECT_EQ(plain->public_key.size(), 3u);
}

TEST(KeyRecord, SaysWhatAKeyIsNotFor) {
  EXPECT_FALSE(parse_key_record("h=sha1; p=AAAA")->allows_sha256);
  EXPECT_FALSE(parse_key_record("s=tlsrpt; p=AAAA")->allows_email);
  EXPECT_TRUE(parse_key_record("s=*; p=AAAA")->allows_email);
  EXPECT_FALSE(parse_key_record("t=x; p=AAAA")->testing);            // unknown flags are ignored
  EXPECT_TRUE(parse_key_record("v=DKIM1; p=")->public_key.empty());  // revoked
}

TEST(KeyRecord, RefusesMalformedRecords) {
  for (std::string_view record : {
           "v=DKIM1; k=rsa",           // no p=
           "p=AAAA; v=DKIM1",          // v= not first
           "v=DKIM2; p=AAAA",          // another version
           "k=dsa; p=AAAA",            // an unknown key type
           "p=AA!A",                   // not base64
           "v=DKIM1; p=AAAA; p=AAAA",  // p= twice
           "v=spf1 -all",              // not a tag-list
       }) {
    EXPECT_FALSE(parse_key_record(record)) << record;
  }
  EXPECT_FALSE(parse_key_record("p=" + std::string(kMaxKeyRecordBytes, 'A')));
}

TEST(Signatures, FieldIsMatchesTheNameOnly) {
  EXPECT_TRUE(field_is("Subject : hi", "subject"));
  EXPECT_TRUE(field_is("DKIM-SIGNATURE:v=1", "DKIM-Signature"));
  EXPECT_FALSE(field_is("Subjects: hi", "subject"));
  EXPECT_FALSE(field_is("Subject", "subject"));  // no colon: no field
}

std::string message_with(const std::vector<std::string>& fields) {
  std::string message;
  for (const std::string& field : fields) message += field + "\r\n";
  return message + "From: a@example.com\r\n\r\nbody\r\n";
}

TEST(Signatures, SaysWhatToLookUpForEachSignature) {
  const std::string message =
      message_with({field_with("d=example.com"), field_with("h=to"), field_with("a=rsa-sha1"),
                    field_with("d=mail.example.org")});
  const auto refs = signatures(message);
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[0].index, 0u);
  EXPECT_EQ(refs[0].domain, "example.com");
  EXPECT_EQ(refs[0].selector, "sel");
  EXPECT_TRUE(refs[1].domain.empty() && refs[1].selector.empty());  // malformed
  EXPECT_TRUE(refs[2].domain.empty());  // rsa-sha1: refused without a key
  EXPECT_EQ(refs[3].index, 3u);
  EXPECT_EQ(refs[3].domain, "mail.example.org");
  EXPECT_TRUE(signatures("From: a@example.com\r\n\r\n").empty());
}

TEST(Signatures, StopsAtTheLimits) {
  const std::string twelve = message_with(std::vector<std::string>(12, field_with("")));
  EXPECT_EQ(signatures(twelve).size(), kMaxSignatures);
  EXPECT_EQ(signature_count(twelve), 12u);

  std::vector<std::string> fields = {field_with("")};
  fields.resize(kMaxHeaderFields, "X-Filler: x");
  const auto at_limit = signatures(message_with(fields));  // and From: one field too many
  ASSERT_EQ(at_limit.size(), 1u);
  EXPECT_TRUE(at_limit[0].domain.empty());
  fields.pop_back();
  EXPECT_EQ(signatures(message_with(fields))[0].domain, "example.com");

  const std::string big =
      message_with({field_with(""), "X-Big: " + std::string(kMaxHeaderBytes, 'x')});
  EXPECT_TRUE(signatures(big)[0].domain.empty());
}

}  // namespace
}  // namespace rampart::dkim
