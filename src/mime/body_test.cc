#include "mime/body.h"

#include <gtest/gtest.h>

namespace rampart::mime {
namespace {

TEST(Base64, DecodesLenientlyAndSaysWhenDamaged) {
  bool damaged = true;
  EXPECT_EQ(decode_base64("SGVs\r\nbG8=\r\n", &damaged), "Hello");
  EXPECT_FALSE(damaged);
  EXPECT_EQ(decode_base64("SGVsbG8", &damaged), "Hello");  // no padding
  EXPECT_FALSE(damaged);
  EXPECT_EQ(decode_base64("SG!VsbG8=", &damaged), "Hello");
  EXPECT_TRUE(damaged);
  EXPECT_EQ(decode_base64("", &damaged), "");
}

TEST(QuotedPrintable, DecodesSoftBreaksAndKeepsBrokenEscapes) {
  bool damaged = true;
  EXPECT_EQ(decode_quoted_printable("caf=C3=A9 =\r\nnext\r\nline  \r\nx=\n", &damaged),
            "caf\xC3\xA9 next\r\nline\r\nx");
  EXPECT_FALSE(damaged);
  EXPECT_EQ(decode_quoted_printable("a=zz=4", &damaged), "a=zz=4");
  EXPECT_TRUE(damaged);
  EXPECT_EQ(decode_quoted_printable("a=3d", &damaged), "a=");  // lowercase hex
  EXPECT_EQ(decode_quoted_printable("a_b", nullptr, /*header_q=*/true), "a b");
  EXPECT_EQ(decode_quoted_printable("a_b"), "a_b");
}

TEST(ToUtf8, ConvertsKnownCharsetsAndKeepsUnknownOnes) {
  bool damaged = false, known = false;
  EXPECT_EQ(to_utf8("caf\xE9", "ISO-8859-1", &damaged, &known), "caf\xC3\xA9");
  EXPECT_TRUE(known);
  EXPECT_FALSE(damaged);
  EXPECT_EQ(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r"),
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
  EXPECT_EQ(to_utf8("\x1B$B$D\x1B(B", "iso-2022-jp"), "\xE3\x81\xA4");
  EXPECT_EQ(to_utf8("\x83\x6E", "Shift_JIS"), "\xE3\x83\x8F");
  EXPECT_EQ(to_utf8("\x80", "windows-1252"), "\xE2\x82\xAC");
  EXPECT_EQ(to_utf8("abc\xFF", "x-unknown", &damaged, &known), "abc\xFF");
  EXPECT_FALSE(known);
  EXPECT_TRUE(damaged);
}

TEST(ToUtf8, ReplacesInvalidSequences) {
  bool damaged = false;
  EXPECT_EQ(to_utf8("a\xFF"
                    "b",
                    "utf-8", &damaged),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_TRUE(damaged);
  EXPECT_EQ(to_utf8("a\x82\xA0", "shift_jis", &damaged), "a\xE3\x81\x82");
  EXPECT_EQ(to_utf8("a\xFF\xFF", "shift_jis", &damaged).substr(0, 1), "a");
  EXPECT_TRUE(damaged);
  EXPECT_EQ(to_utf8("caf\xE9", "us-ascii", &damaged), "caf\xC3\xA9");  // undeclared latin1
  EXPECT_EQ(to_utf8("", "koi8-r", &damaged), "");
}

TEST(DecodeBody, UndoesTheTransferEncoding) {
  const std::string raw =
      "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: "
      "quoted-printable\r\n\r\ncaf=E9\r\n";
  const Message message = parse(raw);
  EXPECT_EQ(decode_body(raw, message.root), "caf\xE9\r\n");
  EXPECT_EQ(decode_text_body(raw, message.root), "caf\xC3\xA9\r\n");
  Part broken;
  broken.body_end = raw.size() + 1;
  bool damaged = false;
  EXPECT_EQ(decode_body(raw, broken, &damaged), "");
  EXPECT_TRUE(damaged);
}

}  // namespace
}  // namespace rampart::mime
