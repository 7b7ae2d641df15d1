#include "spf/check_host.h"

#include <gtest/gtest.h>

#include "spf/fake_dns.h"

namespace rampart::spf {
namespace {

SpfRequest request(std::string ip, std::string mail_from = "user@example.com") {
  return SpfRequest{.client_ip = std::move(ip),
                    .mail_from = std::move(mail_from),
                    .helo = "client.example.net",
                    .receiver = "mx.example.net",
                    .default_explanation = "DEFAULT"};
}

// The DNS of RFC 7208 Appendix A.
FakeDns appendix_a() {
  FakeDns dns;
  dns.add_mx("example.com", 10, "mail-a.example.com");
  dns.add_mx("example.com", 20, "mail-b.example.com");
  dns.add_a("example.com", "192.0.2.10");
  dns.add_a("example.com", "192.0.2.11");
  dns.add_a("amy.example.com", "192.0.2.65");
  dns.add_a("bob.example.com", "192.0.2.66");
  dns.add_a("mail-a.example.com", "192.0.2.129");
  dns.add_a("mail-b.example.com", "192.0.2.130");
  dns.add_cname("www.example.com", "example.com");
  dns.add_mx("example.org", 10, "mail-c.example.org");
  dns.add_a("mail-c.example.org", "192.0.2.140");
  dns.add_ptr("10.2.0.192.in-addr.arpa", "example.com");
  dns.add_ptr("11.2.0.192.in-addr.arpa", "example.com");
  dns.add_ptr("65.2.0.192.in-addr.arpa", "amy.example.com");
  dns.add_ptr("66.2.0.192.in-addr.arpa", "bob.example.com");
  dns.add_ptr("129.2.0.192.in-addr.arpa", "mail-a.example.com");
  dns.add_ptr("130.2.0.192.in-addr.arpa", "mail-b.example.com");
  dns.add_ptr("140.2.0.192.in-addr.arpa", "mail-c.example.org");
  dns.add_ptr("4.0.0.10.in-addr.arpa", "bob.example.com");  // the rogue reverse name
  return dns;
}

// The verdict for mail from user@example.com at `ip` when example.com publishes `record`.
std::string verdict(const std::string& record, const std::string& ip) {
  FakeDns dns = appendix_a();
  dns.add_txt("example.com", record);
  return verdict_name(run_check_host(dns, request(ip)).verdict);
}

TEST(CheckHost, GivesTheResultsOfRfc7208AppendixA1) {
  EXPECT_EQ(verdict("v=spf1 +all", "198.51.100.1"), "pass");
  EXPECT_EQ(verdict("v=spf1 a -all", "192.0.2.10"), "pass");
  EXPECT_EQ(verdict("v=spf1 a -all", "192.0.2.11"), "pass");
  EXPECT_EQ(verdict("v=spf1 a -all", "192.0.2.65"), "fail");
  EXPECT_EQ(verdict("v=spf1 a:example.org -all", "192.0.2.10"), "fail");
  EXPECT_EQ(verdict("v=spf1 a:example.org -all", "192.0.2.140"), "fail");
  EXPECT_EQ(verdict("v=spf1 mx -all", "192.0.2.129"), "pass");
  EXPECT_EQ(verdict("v=spf1 mx -all", "192.0.2.130"), "pass");
  EXPECT_EQ(verdict("v=spf1 mx -all", "192.0.2.10"), "fail");
  EXPECT_EQ(verdict("v=spf1 mx:example.org -all", "192.0.2.140"), "pass");
  EXPECT_EQ(verdict("v=spf1 mx:example.org -all", "192.0.2.129"), "fail");
  for (const char* ip : {"192.0.2.129", "192.0.2.130", "192.0.2.140"}) {
    EXPECT_EQ(verdict("v=spf1 mx mx:example.org -all", ip), "pass") << ip;
  }
  for (const char* ip : {"192.0.2.128", "192.0.2.131", "192.0.2.141", "192.0.2.143"}) {
    EXPECT_EQ(verdict("v=spf1 mx/30 mx:example.org/30 -all", ip), "pass") << ip;
  }
  EXPECT_EQ(verdict("v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.132"), "fail");
  EXPECT_EQ(verdict("v=spf1 ptr -all", "192.0.2.65"), "pass");
  EXPECT_EQ(verdict("v=spf1 ptr -all", "192.0.2.140"), "fail");  // valid, not in example.com
  EXPECT_EQ(verdict("v=spf1 ptr -all", "10.0.0.4"), "fail");     // the reverse name is not valid
  EXPECT_EQ(verdict("v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.65"), "fail");
  EXPECT_EQ(verdict("v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.129"), "pass");
}

TEST(CheckHost, FollowsIncludeAndRedirectAsInAppendixA2) {
  for (const char* domain : {"example.org", "la.example.org"}) {
    FakeDns dns = appendix_a();
    dns.add_txt("example.com", "v=spf1 mx -all");
    dns.add_txt("example.net", "v=spf1 ip4:198.51.100.0/24 -all");
    dns.add_txt("example.org", "v=spf1 include:example.com include:example.net -all");
    dns.add_txt("la.example.org", "v=spf1 redirect=example.org");
    const std::string from = std::string("whatever@") + domain;
    EXPECT_EQ(run_check_host(dns, request("192.0.2.129", from)).verdict, Verdict::Pass);
    EXPECT_EQ(run_check_host(dns, request("198.51.100.7", from)).verdict, Verdict::Pass);
    const SpfResult failed = run_check_host(dns, request("192.0.2.10", from));
    EXPECT_EQ(failed.verdict, Verdict::Fail);
    EXPECT_EQ(failed.domain, domain);
    EXPECT_EQ(failed.mechanism, "-all");
  }
}

TEST(CheckHost, ChecksUsersAsInTheDnsblStyleExampleOfAppendixA3) {
  FakeDns dns = appendix_a();
  dns.add_txt("example.com", std::vector<std::string>{"v=spf1 mx include:mobile-users._spf.%{d} ",
                                                      "include:remote-users._spf.%{d} -all"});
  dns.add_txt("mobile-users._spf.example.com", "v=spf1 exists:%{l1r+}.%{d}");
  dns.add_txt("remote-users._spf.example.com", "v=spf1 exists:%{ir}.%{l1r+}.%{d}");
  dns.add_a("mary.mobile-users._spf.example.com", "127.0.0.2");
  dns.add_a("fred.mobile-users._spf.example.com", "127.0.0.2");
  dns.add_a("15.15.168.192.joel.remote-users._spf.example.com", "127.0.0.2");
  dns.add_a("16.15.168.192.joel.remote-users._spf.example.com", "127.0.0.2");
  auto check = [&](const char* ip, const char* from) {
    return run_check_host(dns, request(ip, from)).verdict;
  };
  EXPECT_EQ(check("203.0.113.9", "mary@example.com"), Verdict::Pass);
  EXPECT_EQ(check("203.0.113.9", "fred+spam@example.com"), Verdict::Pass);
  EXPECT_EQ(check("192.168.15.15", "joel@example.com"), Verdict::Pass);
  EXPECT_EQ(check("192.168.15.16", "joel@example.com"), Verdict::Pass);
  EXPECT_EQ(check("192.168.15.17", "joel@example.com"), Verdict::Fail);
  EXPECT_EQ(check("203.0.113.9", "bob@example.com"), Verdict::Fail);
  EXPECT_EQ(check("192.0.2.130", "bob@example.com"), Verdict::Pass);
}

// example.com includes l1.example.com, which includes l2 ... up to l<depth>.
FakeDns include_chain(int depth) {
  FakeDns dns;
  dns.add_txt("example.com", "v=spf1 include:l1.example.com -all");
  for (int i = 1; i < depth; ++i) {
    dns.add_txt("l" + std::to_string(i) + ".example.com",
                "v=spf1 include:l" + std::to_string(i + 1) + ".example.com -all");
  }
  dns.add_txt("l" + std::to_string(depth) + ".example.com", "v=spf1 ip4:192.0.2.1 -all");
  return dns;
}

TEST(CheckHost, AllowsTenDnsTermsAndNotAnEleventh) {
  FakeDns ten = include_chain(10);
  EXPECT_EQ(run_check_host(ten, request("192.0.2.1")).verdict, Verdict::Pass);
  FakeDns eleven = include_chain(11);
  const SpfResult over = run_check_host(eleven, request("192.0.2.1"));
  EXPECT_EQ(over.verdict, Verdict::PermError);
  EXPECT_NE(over.reason.find("DNS lookup limit"), std::string::npos) << over.reason;

  FakeDns terms;
  terms.add_a("example.com", "192.0.2.9");
  terms.add_txt("example.com", "v=spf1 a a a a a mx a a a a ip4:192.0.2.1 -all");
  EXPECT_EQ(run_check_host(terms, request("192.0.2.1")).verdict, Verdict::Pass);
  terms = FakeDns();
  terms.add_a("example.com", "192.0.2.9");
  terms.add_txt("example.com", "v=spf1 a a a a a mx a a a a exists:x.example.com ip4:192.0.2.1");
  EXPECT_EQ(run_check_host(terms, request("192.0.2.1")).verdict, Verdict::PermError);
  // Terms that ask nothing do not count.
  terms = FakeDns();
  terms.add_txt("example.com",
                "v=spf1 ip4:10.0.0.1 ip4:10.0.0.2 ip4:10.0.0.3 ip4:10.0.0.4 "
                "ip4:10.0.0.5 ip4:10.0.0.6 ip6:2001:db8::1 ip6:2001:db8::2 "
                "ip6:2001:db8::3 ip6:2001:db8::4 ip6:2001:db8::5 -all");
  EXPECT_EQ(run_check_host(terms, request("192.0.2.1")).verdict, Verdict::Fail);
}

TEST(CheckHost, AllowsTwoVoidLookupsAndNotAThird) {
  FakeDns dns;
  dns.add_name("empty.example.com");  // exists, no address: a void lookup too
  dns.add_txt("two.example.com", "v=spf1 a:empty.example.com a:nx.example.com ?all");
  dns.add_txt("three.example.com",
              "v=spf1 a:empty.example.com mx:nx.example.com exists:nx2.example.com ?all");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@two.example.com")).verdict,
            Verdict::Neutral);
  const SpfResult three = run_check_host(dns, request("192.0.2.1", "u@three.example.com"));
  EXPECT_EQ(three.verdict, Verdict::PermError);
  EXPECT_NE(three.reason.find("void"), std::string::npos) << three.reason;
}

TEST(CheckHost, LooksAtTenMxNamesAtMost) {
  FakeDns dns;
  dns.add_txt("example.com", "v=spf1 mx -all");
  for (int i = 0; i < 10; ++i) dns.add_mx("example.com", i, "mx.example.com");
  dns.add_a("mx.example.com", "192.0.2.1");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1")).verdict, Verdict::Pass);
  dns.add_mx("example.com", 10, "mx.example.com");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1")).verdict, Verdict::PermError);
}

TEST(CheckHost, LooksAtTheFirstTenPtrNamesOnly) {
  FakeDns dns;
  dns.add_txt("example.com", "v=spf1 ptr -all");
  for (int i = 0; i < 10; ++i) dns.add_ptr("1.2.0.192.in-addr.arpa", "other.example.org");
  dns.add_ptr("1.2.0.192.in-addr.arpa", "mail.example.com");
  dns.add_a("mail.example.com", "192.0.2.1");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1")).verdict, Verdict::Fail);
}

TEST(CheckHost, ChecksPtrNamesForwardAndSkipsFailingOnes) {
  FakeDns dns;
  dns.add_txt("example.com", "v=spf1 ptr -all");
  dns.add_ptr("1.2.0.192.in-addr.arpa", "broken.example.com");
  dns.add_ptr("1.2.0.192.in-addr.arpa", "MAIL.Example.COM.");
  dns.serve_failure("broken.example.com");
  dns.add_a("mail.example.com", "192.0.2.1");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1")).verdict, Verdict::Pass);
  // A PTR lookup that fails is no match, not a temperror (section 5.5).
  FakeDns failing;
  failing.add_txt("example.com", "v=spf1 ptr ~all");
  failing.serve_failure("1.2.0.192.in-addr.arpa");
  EXPECT_EQ(run_check_host(failing, request("192.0.2.1")).verdict, Verdict::SoftFail);
}

TEST(CheckHost, CountsTheValidatedNameMacroAsALookup) {
  FakeDns dns;
  dns.add_a("example.com", "192.0.2.9");
  dns.add_ptr("1.2.0.192.in-addr.arpa", "mail.example.com");
  dns.add_a("mail.example.com", "192.0.2.1");
  dns.add_a("mail.example.com.ok.example.net", "127.0.0.2");
  dns.add_txt("nine.example.com",
              "v=spf1 a:example.com a:example.com a:example.com "
              "a:example.com a:example.com a:example.com a:example.com "
              "a:example.com exists:%{p}.ok.example.net -all");
  dns.add_txt("ten.example.com",
              "v=spf1 a:example.com a:example.com a:example.com "
              "a:example.com a:example.com a:example.com a:example.com "
              "a:example.com a:example.com exists:%{p}.ok.example.net -all");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@nine.example.com")).verdict, Verdict::Pass);
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@ten.example.com")).verdict,
            Verdict::PermError);
}

