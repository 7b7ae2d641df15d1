#include "sieve/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace rampart::sieve {
namespace {

std::string error_of(std::string_view text, const SieveLimits& limits = {}) {
  auto script = parse_script(text, limits);
  return script ? "" : script.error().detail;
}

TEST(SieveParser, ParsesCommandsTestsAndArguments) {
  auto script = parse_script(
      "# a comment\r\n"
      "require [\"fileinto\", \"envelope\"];\r\n"
      "/* a bracket\r\n comment */\r\n"
      "if anyof (size :over 1K, not exists [\"From\",\"Date\"]) {\r\n"
      "  fileinto \"big\";\r\n"
      "} elsif envelope :domain :is \"from\" \"example.com\" { keep; }\r\n"
      "else { discard; }\r\n");
  ASSERT_TRUE(script) << script.error().detail;
  ASSERT_EQ(script->commands.size(), 4u);
  EXPECT_EQ(script->extensions, (std::vector<std::string>{"fileinto", "envelope"}));
  const Command& branch = script->commands[1];
  EXPECT_EQ(branch.name, "if");
  EXPECT_EQ(branch.line, 5);
  const rampart::sieve::Test& anyof = branch.tests[0];
  ASSERT_EQ(anyof.tests.size(), 2u);
  EXPECT_EQ(anyof.tests[0].tag("over")->number, 1024u);
  EXPECT_EQ(anyof.tests[1].name, "not");
  EXPECT_EQ(anyof.tests[1].tests[0].positional[0].strings,
            (std::vector<std::string>{"From", "Date"}));
  EXPECT_EQ(script->commands[2].tests[0].match.part, AddressPart::Domain);
  EXPECT_EQ(script->commands[3].block[0].name, "discard");
}

TEST(SieveParser, NumbersTakeTheirQuantifier) {
  auto script = parse_script("if size :under 2M { keep; } if size :over 3G { keep; }");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->commands[0].tests[0].tag("under")->number, 2u << 20);
  EXPECT_EQ(script->commands[1].tests[0].tag("over")->number, 3ull << 30);
  EXPECT_NE(error_of("if size :over 99999999999999999999 { keep; }"), "");
}

TEST(SieveParser, MultiLineStringsAreDotUnstuffed) {
  auto script = parse_script(
      "require \"reject\";\r\n"
      "reject text: # why\r\n"
      "line one\r\n"
      "..starts with a dot\r\n"
      ".\r\n"
      ";\r\n");
  ASSERT_TRUE(script) << script.error().detail;
  EXPECT_EQ(script->commands[1].positional[0].strings[0], "line one\r\n.starts with a dot\r\n");
}

TEST(SieveParser, QuotedStringsUnescapeBackslashAndQuote) {
  auto script = parse_script(R"(require "fileinto"; fileinto "a\"b\\c\d";)");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->commands[1].positional[0].strings[0], "a\"b\\cd");
}

TEST(SieveParser, IdentifiersAndTagsAreCaseInsensitive) {
  auto script = parse_script("IF Header :CONTAINS \"Subject\" \"x\" { Discard; }");
  ASSERT_TRUE(script) << script.error().detail;
  EXPECT_EQ(script->commands[0].tests[0].match.type, MatchType::Contains);
}

TEST(SieveParser, SyntaxErrorsGiveTheirLine) {
  EXPECT_EQ(error_of("keep;\n\nkeep\n"),
            "line 4: expected ';' or '{' after 'keep', got end of script");
  EXPECT_EQ(error_of("keep;\nif true { keep;\n"), "line 2: unclosed '{' block");
  EXPECT_EQ(error_of("keep;\n\"open\nstring"), "line 2: unterminated string");
  EXPECT_EQ(error_of("require \"fileinto\";\nfileinto \"a\nb;\n"), "line 2: unterminated string");
  EXPECT_EQ(error_of("keep;\n/* never closed\n"), "line 2: unterminated /* comment");
  EXPECT_EQ(error_of("if header [\"a\" \"b\"] \"c\" {}"),
            "line 1: expected ',' or ']' in a string list, got a string");
  EXPECT_EQ(error_of("keep;\nkeep @;"), "line 2: unexpected character '@'");
  EXPECT_EQ(error_of("require \"reject\";\nreject text:\nno end\n"),
            "line 2: unterminated text: string");
}

