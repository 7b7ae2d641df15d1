#include "imap/fetch_format.h"

#include <gtest/gtest.h>

namespace rampart::imap {
namespace {

constexpr Encoding kAscii{};
constexpr Encoding kUtf8{.utf8 = true};

TEST(FetchFormat, StringsAreQuotedOrLiteral) {
  std::string out;
  append_string(out, "plain", kAscii);
  out += ' ';
  append_string(out, "a \"quote\" and \\", kAscii);
  out += ' ';
  append_string(out, "line\r\nbreak", kAscii);
  out += ' ';
  append_string(out, "Grüße", kAscii);
  out += ' ';
  append_string(out, "Grüße", kUtf8);
  out += ' ';
  append_nstring(out, "", kAscii);
  EXPECT_EQ(
      out,
      "\"plain\" \"a \\\"quote\\\" and \\\\\" {11}\r\nline\r\nbreak {7}\r\nGrüße \"Grüße\" NIL");
}

TEST(FetchFormat, EnvelopeWithDefaultsGroupsAndEncodedWords) {
  const std::string raw =
      "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
      "From: =?utf-8?q?J=C3=B6rg?= <jorg@example.com>\r\n"
      "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
      "To: Team: a@example.org, \"B, C\" <b@example.org>;, d@example.net\r\n"
      "Cc: undisclosed-recipients:;\r\n"
      "Bcc: <@r1.example,@r2.example:x@example.com>\r\n"
      "Message-ID: <1@example.com>\r\n"
      "\r\n"
      "hi\r\n";
  const mime::Message message = mime::parse(raw);
  EXPECT_EQ(
      format_envelope(message.envelope, kAscii),
      "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\" "
      "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"jorg\" \"example.com\")) "
      "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"jorg\" \"example.com\")) "
      "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"jorg\" \"example.com\")) "
      "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"example.org\")(\"B, C\" NIL \"b\" \"example.org\")"
      "(NIL NIL NIL NIL)(NIL NIL \"d\" \"example.net\")) "
      "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
      "((NIL \"@r1.example,@r2.example\" \"x\" \"example.com\")) "
      "NIL \"<1@example.com>\")");
}

TEST(FetchFormat, BodyStructureOfAMultipartWithAnAttachment) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "Hello\r\n"
      "there\r\n"
      "--b1\r\n"
      "Content-Type: application/pdf; name=\"r\xc3\xa9sum\xc3\xa9.pdf\"\r\n"
      "Content-Disposition: attachment; filename=\"r.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "AAAA\r\n"
      "--b1--\r\n";
  const mime::Message message = mime::parse(raw);
  EXPECT_EQ(
      format_body_structure(message.root, false, kAscii),
      "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 12 2)"
      "(\"APPLICATION\" \"PDF\" (\"NAME*\" \"utf-8''r%C3%A9sum%C3%A9.pdf\") NIL NIL \"BASE64\" 4)"
      " \"MIXED\")");
  EXPECT_EQ(format_body_structure(message.root, true, kUtf8),
            "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 12 2 NIL "
            "NIL NIL NIL)"
            "(\"APPLICATION\" \"PDF\" (\"NAME\" \"résumé.pdf\") NIL NIL \"BASE64\" 4 NIL "
            "(\"ATTACHMENT\" (\"FILENAME\" \"r.pdf\")) NIL NIL)"
            " \"MIXED\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)");
}

TEST(FetchFormat, BodyStructureOfAnEmbeddedMessage) {
  const std::string raw =
      "Content-Type: message/rfc822\r\n"
      "\r\n"
      "Subject: inner\r\n"
      "\r\n"
      "body\r\n";
  const mime::Message message = mime::parse(raw);
  EXPECT_EQ(format_body_structure(message.root, false, kAscii),
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 24 "
            "(NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 1) 3)");
}

}  // namespace
}  // namespace rampart::imap
