#include "spf/record.h"

#include <gtest/gtest.h>

namespace rampart::spf {
namespace {

Record parse(std::string_view text) {
  auto record = parse_record(text);
  EXPECT_TRUE(record) << text << ": " << record.error().detail;
  return record ? *record : Record{};
}

bool rejects(std::string_view text) { return !parse_record(text); }

TEST(Record, TellsAnSpfRecordByItsVersion) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("v=spf1 -all"));
  EXPECT_TRUE(is_spf_record("V=SpF1 ~all"));
  EXPECT_FALSE(is_spf_record("v=spf10"));
  EXPECT_FALSE(is_spf_record("v=spf1mx"));
  EXPECT_FALSE(is_spf_record("v=spf2.0/pra"));
  EXPECT_FALSE(is_spf_record(" v=spf1"));
}

TEST(Record, ParsesMechanismsWithQualifiersAndArguments) {
  const Record record = parse(
      "v=spf1 a -mx:example.org/30 ~ptr:Example.com ?include:_spf.example.net "
      "ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{ir}.bl.example +all");
  ASSERT_EQ(record.directives.size(), 8u);
  const auto& a = record.directives[0];
  EXPECT_EQ(a.mechanism, Mechanism::A);
  EXPECT_EQ(a.qualifier, Qualifier::Pass);
  EXPECT_EQ(a.domain_spec, "");
  EXPECT_EQ(a.cidr4, 32);
  EXPECT_EQ(a.cidr6, 128);
  const auto& mx = record.directives[1];
  EXPECT_EQ(mx.mechanism, Mechanism::Mx);
  EXPECT_EQ(mx.qualifier, Qualifier::Fail);
  EXPECT_EQ(mx.domain_spec, "example.org");
  EXPECT_EQ(mx.cidr4, 30);
  EXPECT_EQ(mx.text, "-mx:example.org/30");
  EXPECT_EQ(record.directives[2].qualifier, Qualifier::SoftFail);
  EXPECT_EQ(record.directives[2].domain_spec, "Example.com");
  EXPECT_EQ(record.directives[3].qualifier, Qualifier::Neutral);
  EXPECT_EQ(record.directives[3].mechanism, Mechanism::Include);
  EXPECT_EQ(record.directives[4].network, *parse_address("192.0.2.0", false));
  EXPECT_EQ(record.directives[4].cidr4, 24);
  EXPECT_EQ(record.directives[5].mechanism, Mechanism::Ip6);
  EXPECT_EQ(record.directives[5].cidr6, 32);
  EXPECT_EQ(record.directives[6].domain_spec, "%{ir}.bl.example");
  EXPECT_EQ(record.directives[7].mechanism, Mechanism::All);
}

TEST(Record, ReadsDualCidrLengths) {
  const Record record = parse("v=spf1 a/24//64 mx//0 a:foo.example.com/16 A:Foo.Example.com//48");
  ASSERT_EQ(record.directives.size(), 4u);
  EXPECT_EQ(record.directives[0].cidr4, 24);
  EXPECT_EQ(record.directives[0].cidr6, 64);
  EXPECT_EQ(record.directives[1].cidr4, 32);
  EXPECT_EQ(record.directives[1].cidr6, 0);
  EXPECT_EQ(record.directives[2].domain_spec, "foo.example.com");
  EXPECT_EQ(record.directives[2].cidr4, 16);
  EXPECT_EQ(record.directives[3].domain_spec, "Foo.Example.com");
  EXPECT_EQ(record.directives[3].cidr6, 48);
  EXPECT_EQ(parse("v=spf1 a:foo:bar/baz.example.com").directives[0].domain_spec,
            "foo:bar/baz.example.com");
}

TEST(Record, ReadsModifiers) {
  const Record record = parse(
      "v=spf1 -all exp=explain._spf.%{d} moo.cow-far_out=man:dog/cat "
      "redirect=_spf.example.com default=+");
  EXPECT_EQ(record.directives.size(), 1u);
  EXPECT_EQ(record.explanation, "explain._spf.%{d}");
  EXPECT_EQ(record.redirect, "_spf.example.com");
  EXPECT_FALSE(parse("v=spf1").redirect);
}

TEST(Record, AcceptsSpacesBetweenAndAfterTerms) {
  EXPECT_EQ(parse("v=spf1 a  -all ").directives.size(), 2u);
  EXPECT_TRUE(parse("v=spf1").directives.empty());
}

