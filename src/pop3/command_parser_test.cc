#include "pop3/command_parser.h"

#include <gtest/gtest.h>

#include <vector>

namespace rampart::pop3 {
namespace {

// Feeds `chunks` in order; returns every command and error, as the session would see them.
std::vector<Step> parse_chunks(const std::vector<std::string>& chunks, Limits limits = {}) {
  CommandParser parser(limits);
  std::vector<Step> out;
  for (const std::string& chunk : chunks) {
    std::string_view input = chunk;
    for (;;) {
      Step step = parser.feed(input);
      if (std::holds_alternative<NeedMore>(step)) break;
      out.push_back(std::move(step));
    }
    EXPECT_TRUE(input.empty());
  }
  return out;
}

Command command(std::string_view line) {
  Step step = parse_command_line(line);
  EXPECT_TRUE(std::holds_alternative<Command>(step)) << line;
  return std::holds_alternative<Command>(step) ? std::get<Command>(step) : Command{};
}

std::string error(std::string_view line) {
  Step step = parse_command_line(line);
  EXPECT_TRUE(std::holds_alternative<BadCommand>(step)) << line;
  return std::holds_alternative<BadCommand>(step) ? std::get<BadCommand>(step).text : "";
}

TEST(CommandParser, GivesTheSameCommandsWhereverTheInputIsSplit) {
  const std::string bytes = "USER jo@example.test\r\nPASS two words \r\nTOP 3 10\r\nLIST\nQUIT\r\n";
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    for (std::size_t second = cut; second <= bytes.size(); second += 7) {
      auto steps = parse_chunks(
          {bytes.substr(0, cut), bytes.substr(cut, second - cut), bytes.substr(second)});
      ASSERT_EQ(steps.size(), 5u) << "split at " << cut << " and " << second;
      const auto& user = std::get<Command>(steps[0]);
      EXPECT_EQ(user.verb, Verb::User);
      EXPECT_EQ(user.argument, "jo@example.test");
      EXPECT_EQ(std::get<Command>(steps[1]).argument, "two words ");
      const auto& top = std::get<Command>(steps[2]);
      EXPECT_EQ(top.verb, Verb::Top);
      EXPECT_EQ(top.message, 3u);
      EXPECT_EQ(top.lines, 10u);
      EXPECT_EQ(std::get<Command>(steps[3]).verb, Verb::List);
      EXPECT_EQ(std::get<Command>(steps[4]).verb, Verb::Quit);
    }
  }
}

TEST(CommandParser, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(command("stat").verb, Verb::Stat);
  EXPECT_EQ(command("Uidl 2").verb, Verb::Uidl);
  EXPECT_EQ(command("capa").verb, Verb::Capa);
  EXPECT_EQ(command("sTlS").verb, Verb::Stls);
}

TEST(CommandParser, ReadsMessageNumbers) {
  EXPECT_FALSE(command("LIST").message);
  EXPECT_EQ(command("LIST 7").message, 7u);
  EXPECT_EQ(command("UIDL  12 ").message, 12u);
  EXPECT_EQ(command("RETR 1").message, 1u);
  EXPECT_EQ(command("DELE 0").message, 0u);  // the session says no such message
  EXPECT_EQ(command("RETR 99999999999999999999999").message, 4294967295u);
  EXPECT_EQ(command("TOP 1 99999999999999999999999").lines, UINT64_MAX);
  EXPECT_EQ(command("TOP 1 0").lines, 0u);
  EXPECT_EQ(error("RETR"), "RETR takes a message number");
  EXPECT_EQ(error("RETR -1"), "Invalid message number");
  EXPECT_EQ(error("RETR 1x"), "Invalid message number");
  EXPECT_EQ(error("DELE 1 2"), "DELE takes a message number");
  EXPECT_EQ(error("LIST +3"), "Invalid message number");
  EXPECT_EQ(error("TOP 1"), "TOP takes a message number and a line count");
  EXPECT_EQ(error("TOP 1 -2"), "Invalid message number or line count");
}

TEST(CommandParser, ReadsLoginCommands) {
  EXPECT_EQ(command("PASS ").argument, "");
  EXPECT_EQ(command("PASS  spaced\tpass ").argument, " spaced\tpass ");
  EXPECT_EQ(error("PASS"), "PASS takes a password");
  EXPECT_EQ(error("USER"), "USER takes a user name");
  EXPECT_EQ(error("USER two names"), "USER takes a user name");
  const Command listing = command("AUTH");
  EXPECT_EQ(listing.verb, Verb::Auth);
  EXPECT_EQ(listing.argument, "");
  EXPECT_FALSE(listing.initial_response);
  const Command plain = command("AUTH PLAIN AGpvAHNlY3JldA==");
  EXPECT_EQ(plain.argument, "PLAIN");
  EXPECT_EQ(plain.initial_response, "AGpvAHNlY3JldA==");
  EXPECT_EQ(command("AUTH plain =").initial_response, "=");
  EXPECT_EQ(error("AUTH PLAIN a b"), "AUTH takes a mechanism and an initial response");
}

TEST(CommandParser, RefusesUnknownCommandsExtraArgumentsAndNul) {
  EXPECT_EQ(error(""), "Unknown command");
  EXPECT_EQ(error("APOP jo 0123"), "Unknown command");
  EXPECT_EQ(error("RETRX 1"), "Unknown command");
  EXPECT_EQ(error("STAT now"), "STAT takes no arguments");
  EXPECT_EQ(command("QUIT  ").verb, Verb::Quit);
  EXPECT_EQ(error(std::string_view("USER a\0b", 8)), "NUL byte in command");
}

TEST(CommandParser, ALineOverTheLimitIsOneErrorAndTheNextLineIsRead) {
  const std::string longest = "USER " + std::string(248, 'a') + "\r\n";  // 255 octets
  ASSERT_EQ(longest.size(), 255u);
  auto steps = parse_chunks({longest, "USER " + std::string(249, 'a') + "\r\nNOOP\r\n"});
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(std::get<Command>(steps[0]).argument.size(), 248u);
  EXPECT_EQ(std::get<BadCommand>(steps[1]).text, "Line too long: a command is at most 255 octets");
  EXPECT_EQ(std::get<Command>(steps[2]).verb, Verb::Noop);
  // However it arrives, an endless line is held to the limit and reported once.
  std::vector<std::string> drip(1000, std::string(100, 'x'));
  drip.push_back("\r\nSTAT\r\n");
  steps = parse_chunks(drip);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<BadCommand>(steps[0]));
  EXPECT_EQ(std::get<Command>(steps[1]).verb, Verb::Stat);
}