TEST(CheckHost, MakesNoPtrLookupUnlessARecordAsksForOne) {
  FakeDns dns = appendix_a();
  dns.add_txt("example.com", "v=spf1 a mx -all exp=explain.example.com");
  dns.add_txt("explain.example.com", "%{i} is not allowed for %{d}");
  const SpfResult result = run_check_host(dns, request("192.0.2.65"));
  EXPECT_EQ(result.verdict, Verdict::Fail);
  EXPECT_EQ(result.explanation, "192.0.2.65 is not allowed for example.com");
  for (const auto& [name, type] : dns.queries) {
    EXPECT_NE(type, dns::Type::Ptr) << name;
  }
}

TEST(CheckHost, FindsNoneWithoutARecordAndPermerrorWithTwo) {
  FakeDns dns;
  dns.add_txt("other.example.com", "google-site-verification=abc");
  dns.add_txt("two.example.com", "v=spf1 -all");
  dns.add_txt("two.example.com", "V=SPF1 +all");
  dns.add_txt("version.example.com", "v=spf10 -all");
  dns.add_txt("split.example.com", std::vector<std::string>{"v=spf1 ip4:", "192.0.2.1 -all"});
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@nx.example.com")).verdict, Verdict::None);
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@other.example.com")).verdict,
            Verdict::None);
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@version.example.com")).verdict,
            Verdict::None);
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@two.example.com")).verdict,
            Verdict::PermError);
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1", "u@split.example.com")).verdict,
            Verdict::Pass);
}

