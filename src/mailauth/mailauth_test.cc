#include <gtest/gtest.h>

#include "mailauth/auth_results.h"
#include "mailauth/dmarc.h"
#include "mailauth/public_suffix.h"

namespace rampart::mailauth {
namespace {

using Policy = DmarcRecord::Policy;

TEST(PublicSuffix, FindsTheOrganizationalDomainByTheListsRules) {
  const auto list =
      PublicSuffixList::parse("// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\n\n*.compute.example\n");
  EXPECT_EQ(list.organizational_domain("mail.example.com"), "example.com");
  EXPECT_EQ(list.organizational_domain("Example.COM"), "example.com");
  EXPECT_EQ(list.organizational_domain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(list.organizational_domain("co.uk"), "co.uk");        // a public suffix itself
  EXPECT_EQ(list.organizational_domain("a.foo.ck"), "a.foo.ck");  // *.ck: foo.ck is public
  EXPECT_EQ(list.organizational_domain("x.a.foo.ck"), "a.foo.ck");
  EXPECT_EQ(list.organizational_domain("www.ck"), "www.ck");  // the exception
  EXPECT_EQ(list.organizational_domain("mail.www.ck"), "www.ck");
  EXPECT_EQ(list.organizational_domain("a.b.unlisted"), "b.unlisted");  // "*" by default
  EXPECT_EQ(list.organizational_domain("localhost"), "localhost");
}

TEST(PublicSuffix, ReadsDebiansList) {
  const auto list = PublicSuffixList::load("/usr/share/publicsuffix/public_suffix_list.dat");
  ASSERT_GT(list.size(), 5000u);
  EXPECT_EQ(list.organizational_domain("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(list.organizational_domain("a.b.example.com.au"), "example.com.au");
  EXPECT_EQ(list.organizational_domain("foo.github.io"), "foo.github.io");  // private part
}

TEST(DmarcRecord, ParsesTheTagsOfSection63) {
  auto record = parse_dmarc_record(
      "v=DMARC1; p=Reject ; sp=quarantine; adkim=s; aspf=r; pct=25; "
      "rua=mailto:a@example.org, mailto:b@example.org; fo=1; unknown=x");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->policy, Policy::Reject);
  EXPECT_EQ(record->subdomain_policy, Policy::Quarantine);
  EXPECT_TRUE(record->strict_dkim);
  EXPECT_FALSE(record->strict_spf);
  EXPECT_EQ(record->percent, 25);
  EXPECT_EQ(record->rua,
            (std::vector<std::string>{"mailto:a@example.org", "mailto:b@example.org"}));
}

TEST(DmarcRecord, RefusesWhatIsNotARecordAndDefaultsBadValues) {
  EXPECT_FALSE(parse_dmarc_record(""));
  EXPECT_FALSE(parse_dmarc_record("v=spf1 -all"));
  EXPECT_FALSE(parse_dmarc_record("p=reject; v=DMARC1"));  // v first
  EXPECT_FALSE(parse_dmarc_record("v=DMARC2; p=reject"));
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1"));              // no p, no rua
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=block"));     // a bad p, no rua
  EXPECT_FALSE(parse_dmarc_record(std::string(3000, 'x')));  // too long
  auto reports_only = parse_dmarc_record("v=DMARC1; rua=mailto:r@example.org");
  ASSERT_TRUE(reports_only);
  EXPECT_EQ(reports_only->policy, Policy::None);
  auto defaults = parse_dmarc_record("v=DMARC1;p=quarantine;pct=200;adkim=x;sp=nope");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->percent, 100);
  EXPECT_FALSE(defaults->strict_dkim);
  EXPECT_FALSE(defaults->subdomain_policy);
}

DmarcInput input_for(const std::string& record) {
  DmarcInput input{.from_domain = "news.example.com",
                   .from_organizational = "example.com",
                   .spf_pass = false,
                   .spf_domain = {},
                   .spf_organizational = {},
                   .dkim_pass = {},
                   .record = parse_dmarc_record(record),
                   .record_is_from_domain = true,
                   .sample = 0};
  return input;
}

TEST(Dmarc, PassesOnAnAlignedSpfOrDkimDomain) {
  DmarcInput input = input_for("v=DMARC1; p=reject");
  input.spf_pass = true;
  input.spf_domain = "bounces.example.com";  // relaxed: same organizational domain
  input.spf_organizational = "example.com";
  auto result = evaluate_dmarc(input);
  EXPECT_EQ(result.outcome, DmarcResult::Outcome::Pass);
  EXPECT_TRUE(result.spf_aligned);

  input = input_for("v=DMARC1; p=reject; aspf=s");  // strict: the same domain only
  input.spf_pass = true;
  input.spf_domain = "bounces.example.com";
  input.spf_organizational = "example.com";
  EXPECT_EQ(evaluate_dmarc(input).outcome, DmarcResult::Outcome::Fail);

  input = input_for("v=DMARC1; p=reject; adkim=s");
  input.dkim_pass = {{"example.com", "example.com"}, {"news.example.com", "example.com"}};
  result = evaluate_dmarc(input);
  EXPECT_EQ(result.outcome, DmarcResult::Outcome::Pass);
  EXPECT_TRUE(result.dkim_aligned);
}

TEST(Dmarc, AFailureGetsThePolicysDisposition) {
  DmarcInput input = input_for("v=DMARC1; p=reject; sp=quarantine");
  input.dkim_pass = {{"other.example", "other.example"}};  // passed, not aligned
  auto result = evaluate_dmarc(input);
  EXPECT_EQ(result.outcome, DmarcResult::Outcome::Fail);
  EXPECT_EQ(result.disposition, Policy::Reject);
  EXPECT_EQ(result.policy_domain, "news.example.com");
  // The organizational domain's record for a subdomain: sp=.
  input.record_is_from_domain = false;
  result = evaluate_dmarc(input);
  EXPECT_EQ(result.disposition, Policy::Quarantine);
  EXPECT_EQ(result.policy_domain, "example.com");
  // pct=: outside the sample, one step milder.
  input = input_for("v=DMARC1; p=reject; pct=10");
  input.sample = 10;
  result = evaluate_dmarc(input);
  EXPECT_TRUE(result.sampled_out);
  EXPECT_EQ(result.disposition, Policy::Quarantine);
  input.sample = 9;
  EXPECT_EQ(evaluate_dmarc(input).disposition, Policy::Reject);
  // No record: none.
  input.record.reset();
  EXPECT_EQ(evaluate_dmarc(input).outcome, DmarcResult::Outcome::None);
}

TEST(AuthenticationResults, WritesOneFieldWithEachMethod) {
  const std::string header = authentication_results(
      "mx.example.org", {{"spf", "pass", "", {{"smtp.mailfrom", "alice@example.com"}}},
                         {"dkim",
                          "fail",
                          "body hash did not verify",
                          {{"header.d", "example.com"}, {"header.s", "sel 1"}}},
                         {"dmarc", "pass", "", {{"header.from", "example.com"}}}});
  EXPECT_EQ(header,
            "Authentication-Results: mx.example.org;\r\n"
            "\tspf=pass smtp.mailfrom=alice@example.com;\r\n"
            "\tdkim=fail (body hash did not verify) header.d=example.com header.s=\"sel 1\";\r\n"
            "\tdmarc=pass header.from=example.com\r\n");
  EXPECT_EQ(authentication_results("mx.example.org", {}),
            "Authentication-Results: mx.example.org; none\r\n");
}

TEST(AuthenticationResults, NothingFromAMessageStartsAFieldOfItsOwn) {
  const std::string header = authentication_results(
      "mx.example.org",
      {{"spf", "fail", "a)\r\nX-Evil: 1", {{"smtp.mailfrom", "a\r\nX-Evil: 2@b"}}}});
  EXPECT_EQ(header.find("\r\nX-Evil"), std::string::npos) << header;
  EXPECT_EQ(header.find('\n', header.find("spf=")), header.size() - 1) << header;
}

TEST(AuthenticationResults, RemovesOnlyTheFieldsClaimingOurId) {
  EXPECT_EQ(authserv_id_of(" MX.Example.org; spf=pass"), "mx.example.org");
  EXPECT_EQ(authserv_id_of(" (comment (nested)) mx.example.org 1; none"), "mx.example.org");
  EXPECT_EQ(authserv_id_of(" \"mx.example.org\"; none"), "mx.example.org");
  EXPECT_EQ(authserv_id_of("   "), "");
  const std::string message =
      "Authentication-Results: mx.example.org; spf=pass\r\n"
      "Received: from x\r\n"
      "Authentication-Results: other.example; dkim=pass\r\n"
      "authentication-results : (forged)\r\n mx.example.org;\r\n dmarc=pass\r\n"
      "Subject: hi\r\n"
      "\r\n"
      "Authentication-Results: mx.example.org; body, kept\r\n";
  EXPECT_EQ(remove_own_results(message, "mx.example.org"),
            "Received: from x\r\n"
            "Authentication-Results: other.example; dkim=pass\r\n"
            "Subject: hi\r\n"
            "\r\n"
            "Authentication-Results: mx.example.org; body, kept\r\n");
}

}  // namespace
}  // namespace rampart::mailauth
