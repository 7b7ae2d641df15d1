#include "smtp/reply_parser.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::smtp {

void PrintTo(const Reply& reply, std::ostream* out) {
  *out << "Reply{" << reply.code << " \"" << reply.enhanced << "\"";
  for (const auto& line : reply.lines) *out << " \"" << line << "\"";
  *out << "}";
}

void PrintTo(const BadReply& bad, std::ostream* out) { *out << "BadReply{" << bad.detail << "}"; }

namespace {

using Lines = std::vector<std::string>;
// A step other than NeedMore.
using Outcome = std::variant<Reply, BadReply>;

// Feeds the chunks in order and returns every step but NeedMore, checking that each
// call takes bytes or says NeedMore after taking them all.
std::vector<Outcome> parse_chunks(const std::vector<std::string_view>& chunks,
                                  ReplyLimits limits = {}) {
  ReplyParser parser(limits);
  std::vector<Outcome> steps;
  for (std::string_view chunk : chunks) {
    while (!chunk.empty()) {
      const std::size_t before = chunk.size();
      ReplyStep step = parser.feed(chunk);
      if (std::holds_alternative<NeedMore>(step)) {
        EXPECT_TRUE(chunk.empty());
      } else if (auto* reply = std::get_if<Reply>(&step)) {
        EXPECT_LT(chunk.size(), before);
        steps.push_back(std::move(*reply));
      } else {
        EXPECT_LT(chunk.size(), before);
        steps.push_back(std::get<BadReply>(std::move(step)));
      }
    }
  }
  return steps;
}

std::vector<Outcome> parse(std::string_view bytes, ReplyLimits limits = {}) {
  return parse_chunks({bytes}, limits);
}

std::vector<Outcome> parse_bytewise(std::string_view bytes, ReplyLimits limits = {}) {
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < bytes.size(); ++i) chunks.push_back(bytes.substr(i, 1));
  return parse_chunks(chunks, limits);
}

// The one reply `bytes` holds; a failed expectation otherwise.
Reply reply_of(std::string_view bytes, ReplyLimits limits = {}) {
  auto steps = parse(bytes, limits);
  EXPECT_EQ(steps.size(), 1u) << bytes;
  const Reply* reply = steps.empty() ? nullptr : std::get_if<Reply>(&steps[0]);
  EXPECT_NE(reply, nullptr) << bytes;
  return reply ? *reply : Reply{};
}

bool is_refused(std::string_view bytes, ReplyLimits limits = {}) {
  auto steps = parse(bytes, limits);
  return steps.size() == 1 && std::holds_alternative<BadReply>(steps[0]);
}

// What a Postfix 3.7 server with SASL and TLS answers to EHLO, byte for byte.
constexpr std::string_view kPostfixEhlo =
    "250-mail.example.org\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 10240000\r\n"
    "250-VRFY\r\n"
    "250-ETRN\r\n"
    "250-STARTTLS\r\n"
    "250-AUTH PLAIN LOGIN\r\n"
    "250-AUTH=PLAIN LOGIN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250-8BITMIME\r\n"
    "250-DSN\r\n"
    "250-SMTPUTF8\r\n"
    "250 CHUNKING\r\n";

TEST(ReplyParser, ParsesASingleLineReply) {
  const Reply reply = reply_of("250 2.1.0 Ok\r\n");
  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(reply.enhanced, "2.1.0");
  EXPECT_EQ(reply.lines, Lines{"Ok"});
  EXPECT_TRUE(reply.positive());
  EXPECT_FALSE(reply.intermediate() || reply.transient() || reply.permanent());
}

TEST(ReplyParser, ClassifiesByTheFirstDigit) {
  EXPECT_TRUE(reply_of("354 End data with <CR><LF>.<CR><LF>\r\n").intermediate());
  EXPECT_TRUE(reply_of("451 4.3.0 Try again later\r\n").transient());
  EXPECT_TRUE(reply_of("550 5.1.1 No such user\r\n").permanent());
  EXPECT_FALSE(reply_of("550 5.1.1 No such user\r\n").transient());
  EXPECT_TRUE(reply_of("200 ok\r\n").positive());
  EXPECT_TRUE(reply_of("599 odd\r\n").permanent());
}