TEST(CheckHost, ReportsDnsFailuresAsTemperror) {
  FakeDns dns;
  dns.serve_failure("servfail.example.com");
  dns.time_out("timeout.example.com");
  dns.add_txt("a.example.com", "v=spf1 a:timeout.example.com -all");
  dns.add_txt("mx.example.com", "v=spf1 mx:mx.example.com -all");
  dns.add_mx("mx.example.com", 10, "servfail.example.com");
  dns.add_txt("include.example.com", "v=spf1 include:servfail.example.com -all");
  for (const char* domain : {"servfail.example.com", "timeout.example.com", "a.example.com",
                             "mx.example.com", "include.example.com"}) {
    const SpfResult result = run_check_host(dns, request("192.0.2.1", std::string("u@") + domain));
    EXPECT_EQ(result.verdict, Verdict::TempError) << domain;
    EXPECT_FALSE(result.reason.empty());
  }
}

TEST(CheckHost, FollowsTheIncludeTable) {
  FakeDns dns;
  dns.add_txt("pass.example.com", "v=spf1 +all");
  dns.add_txt("fail.example.com", "v=spf1 -all");
  dns.add_txt("broken.example.com", "v=spf1 moo");
  dns.add_txt("none.example.com", "not spf");
  dns.time_out("timeout.example.com");
  auto included = [&](const std::string& target) {
    dns.add_txt("t-" + target, "v=spf1 -include:" + target + " ?all");
    return run_check_host(dns, request("192.0.2.1", "u@t-" + target)).verdict;
  };
  EXPECT_EQ(included("pass.example.com"), Verdict::Fail);  // matched: its qualifier
  EXPECT_EQ(included("fail.example.com"), Verdict::Neutral);
  EXPECT_EQ(included("broken.example.com"), Verdict::PermError);
  EXPECT_EQ(included("none.example.com"), Verdict::PermError);
  EXPECT_EQ(included("nx.example.com"), Verdict::PermError);
  EXPECT_EQ(included("timeout.example.com"), Verdict::TempError);
}

