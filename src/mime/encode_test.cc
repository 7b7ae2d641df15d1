#include "mime/encode.h"

#include <gtest/gtest.h>

#include <set>

#include "mime/header.h"

namespace rampart::mime {
namespace {

TEST(CrlfLines, EndsEveryLineWithCrlf) {
  EXPECT_EQ(crlf_lines("a\nb\rc\r\nd"), "a\r\nb\r\nc\r\nd");
  EXPECT_EQ(crlf_lines("\n\r\r\n"), "\r\n\r\n\r\n");
}

TEST(CrlfSize, CountsCrlfLinesAndAFinalLineEnd) {
  for (std::string_view text :
       {"", "a", "a\r\n", "a\n", "a\r", "a\nb", "\r\r\n\n", "x\r\ny\rz", "\n", "\r", "..\r\n.\n"}) {
    std::string whole = crlf_lines(text);
    if (!whole.empty() && !whole.ends_with("\r\n")) whole += "\r\n";
    EXPECT_EQ(crlf_size(text), whole.size()) << text;
  }
  EXPECT_EQ(crlf_size("Subject: x\r\n\r\nbody\r\n"), 20u);
}

TEST(FormatDate, WritesAnRfc5322DateTimeInTheGivenZone) {
  EXPECT_EQ(format_date(0, 0), "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_date(1795000000, 0), "Wed, 18 Nov 2026 11:06:40 +0000");
  EXPECT_EQ(format_date(1795000000, 60), "Wed, 18 Nov 2026 12:06:40 +0100");
  EXPECT_EQ(format_date(1795000000, -630), "Wed, 18 Nov 2026 00:36:40 -1030");
  EXPECT_EQ(format_date(-1, 0), "Wed, 31 Dec 1969 23:59:59 +0000");
}

TEST(NewMessageId, IsAFreshMsgIdAtTheDomain) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_message_id("mail.example.test");
    ASSERT_EQ(id.size(), 1 + 24 + 1 + 17 + 1) << id;
    EXPECT_EQ(id.front(), '<');
    EXPECT_EQ(id.substr(25), "@mail.example.test>");
    EXPECT_EQ(parse_message_ids(id), std::vector<std::string>{id.substr(1, id.size() - 2)});
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace rampart::mime