TEST(ReplyParser, ParsesAMultiLineReplyWithTheEnhancedCodeOnEveryLine) {
  const Reply reply = reply_of(
      "550-5.7.1 [192.0.2.1] The IP you're using to send mail is not\r\n"
      "550-5.7.1 authorized to send email directly to our servers.\r\n"
      "550 5.7.1 Please use the SMTP relay at your provider.\r\n");
  EXPECT_EQ(reply.code, 550);
  EXPECT_EQ(reply.enhanced, "5.7.1");
  EXPECT_EQ(reply.lines, (Lines{"[192.0.2.1] The IP you're using to send mail is not",
                                "authorized to send email directly to our servers.",
                                "Please use the SMTP relay at your provider."}));
}

TEST(ReplyParser, ALineOfJustTheCodeIsValid) {
  EXPECT_EQ(reply_of("250\r\n").lines, Lines{""});
  EXPECT_EQ(reply_of("250 \r\n").lines, Lines{""});
  const Reply reply = reply_of("250-\r\n250-x\r\n250\r\n");
  EXPECT_EQ(reply.lines, (Lines{"", "x", ""}));
  EXPECT_EQ(reply.enhanced, "");
}

TEST(ReplyParser, LeavesTheNextRepliesInTheInput) {
  ReplyParser parser;
  std::string_view input = "250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n250 2.1.5 also\r\n354 Go";
  auto first = parser.feed(input);
  ASSERT_TRUE(std::holds_alternative<Reply>(first));
  EXPECT_EQ(input, "250-2.1.5 Ok\r\n250 2.1.5 also\r\n354 Go");
  auto second = parser.feed(input);
  ASSERT_TRUE(std::holds_alternative<Reply>(second));
  EXPECT_EQ(std::get<Reply>(second).lines, (Lines{"Ok", "also"}));
  EXPECT_EQ(input, "354 Go");
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.feed(input)));
  EXPECT_TRUE(input.empty());
  std::string_view rest = "\r\n";
  auto third = parser.feed(rest);
  ASSERT_TRUE(std::holds_alternative<Reply>(third));
  EXPECT_EQ(std::get<Reply>(third).code, 354);
}

TEST(ReplyParser, GivesTheSameRepliesWhereverTheInputIsSplit) {
  const std::string bytes =
      std::string(kPostfixEhlo) + "250 2.1.0 Ok\n" + "550-5.1.1 a\r\n550 5.1.1 b\r\n";
  const auto whole = parse(bytes);
  ASSERT_EQ(whole.size(), 3u);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    const std::string_view view = bytes;
    EXPECT_EQ(parse_chunks({view.substr(0, cut), view.substr(cut)}), whole) << "split at " << cut;
  }
  EXPECT_EQ(parse_bytewise(bytes), whole);
}

TEST(ReplyParser, GivesTheSameRefusalsWhereverTheInputIsSplit) {
  const ReplyLimits limits{.max_line = 16, .max_lines = 3};
  const std::string bytes =
      "250 this line is far too long\r\n"
      "251 ok\r\n"
      "252-a\r\n252-b\r\n252-c\r\n252 d\r\n"
      "253-a\r\n254 b\r\n"
      "255 fine\r\n"
      "250 exactly 16 b\r\n"
      "250 exactly 16\r\n";
  const auto whole = parse(bytes, limits);
  ASSERT_EQ(whole.size(), 8u);
  EXPECT_TRUE(std::holds_alternative<BadReply>(whole[0]));
  EXPECT_EQ(std::get<Reply>(whole[1]).code, 251);
  EXPECT_TRUE(std::holds_alternative<BadReply>(whole[2]));  // the fourth line of four
  EXPECT_EQ(std::get<Reply>(whole[3]).code, 252);           // "252 d" starts a new reply
  EXPECT_TRUE(std::holds_alternative<BadReply>(whole[4]));  // 254 after 253
  EXPECT_EQ(std::get<Reply>(whole[5]).code, 255);
  EXPECT_TRUE(std::holds_alternative<BadReply>(whole[6]));          // 18 bytes
  EXPECT_EQ(std::get<Reply>(whole[7]).lines, Lines{"exactly 16"});  // 16 bytes
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    const std::string_view view = bytes;
    EXPECT_EQ(parse_chunks({view.substr(0, cut), view.substr(cut)}, limits), whole)
        << "split at " << cut;
  }
  EXPECT_EQ(parse_bytewise(bytes, limits), whole);
}

