#include "filter/rspamd.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <string>

#include "filter/learning.h"

namespace rampart::filter {
namespace {

using Kind = RspamdVerdict::Kind;

std::string http(std::string_view json) {
  return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(json.size()) + "\r\n\r\n" + std::string(json);
}

TEST(Rspamd, ReadsActionScoreAndTheHeaviestSymbols) {
  const auto verdict = parse_rspamd_reply(
      http(R"({"is_skipped":false,"score":6.5,"required_score":15,"action":"add header",)"
           R"("symbols":{"SMALL":{"score":0.1},"BIG":{"name":"BIG","score":5.0},)"
           R"("NEGATIVE":{"score":-1.4},"BAD\r\nNAME":{"score":0}}})"));
  ASSERT_EQ(verdict.kind, Kind::Scanned) << verdict.detail;
  EXPECT_EQ(verdict.action, RspamdAction::AddHeader);
  EXPECT_DOUBLE_EQ(verdict.score, 6.5);
  EXPECT_DOUBLE_EQ(verdict.required_score, 15);
  EXPECT_EQ(verdict.symbols, "BIG(5.00) NEGATIVE(-1.40) SMALL(0.10) BADNAME(0.00)");
}

TEST(Rspamd, ReadsWhatRspamd34Sends) {
  // rspamd 3.4's answer to its rewrite-subject GTUBE variant, as sent.
  const std::string body =
      R"({"is_skipped":true,"score":0.0,"required_score":15.0,"action":"rewrite subject",)"
      R"("subject":"*** SPAM *** test Z","symbols":{"GTUBE":{"name":"GTUBE","score":0.0,)"
      R"("metric_score":0.0}},"messages":{"smtp_message":"Gtube pattern"},)"
      R"("message-id":"Z@sender.example","time_real":0.000339})";
  const auto verdict = parse_rspamd_reply(
      "HTTP/1.1 200 OK\r\nConnection: close\r\nServer: rspamd/3.4\r\n"
      "Date: Fri, 04 Dec 2026 14:48:41 GMT\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nContent-Type: application/json\r\n\r\n" + body);
  ASSERT_EQ(verdict.kind, Kind::Scanned) << verdict.detail;
  EXPECT_EQ(verdict.action, RspamdAction::RewriteSubject);
  EXPECT_EQ(verdict.subject, "*** SPAM *** test Z");
  EXPECT_EQ(verdict.symbols, "GTUBE(0.00)");
  EXPECT_EQ(describe(verdict), "rewrite subject 0.00/15.00 GTUBE(0.00)");
  EXPECT_EQ(http_status("HTTP/1.1 208 <c1@sender.example> has been already learned as spam\r\n"),
            208);
}

TEST(Rspamd, KnowsEveryAction) {
  const std::pair<const char*, RspamdAction> actions[] = {
      {"no action", RspamdAction::NoAction},   {"greylist", RspamdAction::Greylist},
      {"add header", RspamdAction::AddHeader}, {"soft reject", RspamdAction::SoftReject},
      {"reject", RspamdAction::Reject},        {"discard", RspamdAction::Junk},
      {"quarantine", RspamdAction::Junk}};
  for (const auto& [name, action] : actions) {
    const auto verdict = parse_rspamd_reply(
        http(std::string(R"({"score":1,"required_score":15,"action":")") + name + "\"}"));
    EXPECT_EQ(verdict.kind, Kind::Scanned) << name;
    EXPECT_EQ(verdict.action, action) << name;
  }
  EXPECT_EQ(parse_rspamd_reply(http(R"({"score":1,"action":"explode"})")).kind, Kind::Unscanned);
}

TEST(Rspamd, RewriteSubjectTakesTheNewSubjectWithoutLineBreaks) {
  const auto verdict = parse_rspamd_reply(http(
      R"({"score":9,"required_score":15,"action":"rewrite subject","subject":"***SPAM***\r\nBcc: x"})"));
  EXPECT_EQ(verdict.action, RspamdAction::RewriteSubject);
  EXPECT_EQ(verdict.subject, "***SPAM***Bcc: x");
  // Without a subject to put in, the message is only marked.
  const auto bare =
      parse_rspamd_reply(http(R"({"score":9,"required_score":15,"action":"rewrite subject"})"));
  EXPECT_EQ(bare.action, RspamdAction::AddHeader);
}

TEST(Rspamd, WhatItCannotReadIsUnscanned) {
  EXPECT_EQ(parse_rspamd_reply("").kind, Kind::Unscanned);
  EXPECT_EQ(parse_rspamd_reply("HTTP/1.1 200 OK\r\n\r\nnot json").kind, Kind::Unscanned);
  EXPECT_EQ(parse_rspamd_reply("HTTP/1.1 200 OK\r\n\r\n[1,2]").kind, Kind::Unscanned);
  EXPECT_EQ(parse_rspamd_reply(http(R"({"action":"reject"})")).kind, Kind::Unscanned);
  EXPECT_EQ(parse_rspamd_reply(http(R"({"score":"high","action":"reject"})")).kind,
            Kind::Unscanned);
  EXPECT_EQ(parse_rspamd_reply(http(R"({"score":1e999,"action":"reject"})")).kind, Kind::Unscanned);
  const auto failed = parse_rspamd_reply("HTTP/1.1 500 Internal Server Error\r\n\r\n{}");
  EXPECT_EQ(failed.kind, Kind::Unscanned);
  EXPECT_NE(failed.detail.find("500"), std::string::npos);
  // A body shorter than its Content-Length was cut short.
  EXPECT_EQ(parse_rspamd_reply("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}").kind,
            Kind::Unscanned);
  EXPECT_EQ(parse_rspamd_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}").kind,
            Kind::Unscanned);
  std::string huge =
      http(R"({"score":1,"action":"no action","x":")" + std::string(kMaxRspamdReply, 'a') + "\"}");
  EXPECT_EQ(parse_rspamd_reply(huge).kind, Kind::Unscanned);
}

