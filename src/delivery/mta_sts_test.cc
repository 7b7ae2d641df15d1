#include "delivery/mta_sts.h"

#include <gtest/gtest.h>

namespace rampart::delivery {
namespace {

using namespace std::string_literals;
using Mode = StsPolicy::Mode;
using Uris = std::vector<std::string>;

// RFC 8461 section 3.2's example.
const std::string kPolicy =
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
    "mx: backupmx.example.com\r\nmax_age: 604800\r\n";

TEST(StsPolicy, ReadsTheRfcExample) {
  const auto policy = parse_sts_policy(kPolicy);
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mode, Mode::Enforce);
  EXPECT_EQ(policy->mx, (Uris{"mail.example.com", "*.example.net", "backupmx.example.com"}));
  EXPECT_EQ(policy->max_age, 604800);
}

TEST(StsPolicy, ReadsWhatRampartPublishes) {
  const auto policy = parse_sts_policy(mta_sts_policy("mx.example.test"));
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mode, Mode::Enforce);
  EXPECT_EQ(policy->mx, (Uris{"mx.example.test"}));
  EXPECT_EQ(policy->max_age, 604800);
}

TEST(StsPolicy, TakesLfCrlfAndANoFinalLineEnd) {
  for (const std::string& body :
       {"version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n"s,
        "version: STSv1\r\nmode: testing\nmx: mx.example.com\r\nmax_age: 86400"s,
        "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 86400\r\n"s}) {
    const auto policy = parse_sts_policy(body);
    ASSERT_TRUE(policy) << body;
    EXPECT_EQ(policy->mode, Mode::Testing);
    EXPECT_EQ(policy->max_age, 86400);
  }
}

