#include "managesieve/command_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rampart::managesieve {
namespace {

using namespace std::string_literals;

// A step as text: "VERB|string|string|number" or "NO (code) text" / "BYE text".
std::string describe(const Step& step) {
  if (const auto* bad = std::get_if<BadCommand>(&step)) {
    return std::string(bad->fatal ? "BYE " : "NO ") +
           (bad->code.empty() ? "" : "(" + bad->code + ") ") + bad->text;
  }
  const auto& command = std::get<Command>(step);
  std::string out = std::to_string(static_cast<int>(command.verb));
  for (const std::string& text : command.strings) out += "|" + text;
  if (command.verb == Verb::Havespace) out += "|" + std::to_string(command.number);
  return out;
}

// Feeds `chunks` in order; every command and error as the session would see them.
std::vector<std::string> parse(const std::vector<std::string>& chunks, Limits limits = {},
                               Mode mode = Mode::Command) {
  CommandParser parser(limits);
  std::vector<std::string> out;
  for (const std::string& chunk : chunks) {
    std::string_view input = chunk;
    for (;;) {
      Step step = parser.feed(input, mode);
      if (std::holds_alternative<NeedMore>(step)) break;
      out.push_back(describe(step));
    }
    EXPECT_TRUE(input.empty());
  }
  return out;
}

std::vector<std::string> parse(const std::string& bytes, Limits limits = {}) {
  return parse(std::vector<std::string>{bytes}, limits);
}

std::string verb(Verb v) { return std::to_string(static_cast<int>(v)); }

TEST(ManageSieveParser, ReadsEachCommandWithItsStrings) {
  EXPECT_EQ(parse("capability\r\nLogout\r\nNOOP \"tag\"\r\nlistscripts\n"),
            (std::vector<std::string>{verb(Verb::Capability), verb(Verb::Logout),
                                      verb(Verb::Noop) + "|tag", verb(Verb::Listscripts)}));
  EXPECT_EQ(parse("HAVESPACE \"my script\" 4096\r\n"),
            (std::vector<std::string>{verb(Verb::Havespace) + "|my script|4096"}));
  EXPECT_EQ(parse("RENAMESCRIPT \"a\\\"b\" \"c\\\\d\"\r\n"),
            (std::vector<std::string>{verb(Verb::Renamescript) + "|a\"b|c\\d"}));
  EXPECT_EQ(parse("AUTHENTICATE \"PLAIN\"\r\nAUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n"),
            (std::vector<std::string>{verb(Verb::Authenticate) + "|PLAIN",
                                      verb(Verb::Authenticate) + "|PLAIN|AGEAYg=="}));
}

TEST(ManageSieveParser, ReadsLiteralsOfBothForms) {
  // RFC 5804 section 4: {N+} from clients; {N} is taken the same way (no continuation).
  EXPECT_EQ(parse("PUTSCRIPT \"s\" {10+}\r\nkeep;\r\nx\r\n\r\n"),
            (std::vector<std::string>{verb(Verb::Putscript) + "|s|keep;\r\nx\r\n"}));
  EXPECT_EQ(parse("PUTSCRIPT {1}\r\ns {0+}\r\n\r\n"),
            (std::vector<std::string>{verb(Verb::Putscript) + "|s|"}));
  // A literal may hold what a quoted string may not: quotes, CR, LF, NUL.
  EXPECT_EQ(parse("CHECKSCRIPT {4+}\r\n\"\0\r\n\r\n"s),
            (std::vector<std::string>{verb(Verb::Checkscript) + "|\"\0\r\n"s}));
}

TEST(ManageSieveParser, GivesTheSameStepsWhereverTheInputIsSplit) {
  const std::string bytes =
      "PUTSCRIPT \"name\" {12+}\r\nif true {}\r\n\r\nNOOP\r\nHAVESPACE \"x\" "
      "99999999999999999999999\r\n"
      "GETSCRIPT x\r\nSETACTIVE \"\"\r\n";
  const auto whole = parse(bytes);
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[2], verb(Verb::Havespace) + "|x|18446744073709551615");
  EXPECT_EQ(whole[3], "NO GETSCRIPT: expected a string");
  EXPECT_EQ(whole[4], verb(Verb::Setactive) + "|");
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    EXPECT_EQ(parse(std::vector<std::string>{bytes.substr(0, cut), bytes.substr(cut)}), whole)
        << cut;
  }
  std::vector<std::string> bytewise;
  for (char c : bytes) bytewise.emplace_back(1, c);
  EXPECT_EQ(parse(bytewise), whole);
}