TEST(ReplyParser, RefusesLinesWithDifferentCodes) {
  EXPECT_TRUE(is_refused("250-a\r\n251 b\r\n"));
  EXPECT_TRUE(is_refused("250-a\r\n250-b\r\n550 c\r\n"));
  EXPECT_FALSE(is_refused("250-a\r\n250-b\r\n250 c\r\n"));
}

TEST(ReplyParser, RefusesMalformedLines) {
  for (std::string_view bytes :
       {"25\r\n", "abc\r\n", "2500 x\r\n", "250x\r\n", "250\tx\r\n", "250_x\r\n", "\r\n", "\n",
        " 250 x\r\n", "-250 x\r\n", "+OK\r\n", "2a0 x\r\n"}) {
    EXPECT_TRUE(is_refused(bytes)) << bytes;
  }
}

TEST(ReplyParser, RefusesCodesOutOfRange) {
  for (std::string_view bytes : {"199 x\r\n", "000 x\r\n", "100 x\r\n", "600 x\r\n", "999\r\n"}) {
    EXPECT_TRUE(is_refused(bytes)) << bytes;
  }
  EXPECT_FALSE(is_refused("200 x\r\n"));
  EXPECT_FALSE(is_refused("599 x\r\n"));
}

TEST(ReplyParser, RefusesANulByte) {
  using namespace std::string_view_literals;
  EXPECT_TRUE(is_refused("250 a\0b\r\n"sv));
  EXPECT_TRUE(is_refused("25\0 x\r\n"sv));
  EXPECT_TRUE(is_refused("250-ok\r\n250 a\0\r\n"sv));
}

TEST(ReplyParser, AcceptsBareLineFeeds) {
  const Reply reply = reply_of("250-mail.example.org\n250-PIPELINING\r\n250 SIZE\n");
  EXPECT_EQ(reply.lines, (Lines{"mail.example.org", "PIPELINING", "SIZE"}));
}

TEST(ReplyParser, ReplacesControlCharactersAndBytesThatAreNotUtf8) {
  EXPECT_EQ(reply_of("250 a\x01"
                     "b\x7f"
                     "c\r\n")
                .lines,
            Lines{"a?b?c"});
  EXPECT_EQ(reply_of("250 a\rb\r\r\n").lines, Lines{"a?b?"});
  EXPECT_EQ(reply_of("250 \x1b[2Jgone\r\n").lines, Lines{"?[2Jgone"});  // a terminal escape
  EXPECT_EQ(reply_of("250 a\tb\r\n").lines, Lines{"a\tb"});
  EXPECT_EQ(reply_of("250 caf\xc3\xa9 \xff\xc3\r\n").lines, Lines{"caf\xc3\xa9 ??"});
}