TEST(StsPolicy, FieldsComeInAnyOrderAndVersionNeedNotBeFirst) {
  const auto policy =
      parse_sts_policy("max_age: 100\nmx: MX.Example.COM\nversion: STSv1\nmode: enforce\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mx, (Uris{"mx.example.com"}));  // lowercased
  EXPECT_EQ(policy->max_age, 100);
}

TEST(StsPolicy, SpacesAndTabsAfterTheColonAndAtTheLineEnd) {
  const auto policy = parse_sts_policy(
      "version:STSv1 \t\r\nmode:\t enforce\r\nmx:   mx.example.com\t\r\n"
      "max_age: 86400  \r\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mx, (Uris{"mx.example.com"}));
}

TEST(StsPolicy, RefusesWhitespaceTheAbnfHasNoRoomFor) {
  const std::string rest = "mode: enforce\nmx: mx.example.com\nmax_age: 86400\n";
  EXPECT_TRUE(parse_sts_policy("version: STSv1\n" + rest));
  EXPECT_FALSE(parse_sts_policy("version : STSv1\n" + rest));   // before the colon
  EXPECT_FALSE(parse_sts_policy(" version: STSv1\n" + rest));   // indented
  EXPECT_FALSE(parse_sts_policy("version: STSv1\n\n" + rest));  // an empty line
  EXPECT_FALSE(parse_sts_policy("version: STSv1\n" + rest + "\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\rmode: enforce\nmx: mx.example.com\nmax_age: 1"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\n" + rest + "note: a\tb\n"));  // inner tab
}

TEST(StsPolicy, RefusesAMissingField) {
  EXPECT_FALSE(parse_sts_policy("mode: enforce\nmx: mx.example.com\nmax_age: 86400\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmx: mx.example.com\nmax_age: 86400\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce\nmx: mx.example.com\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 86400\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: testing\nmax_age: 86400\n"));
  EXPECT_FALSE(parse_sts_policy(""));
  EXPECT_FALSE(parse_sts_policy("\r\n"));
}

TEST(StsPolicy, ModeNoneNeedsNoMx) {
  const auto policy = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mode, Mode::None);
  EXPECT_TRUE(policy->mx.empty());
}

TEST(StsPolicy, NamesAndValuesAreCaseSensitive) {
  const std::string rest = "mx: mx.example.com\nmax_age: 86400\n";
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: Enforce\n" + rest));
  EXPECT_FALSE(parse_sts_policy("version: stsv1\nmode: enforce\n" + rest));
  // "Mode" is another field, unknown and ignored, so mode is missing.
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nMode: enforce\n" + rest));
}

TEST(StsPolicy, RefusesABadMode) {
  const std::string rest = "mx: mx.example.com\nmax_age: 86400\n";
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: strict\n" + rest));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce please\n" + rest));
  EXPECT_FALSE(parse_sts_policy("version: STSv2\nmode: enforce\n" + rest));
}

TEST(StsPolicy, MaxAgeRange) {
  const std::string head = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: ";
  auto max_age = [&](const std::string& value) -> std::optional<std::int64_t> {
    const auto policy = parse_sts_policy(head + value + "\n");
    if (!policy) return std::nullopt;
    return policy->max_age;
  };
  EXPECT_EQ(max_age("0"), 0);
  EXPECT_EQ(max_age("31557600"), 31557600);
  EXPECT_EQ(max_age("0000086400"), 86400);  // 1*10(DIGIT)
  EXPECT_FALSE(max_age("31557601"));
  EXPECT_FALSE(max_age("9999999999"));
  EXPECT_FALSE(max_age("00000086400"));  // 11 digits
  EXPECT_FALSE(max_age("-1"));
  EXPECT_FALSE(max_age("+86400"));
  EXPECT_FALSE(max_age("86400s"));
  EXPECT_FALSE(max_age("1 day"));
}

TEST(StsPolicy, OnlyTheFirstOfARepeatedFieldCounts) {
  const auto policy = parse_sts_policy(
      "version: STSv1\nmode: testing\nmode: enforce\nmax_age: 60\nmax_age: 999999999\n"
      "version: STSv2\nmx: a.example.com\nmx: b.example.com\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mode, Mode::Testing);
  EXPECT_EQ(policy->max_age, 60);
  EXPECT_EQ(policy->mx, (Uris{"a.example.com", "b.example.com"}));  // mx repeats, all count
}

TEST(StsPolicy, IgnoresUnknownFieldsThatAreWellFormed) {
  const auto policy = parse_sts_policy(kPolicy + "x-comment: fine, thanks: ünïcode ok\r\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mx.size(), 3u);
  EXPECT_FALSE(parse_sts_policy(kPolicy + "x comment: name with a space\r\n"));
  EXPECT_FALSE(parse_sts_policy(kPolicy + "_x: name must start alphanumeric\r\n"));
  EXPECT_FALSE(parse_sts_policy(kPolicy + "x-empty:\r\n"));
  EXPECT_FALSE(parse_sts_policy(kPolicy + "x-bad: \xff\xfe\r\n"));  // not UTF-8
  EXPECT_FALSE(parse_sts_policy(kPolicy + "no colon here\r\n"));
  EXPECT_FALSE(parse_sts_policy(kPolicy + std::string(33, 'x') + ": too long a name\r\n"));
}

TEST(StsPolicy, RefusesABadMxPattern) {
  const std::string head = "version: STSv1\nmode: enforce\nmax_age: 86400\nmx: ";
  EXPECT_TRUE(parse_sts_policy(head + "*.example.com\n"));
  EXPECT_TRUE(parse_sts_policy(head + "mx-1.example.com\n"));
  for (const char* bad :
       {"*", "*.", "**.example.com", "a.*.example.com", "*example.com", "mx.example.com.",
        ".example.com", "-mx.example.com", "mx-.example.com", "mx..example.com", "mx_1.example.com",
        "mx.example.com:25", "[192.0.2.1]"}) {
    EXPECT_FALSE(parse_sts_policy(head + bad + "\n")) << bad;
  }
  EXPECT_FALSE(parse_sts_policy(head + std::string(64, 'a') + ".example.com\n"));
}

TEST(StsPolicy, RefusesMoreThan64KiB) {
  std::string padded = kPolicy;
  while (padded.size() <= kMaxStsPolicy) padded += "x-pad: " + std::string(100, 'p') + "\r\n";
  EXPECT_FALSE(parse_sts_policy(padded));
  const std::size_t line_end = padded.rfind("x-pad");
  EXPECT_TRUE(parse_sts_policy(padded.substr(0, line_end)));
}

TEST(StsMx, ExactNamesMatchInAnyCaseWithOrWithoutTheFinalDot) {
  const StsPolicy policy{.mode = Mode::Enforce, .mx = {"mail.example.com"}, .max_age = 1};
  EXPECT_TRUE(sts_mx_matches(policy, "mail.example.com"));
  EXPECT_TRUE(sts_mx_matches(policy, "MAIL.Example.Com."));
  EXPECT_FALSE(sts_mx_matches(policy, "mail.example.com.."));
  EXPECT_FALSE(sts_mx_matches(policy, "mail2.example.com"));
  EXPECT_FALSE(sts_mx_matches(policy, "x.mail.example.com"));
  EXPECT_FALSE(sts_mx_matches(policy, "example.com"));
  EXPECT_FALSE(sts_mx_matches(policy, ""));
}

TEST(StsMx, AWildcardMatchesExactlyOneLeftmostLabel) {
  const StsPolicy policy{.mode = Mode::Enforce, .mx = {"*.example.com"}, .max_age = 1};
  EXPECT_TRUE(sts_mx_matches(policy, "mx1.example.com"));
  EXPECT_TRUE(sts_mx_matches(policy, "MX1.EXAMPLE.COM."));
  EXPECT_FALSE(sts_mx_matches(policy, "a.b.example.com"));
  EXPECT_FALSE(sts_mx_matches(policy, "example.com"));
  EXPECT_FALSE(sts_mx_matches(policy, ".example.com"));
  EXPECT_FALSE(sts_mx_matches(policy, "*.example.com"));  // not a host name
  EXPECT_FALSE(sts_mx_matches(policy, "mx1.example.com.evil.test"));
  EXPECT_FALSE(sts_mx_matches(policy, "mx1example.com"));
}

TEST(StsMx, AnyPatternOfThePolicyWillDo) {
  const auto policy = parse_sts_policy(kPolicy);
  ASSERT_TRUE(policy);
  EXPECT_TRUE(sts_mx_matches(*policy, "backupmx.example.com"));
  EXPECT_TRUE(sts_mx_matches(*policy, "mx7.example.net"));
  EXPECT_FALSE(sts_mx_matches(*policy, "mx7.example.com"));
  EXPECT_FALSE(sts_mx_matches(StsPolicy{}, "mail.example.com"));  // no patterns at all
}

TEST(StsRecord, ReadsTheRfcExample) {
  EXPECT_EQ(parse_sts_record("v=STSv1; id=20160831085700Z;"), "20160831085700Z");
  EXPECT_EQ(parse_sts_record("v=STSv1;id=20160831085700Z"), "20160831085700Z");
}

TEST(StsRecord, ReadsWhatRampartPublishes) {
  const std::string id = mta_sts_id("mx.example.test");
  EXPECT_EQ(parse_sts_record("v=STSv1; id=" + id), id);
}

TEST(StsRecord, TakesExtensionsAndSpacesAroundSemicolons) {
  EXPECT_EQ(parse_sts_record("v=STSv1 ;\tid=abc123 ; ext.name-1=some:value/x ;  "), "abc123");
  EXPECT_EQ(parse_sts_record("v=STSv1; foo=bar; id=XyZ"), "XyZ");
  EXPECT_EQ(parse_sts_record("v=STSv1; id=first; id=second;"), "first");
}

TEST(StsRecord, RefusesWhatBreaksTheAbnf) {
  for (const char* bad : {
           "",
           "v=STSv1",                      // no fields
           "v=STSv1;",                     // no fields
           "v=STSv1; foo=bar",             // no id
           "v=STSv1; ID=abc",              // %s"id=": case-sensitive, so no id
           "v=STSv2; id=abc",              // another version
           "v=STSv10; id=abc",             // likewise
           "V=STSv1; id=abc",              // case-sensitive
           " v=STSv1; id=abc",             // must begin with the version
           "id=abc; v=STSv1",              // likewise
           "v=STSv1; id=",                 // an empty id
           "v=STSv1; id=abc-def",          // id: letters and digits only
           "v=STSv1; id=abc def",          // likewise
           "v=STSv1; id=abc; id=bad_id",   // every id must be valid
           "v=STSv1; id=abc;; x=y",        // an empty field
           "v=STSv1; id=abc; ;",           // likewise
           "v=STSv1; id=abc ",             // spaces after the last field need a ';'
           "v=STSv1; id=abc; x=",          // an empty value
           "v=STSv1; id=abc; x=a=b",       // '=' in a value
           "v=STSv1; id=abc; x=a b",       // a space in a value
           "v=STSv1; id=abc; -x=y",        // a name starts alphanumeric
           "v=STSv1; id=abc; x",           // no '='
           "v=STSv1; id=abc; x=\xc3\xa9",  // US-ASCII only
       }) {
    EXPECT_FALSE(parse_sts_record(bad)) << bad;
  }
  EXPECT_EQ(parse_sts_record("v=STSv1; id=" + std::string(32, 'a')), std::string(32, 'a'));
  EXPECT_FALSE(parse_sts_record("v=STSv1; id=" + std::string(33, 'a')));
}

TEST(TlsrptRecord, ReadsTheRfcExamples) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1;rua=mailto:reports@example.com"),
            (Uris{"mailto:reports@example.com"}));
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"),
            (Uris{"https://reporting.example.com/v1/tlsrpt"}));
}

