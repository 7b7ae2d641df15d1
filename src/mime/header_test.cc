#include "mime/header.h"

#include <gtest/gtest.h>

namespace rampart::mime {
namespace {

TEST(HeaderFields, SplitsFoldedFieldsAndStopsAtTheBlankLine) {
  const std::string header = "A: 1\r\nB: two\r\n  lines\r\nC:3\r\n\r\nD: body\r\n";
  const auto fields = header_fields(header);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[1].name, "B");
  EXPECT_EQ(fields[1].value, " two\r\n  lines");
  EXPECT_EQ(fields[1].offset, 6u);
  EXPECT_EQ(unfold(fields[1].value), " two  lines");
  EXPECT_EQ(find_header(header, "c"), (std::vector<std::string_view>{"3"}));
  EXPECT_TRUE(find_header(header, "D").empty());
}

TEST(DecodeText, DecodesBAndQWords) {
  EXPECT_EQ(decode_text("=?utf-8?b?w6k=?="), "\xC3\xA9");
  EXPECT_EQ(decode_text("=?ISO-8859-1?Q?a_b=E9?="), "a b\xC3\xA9");
  EXPECT_EQ(decode_text("=?utf-8*en?q?x?="), "x");  // RFC 2231 language suffix
}

TEST(DecodeText, DropsWhitespaceOnlyBetweenAdjacentEncodedWords) {
  // RFC 2047 §8 examples.
  EXPECT_EQ(decode_text("(=?ISO-8859-1?Q?a?=)"), "(a)");
  EXPECT_EQ(decode_text("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
  EXPECT_EQ(decode_text("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decode_text("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decode_text("(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
  EXPECT_EQ(decode_text("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
  EXPECT_EQ(decode_text("a =?utf-8?q?b?= c"), "a b c");
}

TEST(DecodeText, JoinsMultiByteCharactersSplitAcrossWords) {
  // "é" split between two words, and ISO-2022-JP escapes spanning words.
  EXPECT_EQ(decode_text("=?utf-8?b?ww==?= =?utf-8?b?qQo=?="), "\xC3\xA9\n");
  EXPECT_EQ(decode_text("=?iso-2022-jp?b?GyRCJEQ=?= =?iso-2022-jp?b?GyhC?="), "\xE3\x81\xA4");
}

TEST(DecodeText, AcceptsSpacesInQWordsOnly) {
  EXPECT_EQ(decode_text("=?utf-8?q?has space?="), "has space");
  EXPECT_EQ(decode_text("=?utf-8?b?w6k= w6k=?="), "=?utf-8?b?w6k= w6k=?=");
}

TEST(DecodeText, LeavesInvalidEncodedWordsAsTheyAre) {
  EXPECT_EQ(decode_text("=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
  EXPECT_EQ(decode_text("=?utf-8?q?unterminated"), "=?utf-8?q?unterminated");
  EXPECT_EQ(decode_text("=?utf-8?q?a?= b ?= c"), "a b ?= c");
  EXPECT_EQ(decode_text("=?utf-8?b?not base64?="), "=?utf-8?b?not base64?=");
  EXPECT_EQ(decode_text("=?utf-8?b?!!!!?="), "=?utf-8?b?!!!!?=");
  EXPECT_EQ(decode_text("=??q?x?="), "=??q?x?=");
  EXPECT_EQ(decode_text("a =? b ?= c"), "a =? b ?= c");
}

TEST(DecodeText, KeepsTheBytesOfAnUnknownCharset) {
  EXPECT_EQ(decode_text("=?x-no-such?q?abc?="), "abc");
  EXPECT_EQ(decode_text("=?../../etc?q?abc?="), "abc");  // never reaches iconv
}

TEST(DecodeText, ConvertsCharsets) {
  EXPECT_EQ(decode_text("=?koi8-r?b?8NLJ18XU?="),
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
  EXPECT_EQ(decode_text("=?shift_jis?b?g26DjYFb?="), "\xE3\x83\x8F\xE3\x83\xAD\xE3\x83\xBC");
  EXPECT_EQ(decode_text("=?windows-1252?q?=80?="), "\xE2\x82\xAC");
  EXPECT_EQ(decode_text("=?iso-8859-1?q?=80?="), "\xE2\x82\xAC");  // WHATWG: latin1 is cp1252
}

TEST(ContentValue, ParsesParametersLeniently) {
  const ContentValue value = parse_content_value(
      "Text/Plain ; charset = \"UTF-8\" ; format=flowed;; delsp=yes (x);"
      " novalue; name=\"quoted \\\"q\\\"\"");
  EXPECT_EQ(value.value, "text/plain");
  ASSERT_EQ(value.parameters.size(), 4u);
  EXPECT_EQ(value.parameters[0].name, "charset");
  EXPECT_EQ(value.parameters[0].value, "UTF-8");
  EXPECT_EQ(value.parameters[2].value, "yes");
  EXPECT_EQ(value.parameters[3].value, "quoted \"q\"");
}

TEST(ContentValue, JoinsRfc2231Continuations) {
  const ContentValue value = parse_content_value(
      "attachment; filename*1*=%20two; filename*0*=iso-8859-1'fr'caf%E9; filename*2=\" three\"; "
      "filename=\"fallback\"");
  ASSERT_EQ(value.parameters.size(), 1u);
  EXPECT_EQ(value.parameters[0].value, "caf\xC3\xA9 two three");
  EXPECT_EQ(parse_content_value("a; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A")
                .parameters[0]
                .value,
            "This is ***fun***");
  EXPECT_EQ(parse_content_value("a; name*=utf-8''%E2%82%AC%zz").parameters[0].value,
            "\xE2\x82\xAC%zz");
}

TEST(ContentValue, SkipsParametersWithoutAName) {
  const ContentValue value = parse_content_value("a; =x; =\"y\"; b=1");
  ASSERT_EQ(value.parameters.size(), 1u);
  EXPECT_EQ(value.parameters[0].name, "b");
}

TEST(ContentValue, StopsAtAGapInContinuations) {
  EXPECT_EQ(parse_content_value("a; n*0=one; n*2=three").parameters[0].value, "one");
}

TEST(ContentValue, DecodesEncodedWordsInPlainValues) {
  EXPECT_EQ(parse_content_value("a; filename=\"=?UTF-8?B?w6l0w6kucGRm?=\"").parameters[0].value,
            "\xC3\xA9t\xC3\xA9.pdf");
}

TEST(MessageIds, ReadsBracketedAndBareIds) {
  EXPECT_EQ(parse_message_ids(" <a@b> (c) <c@d>\r\n <e@f>"),
            (std::vector<std::string>{"a@b", "c@d", "e@f"}));
  EXPECT_EQ(parse_message_ids("a@b c@d"), (std::vector<std::string>{"a@b", "c@d"}));
  EXPECT_TRUE(parse_message_ids("").empty());
}

TEST(Date, ParsesModernAndObsoleteForms) {
  EXPECT_EQ(parse_date("Thu, 01 Jan 1970 00:00:00 +0000")->unix_seconds, 0);
  EXPECT_EQ(parse_date("1 Jan 1970 01:00 +0100")->unix_seconds, 0);
  EXPECT_EQ(parse_date("Fri, 21 Nov 97 09:55:06 GMT")->unix_seconds, 880106106);
  EXPECT_EQ(parse_date("21 Nov 1997 04:55:06 EST")->unix_seconds, 880106106);
  EXPECT_EQ(parse_date("21 Nov 1997 04:55:06 EST")->zone_minutes, -300);
  EXPECT_EQ(parse_date("Fri (x), 21 Nov 1997 09:55:06 (y) -0000")->unix_seconds, 880106106);
  EXPECT_FALSE(parse_date("yesterday"));
  EXPECT_FALSE(parse_date("32 Jan 2000 00:00:00"));
  EXPECT_FALSE(parse_date(""));
}

}  // namespace
}  // namespace rampart::mime