TEST(CheckHost, RedirectsWhenNothingMatched) {
  FakeDns dns;
  dns.add_txt("example.com",
              "v=spf1 ip4:192.0.2.1 exp=first.example.com redirect=_spf.example.com");
  dns.add_txt("_spf.example.com", "v=spf1 a -all exp=second.example.com");
  dns.add_a("_spf.example.com", "192.0.2.2");
  dns.add_txt("first.example.com", "from example.com");
  dns.add_txt("second.example.com", "from %{d}");
  dns.add_txt("nowhere.example.com", "v=spf1 redirect=nx.example.com");
  dns.add_txt("ignored.example.com", "v=spf1 redirect=nx.example.com ~all");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.1")).verdict, Verdict::Pass);
  EXPECT_EQ(run_check_host(dns, request("192.0.2.2")).verdict, Verdict::Pass);
  const SpfResult failed = run_check_host(dns, request("192.0.2.3"));
  EXPECT_EQ(failed.verdict, Verdict::Fail);
  EXPECT_EQ(failed.explanation, "from _spf.example.com");  // the redirect's own exp=
  EXPECT_EQ(failed.domain, "example.com");
  EXPECT_EQ(run_check_host(dns, request("192.0.2.3", "u@nowhere.example.com")).verdict,
            Verdict::PermError);
  EXPECT_EQ(run_check_host(dns, request("192.0.2.3", "u@ignored.example.com")).verdict,
            Verdict::SoftFail);
}