TEST(TlsrptRecord, ReadsAListOfUris) {
  EXPECT_EQ(
      parse_tlsrpt_record("v=TLSRPTv1 ; rua=mailto:a@b.example , HTTPS://r.example/"
                          "p?q=1&r=%2C#top,\tmailto:c@d.example; x-ext=1;"),
      (Uris{"mailto:a@b.example", "https://r.example/p?q=1&r=%2C#top", "mailto:c@d.example"}));
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; ext=1; rua=mailto:a@b.example; rua=mailto:x@y"),
            (Uris{"mailto:a@b.example"}));  // the first rua counts
}

TEST(TlsrptRecord, RefusesWhatBreaksTheAbnf) {
  for (const char* bad : {
           "v=TLSRPTv1",
           "v=TLSRPTv1;",
           "v=TLSRPTv1; ext=1",                                // no rua
           "v=TLSRPTv2; rua=mailto:a@b.example",               // another version
           "v=tlsrptv1; rua=mailto:a@b.example",               // case-sensitive
           "v=STSv1; rua=mailto:a@b.example",                  // another record
           "v=TLSRPTv1; rua=",                                 // an empty list
           "v=TLSRPTv1; rua=mailto:a@b.example,",              // an empty URI
           "v=TLSRPTv1; rua=mailto:a@b.example,,mailto:c@d",   // likewise
           "v=TLSRPTv1; rua= mailto:a@b.example",              // no space before the first
           "v=TLSRPTv1; rua=a@b.example",                      // no scheme
           "v=TLSRPTv1; rua=1http://x.example/",               // a scheme starts with a letter
           "v=TLSRPTv1; rua=mailto:a b@example",               // a space in a URI
           "v=TLSRPTv1; rua=https://x.example/!",              // '!' must be encoded
           "v=TLSRPTv1; rua=https://x.example/%zz",            // a bad escape
           "v=TLSRPTv1; rua=https://x.example/%2",             // a cut escape
           "v=TLSRPTv1; rua=https://x.example/a#b#c",          // two fragments
           "v=TLSRPTv1; rua=https://x.example/\"",             // not a URI character
           "v=TLSRPTv1; rua=mailto:a@b.example; rua=nothing",  // every rua must be valid
           "v=TLSRPTv1; rua=mailto:a@b.example;; x=1",         // an empty field
           "v=TLSRPTv1; rua=mailto:a@b.example ",              // trailing spaces need a ';'
       }) {
    EXPECT_FALSE(parse_tlsrpt_record(bad)) << bad;
  }
}

