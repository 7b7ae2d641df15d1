#include "spf/macro.h"

#include <gtest/gtest.h>

namespace rampart::spf {
namespace {

// RFC 7208 section 7.4's values.
MacroValues example_values(std::string_view ip = "192.0.2.3") {
  return MacroValues{.sender = "strong-bad@email.example.com",
                     .local_part = "strong-bad",
                     .sender_domain = "email.example.com",
                     .domain = "email.example.com",
                     .ip = *parse_address(ip, true),
                     .validated_name = "mx.example.org",
                     .helo = "mx.example.org",
                     .receiver = "mx.example.net",
                     .timestamp = 1700000000};
}

std::string expand(std::string_view spec, std::string_view ip = "192.0.2.3") {
  auto expanded = expand_domain_spec(spec, example_values(ip));
  return expanded ? *expanded : "error: " + expanded.error().detail;
}

TEST(Macro, ExpandsTheExamplesOfRfc7208Section74) {
  EXPECT_EQ(expand("%{s}"), "strong-bad@email.example.com");
  EXPECT_EQ(expand("%{o}"), "email.example.com");
  EXPECT_EQ(expand("%{d}"), "email.example.com");
  EXPECT_EQ(expand("%{d4}"), "email.example.com");
  EXPECT_EQ(expand("%{d3}"), "email.example.com");
  EXPECT_EQ(expand("%{d2}"), "example.com");
  EXPECT_EQ(expand("%{d1}"), "com");
  EXPECT_EQ(expand("%{dr}"), "com.example.email");
  EXPECT_EQ(expand("%{d2r}"), "example.email");
  EXPECT_EQ(expand("%{l}"), "strong-bad");
  EXPECT_EQ(expand("%{l-}"), "strong.bad");
  EXPECT_EQ(expand("%{lr}"), "strong-bad");
  EXPECT_EQ(expand("%{lr-}"), "bad.strong");
  EXPECT_EQ(expand("%{l1r-}"), "strong");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"),
            "3.2.0.192.in-addr.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

TEST(Macro, ExpandsTheOtherLettersAndEscapes) {
  EXPECT_EQ(expand("%{h}.%{p}"), "mx.example.org.mx.example.org");
  EXPECT_EQ(expand("%{v}.%{i}", "::ffff:192.0.2.3"), "in-addr.192.0.2.3");  // IPv4-mapped
  EXPECT_EQ(expand("a%%b%_c%-d.example.com"), "a%b c%20d.example.com");
  auto explanation = expand_explanation("%{c} %{r} %{t} %{i}", example_values("2001:db8::cb01"));
  ASSERT_TRUE(explanation);
  EXPECT_EQ(*explanation,
            "2001:db8::cb01 mx.example.net 1700000000 "
            "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
}

TEST(Macro, UppercaseLettersUrlEscapeAllButUnreservedCharacters) {
  MacroValues values = example_values();
  values.local_part = "~jack&jill=up-a_b3.c";
  auto text = expand_explanation("http://example.com/why.html?l=%{L}", values);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c");
  values.helo = "JUMPIN' JUPITER";
  EXPECT_EQ(*expand_domain_spec("%{H}", values), "JUMPIN%27%20JUPITER");
}

TEST(Macro, SplitsOnEveryDelimiterGiven) {
  MacroValues values = example_values();
  values.local_part = "foo-bar+zip+quux";
  EXPECT_EQ(*expand_domain_spec("%{l2r+-}.user.%{d2}", values), "bar.foo.user.example.com");
  EXPECT_EQ(*expand_domain_spec("%{l=}.x.example", values), "foo-bar+zip+quux.x.example");
  EXPECT_EQ(*expand_domain_spec("%{l100}.x.example", values), "foo-bar+zip+quux.x.example");
}

TEST(Macro, DropsTheFinalDotAndLeftLabelsPast253Bytes) {
  EXPECT_EQ(expand("%{d}.example.net."), "email.example.com.example.net");
  MacroValues values = example_values();
  values.sender_domain = "somewhat.long.exp.example.com";
  std::string spec = "foobar";
  std::string expected;
  for (int i = 0; i < 8; ++i) {
    spec += ".%{o}";
    expected += "somewhat.long.exp.example.com.";
  }
  spec += ".example.com";
  expected += "example.com";
  auto name = expand_domain_spec(spec, values);
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, expected);  // "foobar." went: 258 bytes became 251
  EXPECT_LE(name->size(), kMaxDomainBytes);
}

TEST(Macro, RefusesAnExpansionPastItsLimit) {
  MacroValues values = example_values();
  values.sender = std::string(200, 'x');
  std::string spec;
  for (int i = 0; i < 100; ++i) spec += "%{S}";
  auto expanded = expand_domain_spec(spec, values);
  ASSERT_FALSE(expanded);
  EXPECT_EQ(expanded.error().code, Errc::TooBig);
}

TEST(Macro, ChecksTheSyntaxOfEachKindOfText) {
  const auto domain = MacroText::DomainSpec;
  EXPECT_TRUE(is_valid_macro_text("example.com", domain));
  EXPECT_TRUE(is_valid_macro_text("example.com.", domain));
  EXPECT_TRUE(is_valid_macro_text("foo.example.xn--zckzah", domain));
  EXPECT_TRUE(is_valid_macro_text("foo:bar/baz.example.com", domain));
  EXPECT_TRUE(is_valid_macro_text("%{d}", domain));
  EXPECT_TRUE(is_valid_macro_text("_spf.%{d2}", domain));
  EXPECT_TRUE(is_valid_macro_text("%{ir}.%{l1r+-}.example.com", domain));
  EXPECT_FALSE(is_valid_macro_text("", domain));
  EXPECT_FALSE(is_valid_macro_text("foo-bar", domain));  // no toplabel
  EXPECT_FALSE(is_valid_macro_text("museum", domain));   // only a toplabel
  EXPECT_FALSE(is_valid_macro_text("museum.", domain));
  EXPECT_FALSE(is_valid_macro_text("111.222.33.44", domain));  // all-numeric toplabel
  EXPECT_FALSE(is_valid_macro_text("example.-com", domain));
  EXPECT_FALSE(is_valid_macro_text("example.com:8080", domain));
  EXPECT_FALSE(is_valid_macro_text("%{d}com", domain));
  EXPECT_FALSE(is_valid_macro_text(std::string("foo.example.com\0", 16), domain));
  EXPECT_FALSE(is_valid_macro_text("%(ir).sbl.example.com", domain));
  EXPECT_FALSE(is_valid_macro_text("foo%.sbl.example.com", domain));
  EXPECT_FALSE(is_valid_macro_text("%{a}.example.com", domain));   // no such letter
  EXPECT_FALSE(is_valid_macro_text("%{d0}.example.com", domain));  // a count is nonzero
  EXPECT_FALSE(is_valid_macro_text("%{r}.example.com", domain));   // c r t: explanations only
  EXPECT_FALSE(is_valid_macro_text("%{d", domain));
  EXPECT_FALSE(is_valid_macro_text("a b.example.com", domain));
  EXPECT_TRUE(is_valid_macro_text("%{r} at %{t} from %{c}.", MacroText::Explanation));
  EXPECT_FALSE(is_valid_macro_text("The %{x}-files.", MacroText::Explanation));
  EXPECT_FALSE(is_valid_macro_text("tab\there", MacroText::Explanation));
  EXPECT_TRUE(is_valid_macro_text("", MacroText::Value));
  EXPECT_FALSE(is_valid_macro_text("%abc", MacroText::Value));
  EXPECT_TRUE(uses_validated_name("%{p}.example.com"));
  EXPECT_TRUE(uses_validated_name("connect from %{P2r}"));
  EXPECT_FALSE(uses_validated_name("%{d}.example.com"));
}

TEST(Address, ParsesMatchesAndSpellsAddresses) {
  EXPECT_FALSE(parse_address("1.2.3", true));
  EXPECT_FALSE(parse_address("1.2.3.04", true));
  EXPECT_FALSE(parse_address("1.2.3.256", true));
  EXPECT_FALSE(parse_address("::1.2.3.4.5", true));
  auto mapped = parse_address("::FFFF:1.2.3.4", true);
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(mapped->v6);
  EXPECT_TRUE(parse_address("::FFFF:1.2.3.4", false)->v6);
  const Address ip = *parse_address("192.0.2.130", true);
  EXPECT_TRUE(in_network(ip, *parse_address("192.0.2.128", true), 30));
  EXPECT_FALSE(in_network(ip, *parse_address("192.0.2.128", true), 31));
  EXPECT_TRUE(in_network(ip, *parse_address("10.0.0.0", true), 0));
  EXPECT_FALSE(in_network(ip, *parse_address("::", true), 0));  // never across families
  const Address ip6 = *parse_address("2001:db8:1234::cafe:babe", true);
  EXPECT_TRUE(in_network(ip6, *parse_address("2001:db8:1234::dead:beef", true), 64));
  EXPECT_FALSE(in_network(ip6, *parse_address("2001:db8:1234::dead:beef", true), 100));
  EXPECT_EQ(reverse_name(ip), "130.2.0.192.in-addr.arpa");
  EXPECT_EQ(reverse_name(*parse_address("2001:db8::1", true)),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(address_text(*parse_address("CAFE:BABE::1", true)), "cafe:babe::1");
}

}  // namespace
}  // namespace rampart::spf