TEST(CheckHost, ExplainsAFailFromExpOrByDefault) {
  FakeDns dns;
  dns.add_txt("example.com", "v=spf1 include:inner.example.com -all exp=why.example.com");
  dns.add_txt("inner.example.com", "v=spf1 -all exp=inner-why.example.com");
  dns.add_txt("why.example.com", "%{c} may not send mail for %{o}; see https://%{d}/spf");
  dns.add_txt("inner-why.example.com", "not this one");
  dns.add_txt("two.example.com", "v=spf1 -all exp=two-why.example.com");
  dns.add_txt("two-why.example.com", "one");
  dns.add_txt("two-why.example.com", "two");
  dns.add_txt("bad.example.com", "v=spf1 -all exp=bad-why.example.com");
  dns.add_txt("bad-why.example.com", "The %{x}-files.");
  dns.add_txt("nx.example.com", "v=spf1 -all exp=nothing.example.com");
  dns.add_txt("soft.example.com", "v=spf1 ~all exp=why.example.com");
  SpfRequest from_v6 = request("2001:db8::1");
  from_v6.default_explanation = "%{c} is not one of %{d}'s designated mail servers.";
  EXPECT_EQ(run_check_host(dns, from_v6).explanation,
            "2001:db8::1 may not send mail for example.com; see https://example.com/spf");
  for (const char* domain : {"two.example.com", "bad.example.com", "nx.example.com"}) {
    SpfRequest fallback = from_v6;
    fallback.mail_from = std::string("u@") + domain;
    EXPECT_EQ(run_check_host(dns, fallback).explanation,
              std::string("2001:db8::1 is not one of ") + domain + "'s designated mail servers.");
  }
  const SpfResult soft = run_check_host(dns, request("192.0.2.1", "u@soft.example.com"));
  EXPECT_EQ(soft.verdict, Verdict::SoftFail);
  EXPECT_EQ(soft.explanation, "");
}