TEST(CommandParser, TakesSaslResponsesUnderTheirOwnLimit) {
  CommandParser parser({.max_line = 255, .max_response = 600});
  const std::string response = std::string(500, 'Q') + "\r\n";
  std::string bytes = "AUTH PLAIN\r\n" + response + "*\r\n" + std::string(601, 'x') + "\nNOOP\r\n";
  std::string_view input = bytes;
  EXPECT_EQ(std::get<Command>(parser.feed(input)).argument, "PLAIN");
  EXPECT_EQ(std::get<std::string>(parser.take_response(input)), std::string(500, 'Q'));
  EXPECT_EQ(std::get<std::string>(parser.take_response(input)), "*");
  EXPECT_EQ(std::get<BadCommand>(parser.take_response(input)).text, "Response too long");
  EXPECT_EQ(std::get<Command>(parser.feed(input)).verb, Verb::Noop);
  EXPECT_TRUE(input.empty());
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.take_response(input)));
}

TEST(CommandParser, ResetDropsAPartialLine) {
  CommandParser parser;
  std::string_view input = "STAT\r\nQU";
  EXPECT_EQ(std::get<Command>(parser.feed(input)).verb, Verb::Stat);
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.feed(input)));
  parser.reset();
  input = "NOOP\r\n";
  EXPECT_EQ(std::get<Command>(parser.feed(input)).verb, Verb::Noop);
}

}  // namespace
}  // namespace rampart::pop3
