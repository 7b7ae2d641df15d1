#include "smtp/command_parser.h"

#include <gtest/gtest.h>

#include "smtp/data_reader.h"

namespace rampart::smtp {
namespace {

std::vector<Step> parse_chunks(std::initializer_list<std::string_view> chunks) {
  CommandParser parser;
  std::vector<Step> steps;
  for (std::string_view chunk : chunks) {
    while (!chunk.empty()) {
      Step step = parser.feed(chunk);
      if (!std::holds_alternative<NeedMore>(step)) steps.push_back(std::move(step));
    }
  }
  return steps;
}

Command command_of(std::string_view line) {
  Step step = parse_command_line(line);
  auto* command = std::get_if<Command>(&step);
  EXPECT_NE(command, nullptr) << line;
  return command ? *command : Command{};
}

int error_code_of(std::string_view line) {
  Step step = parse_command_line(line);
  auto* bad = std::get_if<BadCommand>(&step);
  return bad ? bad->code : 0;
}

TEST(CommandParser, GivesTheSameCommandsWhereverTheInputIsSplit) {
  const std::string bytes =
      "EHLO client.example\r\nMAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME\r\n";
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    auto steps =
        parse_chunks({std::string_view(bytes).substr(0, cut), std::string_view(bytes).substr(cut)});
    ASSERT_EQ(steps.size(), 2u) << "split at " << cut;
    const auto& mail = std::get<Command>(steps[1]);
    EXPECT_EQ(mail.verb, Verb::Mail);
    EXPECT_EQ(mail.path, "a@b.example");
    EXPECT_EQ(mail.parameters, (Parameters{{"SIZE", "10"}, {"BODY", "8BITMIME"}}));
  }
}

TEST(CommandParser, ParsesEveryVerb) {
  EXPECT_EQ(command_of("ehlo x.example").domain, "x.example");
  EXPECT_EQ(command_of("HELO x").verb, Verb::Helo);
  EXPECT_EQ(command_of("LHLO x").verb, Verb::Lhlo);
  EXPECT_EQ(command_of("MAIL FROM:<>").path, "");
  EXPECT_EQ(command_of("mail from: <a@b.example>").path, "a@b.example");
  EXPECT_EQ(command_of("RCPT TO:<Postmaster>").path, "Postmaster");
  EXPECT_EQ(command_of("RCPT TO:<@relay.example:u@b.example> NOTIFY=SUCCESS,FAILURE").path,
            "u@b.example");
  EXPECT_EQ(command_of("RCPT TO:<\"odd user\"@b.example>").path, "\"odd user\"@b.example");
  EXPECT_EQ(command_of("RCPT TO:<δοκιμή@παράδειγμα.δοκιμή>").path, "δοκιμή@παράδειγμα.δοκιμή");
  EXPECT_EQ(command_of("DATA").verb, Verb::Data);
  EXPECT_EQ(command_of("BDAT 100 LAST").chunk_size, 100u);
  EXPECT_TRUE(command_of("BDAT 100 last").last_chunk);
  EXPECT_FALSE(command_of("BDAT 0").last_chunk);
  EXPECT_EQ(command_of("AUTH plain AGFAYg==").mechanism, "PLAIN");
  EXPECT_EQ(command_of("AUTH PLAIN AGFAYg==").initial_response, "AGFAYg==");
  EXPECT_EQ(command_of("AUTH LOGIN").initial_response, "");
  EXPECT_EQ(command_of("STARTTLS").verb, Verb::Starttls);
  EXPECT_EQ(command_of("NOOP anything").verb, Verb::Noop);
  EXPECT_EQ(command_of("QUIT").verb, Verb::Quit);
  EXPECT_EQ(command_of("RSET").verb, Verb::Rset);
  EXPECT_EQ(command_of("VRFY someone").argument, "someone");
}

TEST(CommandParser, EhloTakesOnlyADomainOrAnAddressLiteral) {
  EXPECT_EQ(command_of("EHLO mail.example.org").domain, "mail.example.org");
  EXPECT_EQ(command_of("EHLO [127.0.0.1]").domain, "[127.0.0.1]");
  EXPECT_EQ(command_of("EHLO [IPv6:::1]").domain, "[IPv6:::1]");
  EXPECT_EQ(command_of("HELO DESKTOP_42").domain, "DESKTOP_42");
  EXPECT_EQ(command_of("EHLO b\xc3\xbc"
                       "cher.example")
                .domain,
            "b\xc3\xbc"
            "cher.example");
  // Whatever would reach the Received header as more than a name is refused.
  EXPECT_EQ(error_code_of("EHLO evil.test\rAuthentication-Results:x"), 501);
  EXPECT_EQ(error_code_of("EHLO evil.test\nX-Injected:1"), 501);
  EXPECT_EQ(error_code_of("EHLO a(comment)"), 501);
  EXPECT_EQ(error_code_of("EHLO a..b"), 501);
  EXPECT_EQ(error_code_of("EHLO [1.2.3.4"), 501);
  EXPECT_EQ(error_code_of("EHLO \xff\xfe"), 501);
  EXPECT_EQ(error_code_of("EHLO " + std::string(300, 'a')), 501);
}

TEST(CommandParser, RefusesMalformedCommands) {
  EXPECT_EQ(error_code_of("FROB"), 500);
  EXPECT_EQ(error_code_of("EHLO"), 501);
  EXPECT_EQ(error_code_of("MAIL TO:<a@b>"), 501);
  EXPECT_EQ(error_code_of("MAIL FROM:a@b.example"), 501);
  EXPECT_EQ(error_code_of("RCPT TO:<>"), 501);
  EXPECT_EQ(error_code_of("RCPT TO:<user>"), 501);
  EXPECT_EQ(error_code_of("RCPT TO:<a b@c>"), 501);
  EXPECT_EQ(error_code_of("RCPT TO:<a@b\x01>"), 501);
  EXPECT_EQ(error_code_of("MAIL FROM:<\xff\xfe@b.example>"), 501);
  EXPECT_EQ(error_code_of("RCPT TO:<\xc3\x28@b.example>"), 501);
  EXPECT_EQ(command_of("RCPT TO:<j\xc3\xb6rg@b.example>").path, "j\xc3\xb6rg@b.example");
  EXPECT_EQ(error_code_of("MAIL FROM:<a@b.example> =x"), 555);
  EXPECT_EQ(error_code_of("DATA now"), 501);
  EXPECT_EQ(error_code_of("BDAT x"), 501);
  EXPECT_EQ(error_code_of("BDAT 10 FIRST"), 501);
  EXPECT_EQ(error_code_of("BDAT 99999999999999999999999"), 501);
  EXPECT_EQ(error_code_of(std::string("NOOP a\0b", 8)), 500);
  EXPECT_EQ(error_code_of("RCPT TO:<" + std::string(300, 'a') + "@b>"), 501);
}

TEST(CommandParser, OverlongLineIsOneErrorThenParsingGoesOn) {
  CommandParser parser({.max_line = 16});
  const std::string bytes = "NOOP " + std::string(100, 'x') + "\r\nQUIT\r\n";
  std::string_view input = bytes;
  std::vector<Step> steps;
  while (!input.empty()) {
    Step step = parser.feed(input);
    if (!std::holds_alternative<NeedMore>(step)) steps.push_back(step);
  }
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(std::get<BadCommand>(steps[0]).text, "Line too long");
  EXPECT_EQ(std::get<Command>(steps[1]).verb, Verb::Quit);
}

std::pair<DataReader::Status, std::string> read_data(std::string_view bytes,
                                                     std::string_view* rest = nullptr) {
  DataReader reader(1 << 20);
  std::string_view input = bytes;
  const auto status = reader.feed(input);
  if (rest) *rest = input;
  return {status, reader.take()};
}

TEST(DataReader, EndsOnlyAtCrLfDotCrLf) {
  std::string_view rest;
  auto [status, message] = read_data("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", &rest);
  EXPECT_EQ(status, DataReader::Status::Done);
  EXPECT_EQ(message, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(rest, "QUIT\r\n");
  EXPECT_EQ(read_data(".\r\n").second, "");
}

TEST(DataReader, SmugglingSequencesAreContent) {
  for (const char* smuggle : {"a\n.\nMAIL FROM:<x@y>\r\n", "a\r.\rMAIL\r\n", "a\r\n.\nMAIL\r\n",
                              "a\n.\r\nMAIL\r\n", "a\r.\r\nMAIL\r\n"}) {
    auto [status, message] = read_data(smuggle);
    EXPECT_EQ(status, DataReader::Status::NeedMore) << smuggle;
  }
  auto [status, message] = read_data("a\n.\nb\r\n.\r\n");
  EXPECT_EQ(status, DataReader::Status::Done);
  EXPECT_EQ(message, "a\n.\nb\r\n");
}

TEST(DataReader, UndoesDotStuffingWhereverSplit) {
  const std::string bytes = "..leading\r\n.\r.x\r\nmid.dle\r\n...\r\n.\r\n";
  const std::string expected = ".leading\r\n\r.x\r\nmid.dle\r\n..\r\n";
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    DataReader reader(1 << 20);
    std::string_view first = std::string_view(bytes).substr(0, cut);
    std::string_view second = std::string_view(bytes).substr(cut);
    auto status = reader.feed(first);
    if (status == DataReader::Status::NeedMore) status = reader.feed(second);
    ASSERT_EQ(status, DataReader::Status::Done) << "split at " << cut;
    EXPECT_EQ(reader.take(), expected) << "split at " << cut;
  }
}

TEST(DataReader, CountsButDoesNotKeepBytesBeyondTheLimit) {
  DataReader reader(10);
  std::string_view input = "0123456789abcdef\r\n.\r\n";
  EXPECT_EQ(reader.feed(input), DataReader::Status::Done);
  EXPECT_TRUE(reader.too_big());
  EXPECT_EQ(reader.size(), 18u);
  EXPECT_EQ(reader.take().size(), 10u);
}

}  // namespace
}  // namespace rampart::smtp