TEST(CheckHost, KeepsTheExplanationPrintable) {
  FakeDns dns;
  dns.add_txt("example.com", "v=spf1 -all exp=why.example.com");
  dns.add_txt("why.example.com", "%{l} is not welcome");
  const SpfResult result = run_check_host(dns, request("192.0.2.1",
                                                       "a\x01\x7f"
                                                       "b@example.com"));
  EXPECT_EQ(result.explanation, "a??b is not welcome");
}

TEST(CheckHost, MatchesIpv6AndTreatsMappedIpv4AsIpv4) {
  FakeDns dns;
  dns.add_txt("example.com",
              "v=spf1 ip6:2001:db8:1::/48 a:host.example.com -ip4:192.0.2.1 "
              "ip6:::ffff:192.0.2.2 ?all");
  dns.add_a("host.example.com", "192.0.2.3");
  dns.add_a("host.example.com", "2001:db8:2::3");
  EXPECT_EQ(run_check_host(dns, request("2001:db8:1:ffff::1")).verdict, Verdict::Pass);
  EXPECT_EQ(run_check_host(dns, request("2001:db8:2::3")).verdict, Verdict::Pass);
  EXPECT_EQ(run_check_host(dns, request("::ffff:192.0.2.3")).verdict, Verdict::Pass);
  EXPECT_EQ(run_check_host(dns, request("::FFFF:192.0.2.1")).verdict, Verdict::Fail);
  EXPECT_EQ(run_check_host(dns, request("::ffff:192.0.2.2")).verdict, Verdict::Neutral);
  EXPECT_EQ(run_check_host(dns, request("2001:db8:3::1")).verdict, Verdict::Neutral);
}

TEST(CheckHost, ChecksTheHeloIdentityAsPostmaster) {
  FakeDns dns;
  dns.add_txt("client.example.net", "v=spf1 -all exp=why.example.net");
  dns.add_txt("why.example.net", "%{s} via %{h}");
  const SpfResult result = run_check_host(dns, request("192.0.2.1", ""));
  EXPECT_EQ(result.verdict, Verdict::Fail);
  EXPECT_EQ(result.domain, "client.example.net");
  EXPECT_EQ(result.explanation, "postmaster@client.example.net via client.example.net");
  // An empty local-part is postmaster too.
  const SpfResult bare = run_check_host(dns, request("192.0.2.1", "@client.example.net"));
  EXPECT_EQ(bare.explanation, "postmaster@client.example.net via client.example.net");
}

TEST(CheckHost, GivesNoneForWhatIsNotADomainWithoutAsking) {
  FakeDns dns;
  for (const char* from : {"u@localhost", "u@[192.0.2.1]", "u@a..example.com", "u@example.123",
                           "u@"
                           "a123456789012345678901234567890123456789012345678901234567890123"
                           ".example.com"}) {
    EXPECT_EQ(run_check_host(dns, request("192.0.2.1", from)).verdict, Verdict::None) << from;
  }
  EXPECT_TRUE(dns.queries.empty());
  EXPECT_EQ(run_check_host(dns, request("not an address")).verdict, Verdict::None);
}

TEST(CheckHost, StopsAskingPastItsTimeLimit) {
  FakeDns dns;
  dns.add_txt("example.com", "v=spf1 a -all");
  SpfRequest late = request("192.0.2.1");
  late.limits.time = std::chrono::seconds(-1);
  EXPECT_EQ(run_check_host(dns, late).verdict, Verdict::TempError);
  EXPECT_TRUE(dns.queries.empty());
}

}  // namespace
}  // namespace rampart::spf