TEST(ReplyParser, TakesTheEnhancedCodeFromTheFirstLine) {
  Reply reply = reply_of("250 2.0.0 Ok: queued as 4Q1\r\n");
  EXPECT_EQ(reply.enhanced, "2.0.0");
  EXPECT_EQ(reply.lines, Lines{"Ok: queued as 4Q1"});

  reply = reply_of("452 4.3.1 Insufficient system storage\r\n");
  EXPECT_EQ(reply.enhanced, "4.3.1");

  reply = reply_of("553 5.100.999\r\n");  // subject and detail up to three digits
  EXPECT_EQ(reply.enhanced, "5.100.999");
  EXPECT_EQ(reply.lines, Lines{""});

  // A different code on a later line is the server's text.
  reply = reply_of("550-5.1.1 a\r\n550-5.1.2 b\r\n550-5.1.10 c\r\n550 5.1.1\r\n");
  EXPECT_EQ(reply.enhanced, "5.1.1");
  EXPECT_EQ(reply.lines, (Lines{"a", "5.1.2 b", "5.1.10 c", ""}));
}

TEST(ReplyParser, NoEnhancedCodeUnlessOneIsThere) {
  for (std::string_view bytes :
       {"250 Ok\r\n", "250 5.1.0 wrong class\r\n", "550 2.0.0 wrong class\r\n",
        "354 2.0.0 no class 3\r\n", "334 3.0.0\r\n", "250 2.1.0Ok\r\n", "250 2.1.0.1 x\r\n",
        "250 2.1000.0 x\r\n", "250 2.1.1000 x\r\n", "250 2..0 x\r\n", "250 2.1. x\r\n",
        "250 2.1\r\n", "250 .2.1.0 x\r\n", "250  2.1.0 x\r\n",
        "250-mail.example.org\r\n250 2.0.0 x\r\n"}) {
    EXPECT_EQ(reply_of(bytes).enhanced, "") << bytes;
  }
  EXPECT_EQ(reply_of("250 5.1.0 wrong class\r\n").lines, Lines{"5.1.0 wrong class"});
  // A base64 AUTH challenge is text, never a code.
  EXPECT_EQ(reply_of("334 VXNlcm5hbWU6\r\n").lines, Lines{"VXNlcm5hbWU6"});
}

TEST(ReplyParser, LineLimitCountsTheLineEnd) {
  const ReplyLimits limits{.max_line = 10};
  EXPECT_EQ(reply_of("250 abcd\r\n", limits).lines, Lines{"abcd"});  // 10 bytes
  EXPECT_EQ(reply_of("250 abcde\n", limits).lines, Lines{"abcde"});  // 10 bytes
  EXPECT_TRUE(is_refused("250 abcde\r\n", limits));
  EXPECT_TRUE(is_refused("250 abcdef\n", limits));
  EXPECT_TRUE(is_refused("250-ok\r\n250 abcdef\n", limits));
}

TEST(ReplyParser, RefusesALongLineWithoutWaitingForItsEnd) {
  ReplyParser parser({.max_line = 2048});
  const std::string endless(4096, 'x');
  std::string_view input = endless;
  std::string_view start = "250 ";
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.feed(start)));
  const ReplyStep step = parser.feed(input);
  ASSERT_TRUE(std::holds_alternative<BadReply>(step));
  EXPECT_EQ(input.size(), 4096u - (2049u - 4u));  // taken up to the first byte past the limit
  // The rest of that line is dropped; the next line is a reply of its own.
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.feed(input)));
  std::string_view next = "xx\r\n221 Bye\r\n";
  const ReplyStep bye = parser.feed(next);
  ASSERT_TRUE(std::holds_alternative<Reply>(bye));
  EXPECT_EQ(std::get<Reply>(bye).code, 221);
}

TEST(ReplyParser, DefaultLimitsAllowA2048ByteLineAnd100Lines) {
  EXPECT_EQ(reply_of("250 " + std::string(2048 - 6, 'x') + "\r\n").lines[0].size(), 2042u);
  EXPECT_TRUE(is_refused("250 " + std::string(2048 - 5, 'x') + "\r\n"));
  std::string hundred;
  for (int i = 0; i < 99; ++i) hundred += "250-x\r\n";
  EXPECT_EQ(reply_of(hundred + "250 x\r\n").lines.size(), 100u);
  const auto steps = parse(hundred + "250-x\r\n250 x\r\n");
  ASSERT_EQ(steps.size(), 2u);  // the 100th line is not the last; "250 x" is a reply of its own
  EXPECT_TRUE(std::holds_alternative<BadReply>(steps[0]));
  EXPECT_TRUE(std::holds_alternative<Reply>(steps[1]));
}