TEST(Record, RejectsAnySyntaxErrorAnywhere) {
  EXPECT_TRUE(rejects("v=spf1 ip4:1.2.3.4 -all moo"));
  EXPECT_TRUE(rejects("v=spf1 -all."));
  EXPECT_TRUE(rejects("v=spf1 -all:foobar"));
  EXPECT_TRUE(rejects("v=spf1 -all/8"));
  EXPECT_TRUE(rejects("v=spf1 =all"));
  EXPECT_TRUE(rejects("v=spf1 1up=foo"));
  EXPECT_TRUE(rejects("v=spf1 moo.cow/far_out=man:dog/cat"));
  EXPECT_TRUE(rejects("v=spf1 redirect:example.com"));
  EXPECT_TRUE(rejects("v=spf1 a:ctrl.example.com\rptr -all"));
  EXPECT_TRUE(rejects("v=spf1 ip4:192.0.2.5\n include:example.com"));
  EXPECT_TRUE(
      rejects("v=spf1 \x80"
              "a:example.net -all"));
  EXPECT_TRUE(
      rejects("v=spf1 a:\xc3\xaf"
              "garbage.example.net -all"));
  EXPECT_TRUE(rejects("v=spf1 include"));
  EXPECT_TRUE(rejects("v=spf1 include:"));
  EXPECT_TRUE(rejects("v=spf1 include:example.com/24"));
  EXPECT_TRUE(rejects("v=spf1 exists"));
  EXPECT_TRUE(rejects("v=spf1 exists:mail.example.com/24"));
  EXPECT_TRUE(rejects("v=spf1 ptr/0"));
  EXPECT_TRUE(rejects("v=spf1 ptr:"));
  EXPECT_TRUE(rejects("v=spf1 a:"));
  EXPECT_TRUE(rejects("v=spf1 a/33"));
  EXPECT_TRUE(rejects("v=spf1 a//129"));
  EXPECT_TRUE(rejects("v=spf1 a/24/64"));
  EXPECT_TRUE(rejects("v=spf1 mx:example.com:8080"));
  EXPECT_TRUE(rejects("v=spf1 a:111.222.33.44"));
  EXPECT_TRUE(rejects("v=spf1 ip4"));
  EXPECT_TRUE(rejects("v=spf1 ip4:1.2.3"));
  EXPECT_TRUE(rejects("v=spf1 ip4:1.2.3.4:8080"));
  EXPECT_TRUE(rejects("v=spf1 ip4:1.2.3.4/33"));
  EXPECT_TRUE(rejects("v=spf1 ip4:1.2.3.4/032"));
  EXPECT_TRUE(rejects("v=spf1 ip4:1.2.3.4//32"));
  EXPECT_TRUE(rejects("v=spf1 ip4:2001:db8::1"));
  EXPECT_TRUE(rejects("v=spf1 ip6"));
  EXPECT_TRUE(rejects("v=spf1 ip6::CAFE::BABE"));
  EXPECT_TRUE(rejects("v=spf1 ip6:::1.1.1.1/129"));
  EXPECT_TRUE(rejects("v=spf1 ip6:::1.1.1.1//33"));
  EXPECT_TRUE(rejects("v=spf1 ip6:192.0.2.1"));
  EXPECT_TRUE(rejects("v=spf1 exp= -all"));
  EXPECT_TRUE(rejects("v=spf1 exp=-all"));
  EXPECT_TRUE(rejects("v=spf1 ?all redirect="));
  EXPECT_TRUE(rejects("v=spf1 redirect=-all ?all"));
  EXPECT_TRUE(rejects("v=spf1 exp=a.example.com -all exp=b.example.com"));
  EXPECT_TRUE(rejects("v=spf1 redirect=a.example.com redirect=a.example.com"));
  EXPECT_TRUE(rejects("v=spf1 -all foo=%abc"));
  EXPECT_TRUE(rejects("v=spf1 -all exp=%{r}.example.com"));
  EXPECT_TRUE(rejects("v=spf10 -all"));
}

TEST(Record, HoldsToItsLimits) {
  std::string record = "v=spf1";
  while (record.size() + 2 <= 4096) record += " a";
  EXPECT_TRUE(parse_record(record, {.max_bytes = 4096, .max_terms = 4096}));
  auto too_long = parse_record(record + " ", {.max_bytes = 4096, .max_terms = 4096});
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, Errc::TooBig);
  auto too_many = parse_record("v=spf1 a a a a", {.max_bytes = 4096, .max_terms = 3});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, Errc::TooBig);
}

}  // namespace
}  // namespace rampart::spf