TEST(ManageSieveParser, RefusesAnOverlongLiteralAndGoesOn) {
  const Limits limits{.max_line = 64, .max_quoted = 16, .max_literal = 8};
  EXPECT_EQ(parse("PUTSCRIPT \"s\" {9+}\r\n123456789\r\nNOOP\r\n", limits),
            (std::vector<std::string>{"NO (QUOTA/MAXSIZE) Too large: at most 8 octets",
                                      verb(Verb::Noop)}));
}

TEST(ManageSieveParser, RefusesAnOverlongLineAndSkipsTheLiteralItEndsWith) {
  const Limits limits{.max_line = 32, .max_quoted = 16, .max_literal = 8};
  const std::string line = "PUTSCRIPT \"" + std::string(40, 'a') + "\" {3+}\r\nabc\r\nNOOP\r\n";
  EXPECT_EQ(parse(line, limits), (std::vector<std::string>{"NO Line too long", verb(Verb::Noop)}));
  std::vector<std::string> bytewise;
  for (char c : line) bytewise.emplace_back(1, c);
  EXPECT_EQ(parse(bytewise, limits),
            (std::vector<std::string>{"NO Line too long", verb(Verb::Noop)}));
}

TEST(ManageSieveParser, RefusesWhatIsNotACommand) {
  const Limits limits{.max_line = 256, .max_quoted = 4, .max_literal = 8};
  EXPECT_EQ(parse("\r\n", limits), (std::vector<std::string>{"NO Empty command"}));
  EXPECT_EQ(parse("UNAUTHENTICATE\r\n", limits), (std::vector<std::string>{"NO Unknown command"}));
  EXPECT_EQ(parse("GETSCRIPT\r\n", limits),
            (std::vector<std::string>{"NO GETSCRIPT: too few arguments"}));
  EXPECT_EQ(parse("LOGOUT \"x\"\r\n", limits),
            (std::vector<std::string>{"NO LOGOUT: too many arguments"}));
  EXPECT_EQ(parse("NOOP \"abcde\"\r\n", limits)[0].substr(0, 39),
            "NO A quoted string may have at most 4 o");
  EXPECT_EQ(parse("NOOP \"a\\b\"\r\n", limits)[0].substr(0, 20), "NO Only \\\" and \\\\ ma");
  EXPECT_EQ(parse("NOOP \"ab\r\n", limits),
            (std::vector<std::string>{"NO Unterminated quoted string"}));
  EXPECT_EQ(parse("NOOP  \"a\"\r\n", limits)[0], "NO Expected one space between arguments");
  EXPECT_EQ(parse("NOOP (a)\r\n", limits)[0], "NO Unexpected character");
  EXPECT_EQ(parse("NOOP {3+} \"a\"\r\n", limits)[0], "NO A literal is {N+} at the end of a line");
  EXPECT_EQ(parse("PUTSCRIPT \"a\" \"b\" \"c\" {2+}\r\nxx \"d\"\r\nNOOP\r\n", limits),
            (std::vector<std::string>{"NO Too many arguments", verb(Verb::Noop)}));
  // A literal too long to follow: the connection cannot go on.
  EXPECT_EQ(parse("PUTSCRIPT \"a\" {99999999999999999999+}\r\n", limits),
            (std::vector<std::string>{"BYE Literal length out of range"}));
}

TEST(ManageSieveParser, ReadsASaslResponseAsOneString) {
  EXPECT_EQ(parse({"\"AGEAYg==\"\r\n"}, {}, Mode::Response),
            (std::vector<std::string>{verb(Verb::Response) + "|AGEAYg=="}));
  EXPECT_EQ(parse({"{4+}\r\n*abc\r\n"}, {}, Mode::Response),
            (std::vector<std::string>{verb(Verb::Response) + "|*abc"}));
  EXPECT_EQ(parse({"AGEAYg==\r\n"}, {}, Mode::Response),
            (std::vector<std::string>{"NO Expected one string as the response"}));
}

TEST(ManageSieveParser, EncodesStringsQuotedOrAsLiterals) {
  EXPECT_EQ(encode_string("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
  EXPECT_EQ(encode_string("line 1\r\nline 2"), "{14}\r\nline 1\r\nline 2");
  EXPECT_EQ(encode_string(std::string(1025, 'x')).substr(0, 8), "{1025}\r\n");
  EXPECT_EQ(response("NO", "NONEXISTENT", "no such script"),
            "NO (NONEXISTENT) \"no such script\"\r\n");
  EXPECT_EQ(response("OK", "", ""), "OK\r\n");
}

}  // namespace
}  // namespace rampart::managesieve