TEST(ReplyParser, RefusesTooManyLinesBeforeTheLastArrives) {
  const ReplyLimits limits{.max_lines = 3};
  EXPECT_EQ(reply_of("250-a\r\n250-b\r\n250 c\r\n", limits).lines.size(), 3u);
  // The third line is not the last: the reply would have four or more.
  auto steps = parse("250-a\r\n250-b\r\n250-c\r\n", limits);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<BadReply>(steps[0]));
  // A server that never ends its reply is stopped after max_lines lines.
  std::string endless;
  for (int i = 0; i < 1000; ++i) endless += "250-x\r\n";
  steps = parse(endless, limits);
  EXPECT_EQ(steps.size(), 1000u / 3u);
  for (const auto& step : steps) EXPECT_TRUE(std::holds_alternative<BadReply>(step));
}

TEST(ReplyParser, ResetDropsAPartialReply) {
  ReplyParser parser;
  std::string_view injected = "250-injected\r\n250-PIPE";
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.feed(injected)));
  parser.reset();
  std::string_view input = "220 2.0.0 Ready\r\n";
  const ReplyStep step = parser.feed(input);
  ASSERT_TRUE(std::holds_alternative<Reply>(step));
  EXPECT_EQ(std::get<Reply>(step).lines, Lines{"Ready"});
}

TEST(ReplyParser, ParsesARealPostfixEhloReply) {
  const Reply reply = reply_of(kPostfixEhlo);
  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(reply.enhanced, "");
  ASSERT_EQ(reply.lines.size(), 13u);
  EXPECT_EQ(reply.lines[0], "mail.example.org");
  EXPECT_EQ(reply.lines[6], "AUTH PLAIN LOGIN");
  EXPECT_EQ(reply.lines[12], "CHUNKING");

  const EhloCapabilities capabilities = parse_ehlo(reply);
  EXPECT_TRUE(capabilities.pipelining);
  EXPECT_TRUE(capabilities.size);
  EXPECT_EQ(capabilities.max_size, 10240000u);
  EXPECT_TRUE(capabilities.eight_bit_mime);
  EXPECT_TRUE(capabilities.smtputf8);
  EXPECT_TRUE(capabilities.chunking);
  EXPECT_TRUE(capabilities.starttls);
  EXPECT_TRUE(capabilities.enhanced_status_codes);
  EXPECT_TRUE(capabilities.dsn);
  EXPECT_EQ(capabilities.auth_mechanisms, (Lines{"PLAIN", "LOGIN"}));
}

TEST(ParseEhlo, AMinimalReplyAnnouncesNothing) {
  const EhloCapabilities capabilities = parse_ehlo(reply_of("250 mail.example.org\r\n"));
  EXPECT_FALSE(capabilities.pipelining || capabilities.size || capabilities.eight_bit_mime ||
               capabilities.smtputf8 || capabilities.chunking || capabilities.starttls ||
               capabilities.enhanced_status_codes || capabilities.dsn);
  EXPECT_TRUE(capabilities.auth_mechanisms.empty());
}

TEST(ParseEhlo, TheFirstLineIsTheGreetingNotAKeyword) {
  const auto capabilities = parse_ehlo(reply_of("250-STARTTLS\r\n250 PIPELINING\r\n"));
  EXPECT_FALSE(capabilities.starttls);
  EXPECT_TRUE(capabilities.pipelining);
}