TEST(HttpResponse, ReadsAPolicyResponseWithContentLength) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Type: Text/Plain; charset=utf-8\r\n"
      "content-length: " +
      std::to_string(kPolicy.size()) + "\r\n\r\n" + kPolicy + "trailing junk";
  const auto response = parse_http_response(bytes);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "text/plain");
  EXPECT_EQ(response->body, kPolicy);  // cut at Content-Length
  EXPECT_FALSE(response->has_location);
  EXPECT_TRUE(parse_sts_policy(response->body));
}

TEST(HttpResponse, WithoutContentLengthTheBodyRunsToTheEnd) {
  const auto response = parse_http_response("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" +
                                            kPolicy + "x-more: yes\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, kPolicy + "x-more: yes\r\n");
  const auto empty = parse_http_response("HTTP/1.0 204 No Content\r\n\r\n");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->content_type, "");
  EXPECT_EQ(empty->body, "");
}

TEST(HttpResponse, ABodyShorterThanContentLengthIsInvalid) {
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123456789"));
  EXPECT_TRUE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n1234567890"));
}

TEST(HttpResponse, ContentLengthMustBeOneNumber) {
  const std::string head = "HTTP/1.1 200 OK\r\n";
  EXPECT_TRUE(parse_http_response(head + "Content-Length: 2\r\nContent-Length: 2\r\n\r\nab"));
  EXPECT_FALSE(parse_http_response(head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc"));
  EXPECT_FALSE(parse_http_response(head + "Content-Length: 2, 2\r\n\r\nab"));
  EXPECT_FALSE(parse_http_response(head + "Content-Length: -1\r\n\r\nab"));
  EXPECT_FALSE(parse_http_response(head + "Content-Length: \r\n\r\nab"));
  EXPECT_FALSE(parse_http_response(head + "Content-Length: 99999999999999999999\r\n\r\nab"));
}

TEST(HttpResponse, ReportsARedirectAndItsStatus) {
  const auto response = parse_http_response(
      "HTTP/1.1 301 Moved Permanently\r\nlocation: https://evil.example/\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 301);
  EXPECT_TRUE(response->has_location);
}

TEST(HttpResponse, TheMediaTypeComesWithoutParameters) {
  auto type = [](const std::string& value) -> std::optional<std::string> {
    const auto response =
        parse_http_response("HTTP/1.1 200 OK\r\nContent-Type:" + value + "\r\n\r\n");
    if (!response) return std::nullopt;
    return response->content_type;
  };
  EXPECT_EQ(type("text/plain"), "text/plain");
  EXPECT_EQ(type(" TEXT/PLAIN ;charset=us-ascii; format=flowed "), "text/plain");
  EXPECT_EQ(type("text/html"), "text/html");
  EXPECT_FALSE(type("text"));
  EXPECT_FALSE(type("text/plain text/html"));
  EXPECT_FALSE(type(""));
  EXPECT_FALSE(parse_http_response(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\n"));
}

TEST(HttpResponse, RefusesChunkedAndFoldedAndBrokenHeads) {
  for (const std::string& bad : {
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"s,
           "HTTP/1.1 200 OK\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n\r\n"s,
           "HTTP/1.1 200 OK\r\nContent-Type : text/plain\r\n\r\n"s,  // space before ':'
           "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n"s,
           "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n"s,
           "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"s,  // a bare CR
           "HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n"s,  // a bare LF
           "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"s,
           "HTTP/1.1 200 OK\n\nbody"s,  // lines end in CRLF
           "HTTP/1.1 200 OK\r\n"s,      // no end of the head
           "HTTP/1.1 200\r\n\r\n"s,     // no space after the status
           "HTTP/1.1 20 OK\r\n\r\n"s,
           "HTTP/1.1 2000 OK\r\n\r\n"s,
           "HTTP/2 200 OK\r\n\r\n"s,
           "http/1.1 200 OK\r\n\r\n"s,
           "\r\nHTTP/1.1 200 OK\r\n\r\n"s,
           "garbage"s,
           ""s,
       }) {
    EXPECT_FALSE(parse_http_response(bad)) << bad;
  }
}

TEST(HttpResponse, RefusesWhatIsTooBig) {
  const std::string head = "HTTP/1.1 200 OK\r\n";
  const std::string body(kMaxStsPolicy, 'x');
  EXPECT_TRUE(parse_http_response(head + "\r\n" + body));
  EXPECT_FALSE(parse_http_response(head + "\r\n" + body + "x"));
  // More than kMaxStsResponse in all, even if Content-Length would cut it.
  EXPECT_FALSE(
      parse_http_response(head + "Content-Length: 1\r\n\r\n" + std::string(kMaxStsResponse, 'x')));
  EXPECT_TRUE(parse_http_response(head + "Content-Length: 1\r\n\r\n" + body + "y"));
  // A head over kMaxStsHead.
  const std::string padding = "X-Pad: " + std::string(kMaxStsHead, 'p') + "\r\n";
  EXPECT_FALSE(parse_http_response(head + padding + "\r\nbody"));
}

}  // namespace
}  // namespace rampart::delivery
