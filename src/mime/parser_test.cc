#include <gtest/gtest.h>

#include <algorithm>

#include "mime/body.h"
#include "mime/header.h"
#include "mime/message.h"

namespace rampart::mime {
namespace {

std::string crlf(std::string_view lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

std::string_view body_of(std::string_view raw, const Part& part) {
  return raw.substr(part.body_begin, part.body_end - part.body_begin);
}

std::string_view header_of(std::string_view raw, const Part& part) {
  return raw.substr(part.header_begin, part.header_end - part.header_begin);
}

bool has_defect(const Message& message, DefectKind kind) {
  return std::any_of(message.defects.begin(), message.defects.end(),
                     [&](const Defect& defect) { return defect.kind == kind; });
}

std::string type_of(const Part& part) { return part.type + "/" + part.subtype; }

TEST(Parse, GivesExactOffsetsOfASimpleMessage) {
  const std::string raw = crlf("From: a@b.example\nSubject: hi\n\nline 1\nline 2\n");
  const Message message = parse(raw);
  EXPECT_EQ(message.size, raw.size());
  EXPECT_EQ(message.root.header_begin, 0u);
  EXPECT_EQ(header_of(raw, message.root), "From: a@b.example\r\nSubject: hi\r\n");
  EXPECT_EQ(message.root.body_begin, message.root.header_end + 2);
  EXPECT_EQ(body_of(raw, message.root), "line 1\r\nline 2\r\n");
  EXPECT_EQ(message.root.lines, 2u);
  EXPECT_EQ(type_of(message.root), "text/plain");
  EXPECT_EQ(message.root.charset, "us-ascii");
  EXPECT_EQ(message.root.transfer_encoding, "7bit");
  EXPECT_TRUE(message.defects.empty());
  EXPECT_EQ(message.envelope.subject, "hi");
}

TEST(Parse, SplitsMultipartWithPreambleAndEpilogue) {
  const std::string raw = crlf(
      "Content-Type: multipart/alternative; boundary=\"b1\"\n\n"
      "preamble\n--b1\nContent-Type: text/plain; charset=utf-8\n\nplain\n"
      "--b1\nContent-Type: text/html\n\n<p>html</p>\n--b1--\nepilogue\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 2u);
  const Part& plain = message.root.children[0];
  const Part& html = message.root.children[1];
  EXPECT_EQ(type_of(plain), "text/plain");
  EXPECT_EQ(plain.charset, "utf-8");
  EXPECT_EQ(header_of(raw, plain), "Content-Type: text/plain; charset=utf-8\r\n");
  EXPECT_EQ(body_of(raw, plain), "plain");  // the CRLF before "--b1" is the delimiter's
  EXPECT_EQ(type_of(html), "text/html");
  EXPECT_EQ(body_of(raw, html), "<p>html</p>");
  EXPECT_EQ(html.lines, 1u);
  EXPECT_TRUE(message.defects.empty());
}

TEST(Parse, HandlesBareLineFeeds) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=x\n\n--x\n\nfirst\n--x\nContent-Type: "
      "text/html\n\nsecond\n--x--\n";
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 2u);
  EXPECT_EQ(body_of(raw, message.root.children[0]), "first");
  EXPECT_EQ(message.root.children[0].header_begin, message.root.children[0].header_end);
  EXPECT_EQ(body_of(raw, message.root.children[1]), "second");
  EXPECT_TRUE(message.defects.empty());
}

TEST(Parse, NestsMultipartsAndEmbeddedMessages) {
  const std::string raw = crlf(
      "Subject: outer\nContent-Type: multipart/mixed; boundary=outer\n\n"
      "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n"
      "--inner\n\ntext\n--inner\nContent-Type: text/html\n\nhtml\n--inner--\n"
      "--outer\nContent-Type: message/rfc822\n\n"
      "Subject: =?utf-8?q?inn=C3=A9r?=\nFrom: \"X\" <x@y.example>\n"
      "Content-Type: multipart/mixed; boundary=deep\n\n"
      "--deep\n\ndeep text\n--deep--\n"
      "--outer--\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 2u);
  const Part& alternative = message.root.children[0];
  ASSERT_EQ(alternative.children.size(), 2u);
  EXPECT_EQ(body_of(raw, alternative.children[0]), "text");
  EXPECT_EQ(body_of(raw, alternative.children[1]), "html");
  const Part& embedded = message.root.children[1];
  ASSERT_TRUE(embedded.is_message());
  EXPECT_EQ(embedded.envelope->subject, "innér");
  ASSERT_EQ(embedded.envelope->from.size(), 1u);
  EXPECT_EQ(embedded.envelope->from[0].local, "x");
  ASSERT_EQ(embedded.children.size(), 1u);
  const Part& inner_root = embedded.children[0];
  EXPECT_EQ(inner_root.header_begin, embedded.body_begin);
  EXPECT_EQ(inner_root.body_end, embedded.body_end);
  EXPECT_EQ(type_of(inner_root), "multipart/mixed");
  ASSERT_EQ(inner_root.children.size(), 1u);
  EXPECT_EQ(body_of(raw, inner_root.children[0]), "deep text");
  EXPECT_TRUE(message.defects.empty());
}

TEST(Parse, DefaultsToMessageRfc822InsideDigest) {
  const std::string raw = crlf(
      "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody one\n"
      "--d\nContent-Type: text/plain\n\nnot a message\n--d--\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 2u);
  EXPECT_EQ(type_of(message.root.children[0]), "message/rfc822");
  ASSERT_TRUE(message.root.children[0].envelope);
  EXPECT_EQ(message.root.children[0].envelope->subject, "one");
  EXPECT_EQ(type_of(message.root.children[1]), "text/plain");
}

TEST(Parse, TreatsMessageGlobalAsAnEmbeddedMessage) {
  const std::string raw = crlf(
      "Content-Type: message/global\n\nSubject: caf\xC3\xA9\nFrom: j\xC3\xB6rg@ex.example\n\nhi\n");
  const Message message = parse(raw);
  ASSERT_TRUE(message.root.envelope);
  EXPECT_EQ(message.root.envelope->subject, "caf\xC3\xA9");
  ASSERT_EQ(message.root.envelope->from.size(), 1u);
  EXPECT_EQ(message.root.envelope->from[0].local, "j\xC3\xB6rg");
}

TEST(Parse, RejectsBoundaryPrefixesAsDelimiters) {
  // The inner boundary starts with the outer one: only exact delimiters split.
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=abc\n\n--abc\n"
      "Content-Type: multipart/mixed; boundary=abcdef\n\n--abcdef\n\ninner\n--abcdef--\n"
      "--abc\n\nsecond\n--abc--\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 2u);
  ASSERT_EQ(message.root.children[0].children.size(), 1u);
  EXPECT_EQ(body_of(raw, message.root.children[0].children[0]), "inner");
  EXPECT_EQ(body_of(raw, message.root.children[1]), "second");
  EXPECT_TRUE(message.defects.empty());
}

TEST(Parse, AcceptsTrailingWhitespaceAfterDelimiters) {
  const std::string raw =
      crlf("Content-Type: multipart/mixed; boundary=b\n\n--b  \n\none\n--b-- \t\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 1u);
  EXPECT_EQ(body_of(raw, message.root.children[0]), "one");
}

TEST(Parse, RunsTheLastPartToTheEndWithoutACloseDelimiter) {
  const std::string raw =
      crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 2u);
  EXPECT_EQ(body_of(raw, message.root.children[1]), "two\r\n");
  EXPECT_TRUE(has_defect(message, DefectKind::MissingCloseDelimiter));
}

TEST(Parse, EndsAnInnerMultipartAtTheOuterDelimiter) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n\n--inner\n\nlost close\n"
      "--outer\n\nafter\n--outer--\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 2u);
  ASSERT_EQ(message.root.children[0].children.size(), 1u);
  EXPECT_EQ(body_of(raw, message.root.children[0].children[0]), "lost close");
  EXPECT_EQ(body_of(raw, message.root.children[1]), "after");
  EXPECT_TRUE(has_defect(message, DefectKind::MissingCloseDelimiter));
}

TEST(Parse, MakesOnePartOfAMultipartWhoseBoundaryNeverOccurs) {
  const std::string raw = crlf("Content-Type: multipart/mixed; boundary=zzz\n\njust text\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 1u);
  const Part& only = message.root.children[0];
  EXPECT_EQ(type_of(only), "text/plain");
  EXPECT_EQ(only.header_begin, message.root.body_begin);
  EXPECT_EQ(body_of(raw, only), "just text\r\n");
  EXPECT_TRUE(has_defect(message, DefectKind::NoBoundaryFound));
}

TEST(Parse, MakesOnePartOfAMultipartWithoutBoundary) {
  const std::string raw = crlf("Content-Type: multipart/mixed\n\n--x\n\ntext\n");
  const Message message = parse(raw);
  ASSERT_EQ(message.root.children.size(), 1u);
  EXPECT_EQ(body_of(raw, message.root.children[0]), "--x\r\n\r\ntext\r\n");
  EXPECT_TRUE(has_defect(message, DefectKind::MissingBoundary));
}

TEST(Parse, DefaultsToTextPlainWithoutOrWithABrokenContentType) {
  for (const char* header :
       {"", "Content-Type: garbage\n", "Content-Type: text/\n", "Content-Type: ;charset=utf-8\n"}) {
    const std::string raw = crlf(std::string(header) + "\nbody\n");
    const Message message = parse(raw);
    EXPECT_EQ(type_of(message.root), "text/plain") << header;
    EXPECT_EQ(message.root.charset, "us-ascii") << header;
    EXPECT_EQ(has_defect(message, DefectKind::InvalidContentType), *header != 0) << header;
  }
}

TEST(Parse, ReadsContentFields) {
  const std::string raw = crlf(
      "Content-Type: Application/PDF; Name=\"a b.pdf\" (comment)\n"
      "Content-Transfer-Encoding: BASE64\nContent-ID: <id@x>\n"
      "Content-Description: =?iso-8859-1?q?d=E9j=E0?=\n"
      "Content-Disposition: attachment;\n filename*0*=utf-8''%C3%A9t%C3%A9;\n filename*1=.pdf\n"
      "Content-Language: en, fr\nContent-Location: http://x.example/\n a\nContent-MD5: abc=\n\n"
      "QUJD\n");
  const Message message = parse(raw);
  const Part& part = message.root;
  EXPECT_EQ(type_of(part), "application/pdf");
  EXPECT_EQ(part.parameter("name"), "a b.pdf");
  EXPECT_EQ(part.transfer_encoding, "base64");
  EXPECT_EQ(part.id, "<id@x>");
  EXPECT_EQ(part.description, "d\xC3\xA9j\xC3\xA0");
  EXPECT_EQ(part.disposition, "attachment");
  EXPECT_EQ(part.filename(), "\xC3\xA9t\xC3\xA9.pdf");
  EXPECT_EQ(part.language, (std::vector<std::string>{"en", "fr"}));
  EXPECT_EQ(part.location, "http://x.example/a");
  EXPECT_EQ(part.md5, "abc=");
  EXPECT_EQ(decode_body(raw, part), "ABC");
  EXPECT_TRUE(part.charset.empty());
}

TEST(Parse, UnfoldsVeryLongFoldedHeaders) {
  std::string subject = "Subject: start";
  for (int i = 0; i < 2000; ++i) subject += "\n word" + std::to_string(i);
  const std::string raw = crlf(subject + "\nX-Long: " + std::string(100000, 'x') + "\n\nbody\n");
  const Message message = parse(raw);
  EXPECT_TRUE(message.envelope.subject.starts_with("start word0 word1 "));
  EXPECT_TRUE(message.envelope.subject.ends_with(" word1999"));
  EXPECT_EQ(body_of(raw, message.root), "body\r\n");
  EXPECT_TRUE(message.defects.empty());
}

TEST(Parse, EndsTheHeaderAtALineThatIsNotAField) {
  const std::string raw = crlf("Subject: x\nthis is body\nmore\n");
  const Message message = parse(raw);
  EXPECT_EQ(header_of(raw, message.root), "Subject: x\r\n");
  EXPECT_EQ(message.root.header_end, message.root.body_begin);
  EXPECT_EQ(body_of(raw, message.root), "this is body\r\nmore\r\n");
  EXPECT_TRUE(has_defect(message, DefectKind::MissingHeaderBodySeparator));
}

TEST(Parse, TakesAHeaderWithoutBody) {
  const std::string raw = "Subject: only a header\r\n";
  const Message message = parse(raw);
  EXPECT_EQ(message.root.header_end, raw.size());
  EXPECT_EQ(message.root.body_begin, raw.size());
  EXPECT_EQ(message.root.lines, 0u);
  EXPECT_EQ(message.envelope.subject, "only a header");
}

TEST(Parse, AcceptsObsoleteSpaceBeforeTheColonAndAnMboxFromLine) {
  const std::string raw = crlf("From someone Sat Jan  1 00:00:00 2000\nSubject  : obs\n\nb\n");
  const Message message = parse(raw);
  EXPECT_EQ(message.envelope.subject, "obs");
  EXPECT_TRUE(has_defect(message, DefectKind::InvalidHeaderLine));
}

TEST(Parse, KeepsEightBitAndBinaryBodiesByOffset) {
  std::string binary =
      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: "
      "binary\r\n\r\n";
  const std::size_t body_begin = binary.size();
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  const Message message = parse(binary);
  EXPECT_EQ(message.root.body_begin, body_begin);
  EXPECT_EQ(message.root.body_end, binary.size());
  EXPECT_EQ(message.root.transfer_encoding, "binary");
}

TEST(Parse, ReadsUndeclaredEightBitHeaders) {
  const Message utf8 = parse("Subject: caf\xC3\xA9\r\n\r\n");
  EXPECT_EQ(utf8.envelope.subject, "caf\xC3\xA9");
  EXPECT_TRUE(utf8.defects.empty());
  const Message latin1 = parse("Subject: caf\xE9\r\n\r\n");
  EXPECT_EQ(latin1.envelope.subject, "caf\xC3\xA9");
  EXPECT_TRUE(has_defect(latin1, DefectKind::UndeclaredEightBit));
}

TEST(Parse, FillsTheEnvelope) {
  const std::string raw = crlf(
      "Date: Tue, 1 Jul 2003 10:52:37 +0200\nSubject: "
      "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\n"
      " =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=\n"
      "From: Keith Moore <moore@cs.utk.example>\nSender: s@x.example\nReply-To: r@x.example\n"
      "To: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.example>\n"
      "CC: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.example>\nBcc: b@x.example\n"
      "In-Reply-To: <a@x>\nMessage-ID: <m@x>\nReferences: <r1@x> <r2@x>\n\n");
  const Message message = parse(raw);
  const Envelope& envelope = message.envelope;
  EXPECT_EQ(envelope.date, "Tue, 1 Jul 2003 10:52:37 +0200");
  ASSERT_TRUE(envelope.date_unix);
  EXPECT_EQ(*envelope.date_unix, 1057049557);
  EXPECT_EQ(envelope.date_zone_minutes, 120);
  EXPECT_EQ(envelope.subject, "If you can read this you understand the example.");
  EXPECT_TRUE(envelope.subject_raw.starts_with("=?ISO-8859-1?B?"));
  ASSERT_EQ(envelope.to.size(), 1u);
  EXPECT_EQ(envelope.to[0].name, "Keld J\xC3\xB8rn Simonsen");
  EXPECT_EQ(envelope.to[0].name_raw, "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=");
  ASSERT_EQ(envelope.cc.size(), 1u);
  EXPECT_EQ(envelope.cc[0].name, "Andr\xC3\xA9 Pirard");
  EXPECT_EQ(envelope.sender[0].local, "s");
  EXPECT_EQ(envelope.reply_to[0].local, "r");
  EXPECT_EQ(envelope.bcc[0].local, "b");
  EXPECT_EQ(envelope.in_reply_to, "<a@x>");
  EXPECT_EQ(envelope.message_id, "<m@x>");
  EXPECT_EQ(parse_message_ids(envelope.references), (std::vector<std::string>{"r1@x", "r2@x"}));
}

TEST(Parse, MakesALeafOfAnEncodedEmbeddedMessage) {
  const std::string raw =
      crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA==\n");
  const Message message = parse(raw);
  EXPECT_EQ(type_of(message.root), "application/octet-stream");
  EXPECT_TRUE(message.root.children.empty());
  EXPECT_TRUE(has_defect(message, DefectKind::EncodedContainer));
}

std::string nested_multiparts(int depth) {
  std::string raw;
  for (int i = 0; i < depth; ++i) {
    raw += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
           std::to_string(i) + "\n";
  }
  raw += "\nleaf\n";
  for (int i = depth - 1; i >= 0; --i) raw += "--b" + std::to_string(i) + "--\n";
  return crlf(raw);
}

TEST(Parse, TurnsContainersBeyondTheDepthLimitIntoLeaves) {
  const std::string raw = nested_multiparts(10);
  const Message message = parse(raw, {.max_depth = 3});
  const Part* part = &message.root;
  for (int depth = 0; depth < 3; ++depth) {
    EXPECT_EQ(type_of(*part), "multipart/mixed");
    ASSERT_EQ(part->children.size(), 1u);
    part = &part->children[0];
  }
  EXPECT_EQ(type_of(*part), "application/octet-stream");
  EXPECT_TRUE(part->children.empty());
  EXPECT_TRUE(has_defect(message, DefectKind::DepthLimit));
  EXPECT_FALSE(has_defect(parse(raw), DefectKind::DepthLimit));
}

TEST(Parse, SurvivesDeepNestingWithDefaultLimits) {
  const std::string raw = nested_multiparts(5000);
  const Message message = parse(raw);
  EXPECT_TRUE(has_defect(message, DefectKind::DepthLimit));
}

TEST(Parse, LeavesTheRestOfTheBodyInTheLastPartBeyondThePartLimit) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 10; ++i) raw += "--b\n\npart" + std::to_string(i) + "\n";
  raw += "--b--\n";
  raw = crlf(raw);
  const Message message = parse(raw, {.max_parts = 4});
  ASSERT_EQ(message.root.children.size(), 3u);
  EXPECT_EQ(body_of(raw, message.root.children[1]), "part1");
  const std::string_view last = body_of(raw, message.root.children[2]);
  EXPECT_TRUE(last.starts_with("part2\r\n--b\r\n\r\npart3"));
  EXPECT_EQ(message.root.children[2].body_end, message.root.body_end);
  EXPECT_TRUE(has_defect(message, DefectKind::PartLimit));
}

TEST(Parse, MakesALeafOfAContainerThatWouldExceedThePartLimit) {
  const std::string raw = crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n");
  const Message message = parse(raw, {.max_parts = 1});
  EXPECT_EQ(type_of(message.root), "application/octet-stream");
  EXPECT_TRUE(has_defect(message, DefectKind::PartLimit));
}

TEST(Parse, DropsHeaderFieldsBeyondTheHeaderLimit) {
  std::string raw = "Subject: kept\n";
  for (int i = 0; i < 100; ++i) raw += "X-Filler: " + std::string(50, 'f') + "\n";
  raw += "From: dropped@x.example\n\nbody\n";
  raw = crlf(raw);
  const Message message = parse(raw, {.max_header_bytes = 1024});
  EXPECT_EQ(message.envelope.subject, "kept");
  EXPECT_TRUE(message.envelope.from.empty());
  EXPECT_EQ(body_of(raw, message.root), "body\r\n");
  EXPECT_TRUE(has_defect(message, DefectKind::HeaderTooBig));
  const Message counted = parse(raw, {.max_headers = 5});
  EXPECT_TRUE(counted.envelope.from.empty());
  EXPECT_TRUE(has_defect(counted, DefectKind::HeaderTooBig));
}

TEST(Parse, NeverFailsOnGarbage) {
  for (std::string_view raw :
       {std::string_view(""), std::string_view("\r\n"), std::string_view("\n\n\n"),
        std::string_view(":"), std::string_view("Content-Type: multipart/mixed; boundary=\"\""),
        std::string_view("Content-Type: multipart/x; boundary=a\n\n--a"),
        std::string_view("Content-Type: multipart/x; boundary=a\n\n--a--"),
        std::string_view("Content-Type: message/rfc822\n\n"), std::string_view("\0\0\0", 3)}) {
    const Message message = parse(raw);
    EXPECT_LE(message.root.body_end, raw.size());
    EXPECT_EQ(decode_structure(encode_structure(message)).value(), message);
  }
}

TEST(Parse, StaysLinearOnAdversarialHeaders) {
  // Each of these would take minutes if any step were quadratic in the header size.
  std::string words = "Subject:";
  while (words.size() < 400000) words += " =?a?q?";
  std::string parameters = "Content-Type: text/plain";
  for (int i = 0; parameters.size() < 400000; ++i) parameters += "; p" + std::to_string(i) + "=v";
  std::string charsets = "Subject:";
  for (int i = 0; charsets.size() < 400000; ++i) {
    charsets += " =?x-" + std::to_string(i) + "?q?a?=";
  }
  std::string addresses = "To: ";
  while (addresses.size() < 400000) addresses += "a@b, <c@d>, g: e@f;, ";
  for (const std::string& header : {words, parameters, charsets, addresses}) {
    const Message message = parse(header + "\r\n\r\nbody");
    EXPECT_EQ(message.root.body_end, header.size() + 8);
  }
}

TEST(Parse, CapsTheDefectList) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 1000; ++i) raw += "--b\nContent-Type: garbage\n\n";
  const Message message = parse(raw);
  EXPECT_EQ(message.defects.size(), kMaxDefects);
}

}  // namespace
}  // namespace rampart::mime
