#include "imap/search_program.h"

#include <gtest/gtest.h>

namespace rampart::imap {
namespace {

using Kind = SearchKey::Kind;

// SEARCH's arguments as the command parser gives them.
std::vector<Token> arguments_of(std::string_view criteria) {
  CommandParser parser;
  const std::string line = "a SEARCH " + std::string(criteria) + "\r\n";
  std::string_view input = line;
  Step step = parser.feed(input);
  while (std::holds_alternative<NeedLiteral>(step)) step = parser.feed(input);
  auto* command = std::get_if<Command>(&step);
  EXPECT_NE(command, nullptr) << criteria;
  return command ? command->arguments : std::vector<Token>{};
}

std::optional<SearchProgram> parse(std::string_view criteria, std::string* error_text = nullptr) {
  SearchError error;
  auto program = parse_search(arguments_of(criteria), error);
  if (error_text) *error_text = error.text;
  return program;
}

TEST(SearchProgram, ParsesDates) {
  EXPECT_EQ(parse_search_date("1-Jan-1970"), 0);
  EXPECT_EQ(parse_search_date("01-Feb-1970"), 31);
  EXPECT_EQ(parse_search_date("29-feb-2024"), 19782);
  for (const char* bad : {"", "1-Jan-70", "32-Jan-2020", "0-Jan-2020", "1-Foo-2020", "1 Jan 2020",
                          "1-January-2020", "123-Jan-2020", "1-Jan-2020x"}) {
    EXPECT_FALSE(parse_search_date(bad)) << bad;
  }
}

TEST(SearchProgram, ParsesEveryKindOfKey) {
  auto program = parse(
      "RETURN (MIN COUNT SAVE) CHARSET utf-8 1:5,7 UID 10:* UNSEEN KEYWORD $Junk FROM \"Jörg\" "
      "HEADER X-Spam yes SINCE 1-Feb-1994 LARGER 1000 YOUNGER 3600 MODSEQ 620162338 "
      "OR (SUBJECT a TO b) DRAFT NOT DELETED");
  ASSERT_TRUE(program);
  EXPECT_TRUE(program->result.requested);
  EXPECT_TRUE(program->result.min && program->result.count && program->result.save);
  EXPECT_FALSE(program->result.max || program->result.all);
  EXPECT_EQ(program->charset, "UTF-8");
  const auto& keys = program->key.children;
  ASSERT_EQ(keys.size(), 12u);
  EXPECT_EQ(keys[0].kind, Kind::SequenceSet);
  EXPECT_EQ(keys[0].set.ranges.size(), 2u);
  EXPECT_EQ(keys[1].kind, Kind::Uid);
  EXPECT_EQ(keys[1].set.ranges[0].last, SequenceSet::kStar);
  EXPECT_EQ(keys[2].kind, Kind::NotFlag);
  EXPECT_EQ(keys[2].text, "\\Seen");
  EXPECT_EQ(keys[3].kind, Kind::Flag);
  EXPECT_EQ(keys[3].text, "$Junk");
  EXPECT_EQ(keys[4].kind, Kind::From);
  EXPECT_EQ(keys[4].text, "Jörg");
  EXPECT_EQ(keys[5].kind, Kind::Header);
  EXPECT_EQ(keys[5].text, "X-Spam");
  EXPECT_EQ(keys[5].text2, "yes");
  EXPECT_EQ(keys[6].kind, Kind::Since);
  EXPECT_EQ(keys[6].date, 8797);
  EXPECT_EQ(keys[7].number, 1000u);
  EXPECT_EQ(keys[8].kind, Kind::Younger);
  EXPECT_EQ(keys[9].kind, Kind::ModSeq);
  EXPECT_EQ(keys[9].number, 620162338u);
  EXPECT_EQ(keys[10].kind, Kind::Or);
  ASSERT_EQ(keys[10].children.size(), 2u);
  EXPECT_EQ(keys[10].children[0].kind, Kind::And);
  EXPECT_EQ(keys[10].children[0].children[1].kind, Kind::To);
  EXPECT_EQ(keys[10].children[1].text, "\\Draft");
  EXPECT_EQ(keys[11].kind, Kind::Not);
  EXPECT_EQ(keys[11].children[0].text, "\\Deleted");
}

TEST(SearchProgram, AcceptsLiteralsSavedResultsAndCondstoreEntries) {
  auto program = parse("SUBJECT {5+}\r\nhello $ MODSEQ \"/flags/\\\\draft\" all 5");
  ASSERT_TRUE(program);
  EXPECT_EQ(program->key.children[0].text, "hello");
  EXPECT_TRUE(program->key.children[1].set.saved);
  EXPECT_EQ(program->key.children[2].number, 5u);
  EXPECT_TRUE(parse("RETURN () ALL")->result.all);
}

TEST(SearchProgram, ExplainsWhatIsWrong) {
  std::string error;
  for (const char* bad : {"", "FROBNICATE", "FROM", "SINCE 1994", "LARGER big", "OR SEEN", "NOT",
                          "()", "KEYWORD \\Seen", "UID x", "RETURN (BOGUS) ALL", "RETURN ALL",
                          "CHARSET", "MODSEQ \"/flags/x\" private 1", "HEADER Subject"}) {
    EXPECT_FALSE(parse(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "NOT ";
  EXPECT_FALSE(parse(deep + "SEEN", &error));
  EXPECT_NE(error.find("deeply"), std::string::npos);
}

}  // namespace
}  // namespace rampart::imap