TEST(SieveParser, ValidationErrorsGiveTheirLine) {
  EXPECT_EQ(error_of("keep;\nfileinto \"x\";"),
            "line 2: command 'fileinto' needs require \"fileinto\"");
  EXPECT_EQ(error_of("require \"nonesuch\";"), "line 1: unsupported extension \"nonesuch\"");
  EXPECT_EQ(error_of("keep;\nrequire \"fileinto\";"),
            "line 2: require must come before other commands");
  EXPECT_EQ(error_of("frobnicate;"), "line 1: unknown command 'frobnicate'");
  EXPECT_EQ(error_of("if frob { keep; }"), "line 1: unknown test 'frob'");
  EXPECT_EQ(error_of("\nif header :frob \"a\" \"b\" { keep; }"),
            "line 2: unknown tag :frob for test 'header'");
  EXPECT_EQ(error_of("if header :is :contains \"a\" \"b\" { keep; }"),
            "line 1: tag :contains conflicts with an earlier tag");
  EXPECT_EQ(error_of("elsif true { keep; }"), "line 1: elsif without a preceding if");
  EXPECT_EQ(error_of("if true { keep; } else true { keep; }"),
            "line 1: command 'else' takes no test");
  EXPECT_EQ(error_of("if true;"), "line 1: command 'if' needs a block");
  EXPECT_EQ(error_of("keep \"x\";"), "line 1: command 'keep' takes 0 positional arguments, got 1");
  EXPECT_EQ(error_of("require \"fileinto\"; fileinto [\"a\", \"b\"];"),
            "line 1: command 'fileinto' argument 1 must be a string");
  EXPECT_EQ(error_of("if header \"a\" :is \"b\" { keep; }"),
            "line 1: tag :is after a positional argument of test 'header'");
  EXPECT_EQ(error_of("if header :count \"ge\" \"a\" \"1\" { keep; }"),
            "line 1: tag :count needs require \"relational\"");
  EXPECT_EQ(error_of("require \"comparator-i;ascii-numeric\";\n"
                     "if header :contains :comparator \"i;ascii-numeric\" \"a\" \"1\" { keep; }"),
            "line 2: comparator i;ascii-numeric does not support substring matches");
  EXPECT_EQ(error_of("if header :comparator \"i;nope\" \"a\" \"1\" { keep; }"),
            "line 1: unknown comparator \"i;nope\"");
  EXPECT_EQ(error_of("redirect \"not an address\";"),
            "line 1: redirect needs an address local@domain");
  EXPECT_EQ(error_of("require \"regex\";\nif header :regex \"s\" \"(\" { keep; }").substr(0, 20),
            "line 2: bad regex \"(");
  EXPECT_EQ(error_of("if size 5 { keep; }"),
            "line 1: test 'size' takes 0 positional arguments, got 1");
  EXPECT_EQ(error_of("if size { keep; }"), "line 1: size needs :over or :under");
  EXPECT_EQ(error_of("require \"index\"; if header :last \"a\" \"b\" { keep; }"),
            "line 1: tag :last needs :index");
  EXPECT_EQ(error_of("require \"variables\"; set \"1x\" \"v\";"),
            "line 1: bad variable name \"1x\"");
  EXPECT_EQ(error_of("require \"date\"; if currentdate \"century\" \"21\" { keep; }"),
            "line 1: unknown date part \"century\"");
}

TEST(SieveParser, RefusesScriptsPastItsLimits) {
  const SieveLimits limits{.max_script_bytes = 200,
                           .max_nesting = 3,
                           .max_commands = 10,
                           .max_string_bytes = 8,
                           .max_list_items = 2};
  auto big = parse_script(std::string(201, ' '), limits);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::TooBig);
  auto deep = parse_script("if true { if true { if true { if true { keep; } } } }", limits);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, Errc::TooBig);
  EXPECT_EQ(deep.error().detail, "line 1: nested more than 3 deep");
  EXPECT_TRUE(parse_script("if true { if true { keep; } }", limits));
  EXPECT_EQ(error_of("keep; keep; keep; keep; keep; keep; keep; keep; keep; keep; keep;", limits),
            "line 1: more than 10 commands and tests");
  EXPECT_EQ(error_of("if header \"a\" \"123456789\" {}", limits),
            "line 1: string longer than 8 bytes");
  EXPECT_EQ(error_of("if header [\"a\",\"b\",\"c\"] \"x\" {}", limits),
            "line 1: string list longer than 2 items");
  // The default nesting limit, 15, refuses a script sixteen tests deep.
  std::string nots = "if ";
  for (int i = 0; i < 16; ++i) nots += "not ";
  EXPECT_EQ(error_of(nots + "true { keep; }"), "line 1: nested more than 15 deep");
}

TEST(SieveParser, RefusesBytesThatAreNotUtf8) {
  EXPECT_EQ(error_of("keep;\n# \xff\n"), "line 2: not UTF-8");
  EXPECT_EQ(error_of("keep;\n# caf\xc3\xa9\n"), "");
}

TEST(SieveParser, ListsItsExtensions) {
  const auto& names = supported_extensions();
  EXPECT_NE(std::find(names.begin(), names.end(), "variables"), names.end());
  for (std::string_view name : names) {
    EXPECT_TRUE(parse_script("require \"" + std::string(name) + "\";")) << name;
  }
}

}  // namespace
}  // namespace rampart::sieve