TEST(Rspamd, KnowsWhenAReplyIsWhole) {
  EXPECT_TRUE(http_reply_complete("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"));
  EXPECT_TRUE(http_reply_complete("HTTP/1.1 200 OK\r\ncontent-length:0\r\n\r\n"));
  EXPECT_FALSE(http_reply_complete("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{}"));
  EXPECT_FALSE(http_reply_complete("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"));
  // Without a length, only the end of the connection ends the body.
  EXPECT_FALSE(http_reply_complete("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n{}"));
  EXPECT_FALSE(http_reply_complete("garbage\r\n\r\n"));
}

TEST(Rspamd, ReadsTheStatusLine) {
  EXPECT_EQ(http_status("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(http_status("HTTP/1.0 208\r\n"), 208);
  EXPECT_EQ(http_status("HTTP/2 200 OK\r\n"), std::nullopt);
  EXPECT_EQ(http_status("HTTP/1.1 20x OK\r\n"), std::nullopt);
}

TEST(Rspamd, TheRequestCarriesTheEnvelope) {
  const RspamdEnvelope envelope{.ip = "192.0.2.1",
                                .helo = "mail.example\r\nEvil: 1",
                                .mail_from = "",
                                .recipients = {"a@example.test", "b@example.test"},
                                .queue_id = "ABC",
                                .user = ""};
  const std::string head = rspamd_request_head("/checkv2", envelope, "", 42);
  EXPECT_EQ(head,
            "POST /checkv2 HTTP/1.0\r\nContent-Length: 42\r\nIP: 192.0.2.1\r\n"
            "Helo: mail.exampleEvil: 1\r\nFrom: <>\r\nRcpt: a@example.test\r\n"
            "Rcpt: b@example.test\r\nQueue-Id: ABC\r\n\r\n");
  const std::string learn = rspamd_request_head("/learnspam", RspamdEnvelope{}, "secret", 7);
  EXPECT_EQ(learn, "POST /learnspam HTTP/1.0\r\nContent-Length: 7\r\nPassword: secret\r\n\r\n");
}

TEST(Rspamd, HeaderFieldsSayTheVerdict) {
  RspamdVerdict verdict;
  verdict.kind = Kind::Scanned;
  verdict.action = RspamdAction::AddHeader;
  verdict.score = 7.25;
  verdict.required_score = 15;
  verdict.symbols = "A(7.25)";
  EXPECT_EQ(spam_header_fields(verdict),
            "X-Spamd-Result: add header; 7.25 / 15.00;\r\n\tA(7.25)\r\nX-Spam: Yes\r\n");
  verdict.action = RspamdAction::NoAction;
  verdict.symbols.clear();
  EXPECT_EQ(spam_header_fields(verdict), "X-Spamd-Result: no action; 7.25 / 15.00\r\n");
  RspamdVerdict down;
  down.detail = "rspamd at 127.0.0.1:11333: Connection refused";
  EXPECT_EQ(spam_header_fields(down),
            "X-Spamd-Result: unscanned (rspamd at 127.0.0.1:11333: Connection refused)\r\n");
}

TEST(Rspamd, MarkingRemovesForgedVerdictsAndRewritesTheSubject) {
  const std::string message =
      "X-Spam: No\r\nSubject: Hello\r\n there\r\nX-Spamd-Result: no action;\r\n\tFAKE(0)\r\n"
      "X-Spam-Flag: NO\r\nTo: bob@example.test\r\n\r\nX-Spam: body stays\r\n";
  auto marked = [](std::string text, std::string_view subject) {
    mark_message(text, subject);
    return text;
  };
  EXPECT_EQ(marked(message, ""),
            "Subject: Hello\r\n there\r\nTo: bob@example.test\r\n\r\nX-Spam: body stays\r\n");
  EXPECT_EQ(
      marked(message, "***SPAM*** Hello there"),
      "Subject: ***SPAM*** Hello there\r\nTo: bob@example.test\r\n\r\nX-Spam: body stays\r\n");
  EXPECT_EQ(marked("To: x\r\n\r\nhi\r\n", "[SPAM]"), "Subject: [SPAM]\r\nTo: x\r\n\r\nhi\r\n");
  EXPECT_EQ(marked("Subject: a\r\n\r\n", "Grüße"), "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n\r\n");
  EXPECT_EQ(marked("To: x\r\n\r\nhi\r\n", ""), "To: x\r\n\r\nhi\r\n");
}

TEST(Rspamd, SpamtestScalesToTheRejectThreshold) {
  RspamdVerdict verdict;
  verdict.kind = Kind::Scanned;
  verdict.required_score = 15;
  verdict.score = -3;
  EXPECT_EQ(spam_test(verdict).score, 1);
  EXPECT_EQ(spam_test(verdict).percent, 0);
  verdict.score = 7.5;
  EXPECT_EQ(spam_test(verdict).percent, 50);
  EXPECT_EQ(spam_test(verdict).score, 6);
  verdict.score = 30;
  EXPECT_EQ(spam_test(verdict).score, 10);
  EXPECT_EQ(spam_test(verdict).percent, 100);
}

TEST(Rspamd, LessonsFollowTheJunkMailbox) {
  using store::Role;
  EXPECT_EQ(lesson_for(Role::Inbox, Role::Junk), Lesson::Spam);
  EXPECT_EQ(lesson_for(Role::None, Role::Junk), Lesson::Spam);
  EXPECT_EQ(lesson_for(Role::Junk, Role::Inbox), Lesson::Ham);
  EXPECT_EQ(lesson_for(Role::Junk, Role::None), Lesson::Ham);
  EXPECT_EQ(lesson_for(Role::Junk, Role::Trash), Lesson::None);
  EXPECT_EQ(lesson_for(Role::Junk, Role::Junk), Lesson::None);
  EXPECT_EQ(lesson_for(Role::Inbox, Role::Archive), Lesson::None);
}

TEST(Rspamd, AnRspamdThatIsNotThereLeavesTheMessageUnscanned) {
  boost::asio::io_context io;
  RspamdSettings settings;
  settings.scanner = Endpoint{.address = "127.0.0.1", .port = 1, .unix_path = {}};
  settings.timeout = std::chrono::seconds(5);
  const std::string message = "Subject: x\r\n\r\nhi\r\n";
  const std::string_view fields;
  const RspamdEnvelope envelope;
  auto verdict = boost::asio::co_spawn(
      io, check(io.get_executor(), settings, envelope, fields, message), boost::asio::use_future);
  io.run();
  const RspamdVerdict result = verdict.get();
  EXPECT_EQ(result.kind, Kind::Unscanned);
  EXPECT_NE(result.detail.find("127.0.0.1:1"), std::string::npos) << result.detail;
}

TEST(Rspamd, AnRspamdThatDoesNotAnswerInTimeLeavesTheMessageUnscanned) {
  boost::asio::io_context io;
  // Connections are taken (the kernel's backlog) but never answered.
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  RspamdSettings settings;
  settings.scanner =
      Endpoint{.address = "127.0.0.1", .port = silent.local_endpoint().port(), .unix_path = {}};
  settings.timeout = std::chrono::seconds(1);
  const std::string message = "Subject: x\r\n\r\nhi\r\n";
  const std::string_view fields;
  const RspamdEnvelope envelope;
  auto verdict = boost::asio::co_spawn(
      io, check(io.get_executor(), settings, envelope, fields, message), boost::asio::use_future);
  io.run();
  const RspamdVerdict result = verdict.get();
  EXPECT_EQ(result.kind, Kind::Unscanned);
  EXPECT_NE(result.detail.find("did not answer within 1 s"), std::string::npos) << result.detail;
}

TEST(Rspamd, AMessageOverTheLimitIsNotSent) {
  boost::asio::io_context io;
  RspamdSettings settings;
  settings.scanner = Endpoint{.address = "127.0.0.1", .port = 1, .unix_path = {}};
  settings.max_size = 4;
  const std::string message = "Subject: x\r\n\r\nhi\r\n";
  const std::string_view fields;
  const RspamdEnvelope envelope;
  auto verdict = boost::asio::co_spawn(
      io, check(io.get_executor(), settings, envelope, fields, message), boost::asio::use_future);
  io.run();
  const RspamdVerdict result = verdict.get();
  EXPECT_EQ(result.kind, Kind::Unscanned);
  EXPECT_TRUE(result.too_big);
}

}  // namespace
}  // namespace rampart::filter