TEST(ParseEhlo, KeywordsIgnoreCase) {
  const auto capabilities = parse_ehlo(reply_of(
      "250-mx.example\r\n250-pipelining\r\n250-Size 1000\r\n250-8bitmime\r\n250-StartTLS\r\n"
      "250-smtputf8\r\n250-chunking\r\n250-enhancedstatuscodes\r\n250-dsn\r\n"
      "250 auth cram-md5 Plain\r\n"));
  EXPECT_TRUE(capabilities.pipelining);
  EXPECT_EQ(capabilities.max_size, 1000u);
  EXPECT_TRUE(capabilities.eight_bit_mime);
  EXPECT_TRUE(capabilities.starttls);
  EXPECT_TRUE(capabilities.smtputf8);
  EXPECT_TRUE(capabilities.chunking);
  EXPECT_TRUE(capabilities.enhanced_status_codes);
  EXPECT_TRUE(capabilities.dsn);
  EXPECT_EQ(capabilities.auth_mechanisms, (Lines{"CRAM-MD5", "PLAIN"}));
}

TEST(ParseEhlo, SizeWithAndWithoutALimit) {
  auto size_of = [](std::string_view line) {
    const auto capabilities =
        parse_ehlo(reply_of("250-mx.example\r\n250 " + std::string(line) + "\r\n"));
    EXPECT_TRUE(capabilities.size) << line;
    return capabilities.max_size;
  };
  EXPECT_EQ(size_of("SIZE"), 0u);
  EXPECT_EQ(size_of("SIZE 0"), 0u);
  EXPECT_EQ(size_of("SIZE 52428800"), 52428800u);
  EXPECT_EQ(size_of("SIZE  35882577"), 35882577u);  // two spaces, as some servers send
  EXPECT_EQ(size_of("SIZE 18446744073709551615"), 18446744073709551615u);
  EXPECT_EQ(size_of("SIZE 18446744073709551616"), 0u);  // past 64 bits
  EXPECT_EQ(size_of("SIZE -1"), 0u);
  EXPECT_EQ(size_of("SIZE 10M"), 0u);
}

TEST(ParseEhlo, KeywordsMatchWhole) {
  const auto capabilities = parse_ehlo(reply_of(
      "250-mx.example\r\n250-PIPELININGX\r\n250-XSIZE 5\r\n250-STARTTLS2\r\n250 AUTHX PLAIN\r\n"));
  EXPECT_FALSE(capabilities.pipelining || capabilities.size || capabilities.starttls);
  EXPECT_TRUE(capabilities.auth_mechanisms.empty());
}

TEST(ParseEhlo, AuthMechanismsFromBothSpellingsOnceEach) {
  auto capabilities = parse_ehlo(reply_of("250-mx.example\r\n250 AUTH=LOGIN PLAIN\r\n"));
  EXPECT_EQ(capabilities.auth_mechanisms, (Lines{"LOGIN", "PLAIN"}));
  capabilities = parse_ehlo(reply_of(
      "250-mx.example\r\n250-AUTH LOGIN PLAIN XOAUTH2\r\n250-AUTH=LOGIN\r\n250 AUTH plain\r\n"));
  EXPECT_EQ(capabilities.auth_mechanisms, (Lines{"LOGIN", "PLAIN", "XOAUTH2"}));
  // Names that are not SASL mechanism names are dropped.
  capabilities = parse_ehlo(reply_of(
      "250-mx.example\r\n250 AUTH SCRAM-SHA-256 a=b THIS-NAME-IS-TOO-LONG-21 GSS_API\r\n"));
  EXPECT_EQ(capabilities.auth_mechanisms, (Lines{"SCRAM-SHA-256", "GSS_API"}));
}

TEST(ParseEhlo, AReplyThatIsNotPositiveAnnouncesNothing) {
  const auto capabilities =
      parse_ehlo(reply_of("502-5.5.1 mx.example\r\n502-PIPELINING\r\n502 STARTTLS\r\n"));
  EXPECT_FALSE(capabilities.pipelining || capabilities.starttls);
}

}  // namespace
}  // namespace rampart::smtp
