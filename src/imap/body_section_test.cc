#include "imap/body_section.h"

#include <gtest/gtest.h>

namespace rampart::imap {
namespace {

// A message with a text part, a base64 attachment and an embedded message.
const std::string kRaw =
    "From: a@example.org\r\n"
    "Subject: outer\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "first part\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aGVsbG8=\r\n"
    "--b\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "X-Other: 1\r\n"
    "\r\n"
    "inner body\r\n"
    "--b--\r\n";

std::optional<std::string> fetch(std::string_view atom) {
  const auto request = parse_body_request(atom);
  EXPECT_TRUE(request) << atom;
  if (!request) return std::nullopt;
  return extract_section(kRaw, mime::parse(kRaw), *request);
}

TEST(BodySection, ParsesItemsAndNamesThemInResponses) {
  auto request = parse_body_request("BODY.PEEK[1.2.HEADER.FIELDS (subject From)]<10.20>");
  ASSERT_TRUE(request);
  EXPECT_TRUE(request->peek);
  EXPECT_EQ(request->section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(request->section.text, Section::Text::HeaderFields);
  EXPECT_EQ(request->section.fields, (std::vector<std::string>{"SUBJECT", "FROM"}));
  EXPECT_EQ(*request->partial_offset, 10u);
  EXPECT_EQ(*request->partial_length, 20u);
  EXPECT_EQ(request->response_name(), "BODY[1.2.HEADER.FIELDS (SUBJECT FROM)]<10>");
  EXPECT_EQ(parse_body_request("body[]")->response_name(), "BODY[]");
  EXPECT_EQ(parse_body_request("BODY[TEXT]")->response_name(), "BODY[TEXT]");
  EXPECT_EQ(parse_body_request("BODY[3.TEXT]")->response_name(), "BODY[3.TEXT]");
  EXPECT_EQ(parse_body_request("BODY[2.MIME]")->response_name(), "BODY[2.MIME]");
  EXPECT_EQ(parse_body_request("BINARY.PEEK[2]")->response_name(), "BINARY[2]");
  EXPECT_EQ(parse_body_request("BINARY.SIZE[2]")->response_name(), "BINARY.SIZE[2]");
  // RFC 3516 section-binary: nested part numbers.
  EXPECT_EQ(parse_body_request("BINARY.SIZE[2.1]")->response_name(), "BINARY.SIZE[2.1]");
  EXPECT_EQ(parse_body_request("BINARY.PEEK[3.1.2]<0.5>")->response_name(), "BINARY[3.1.2]<0>");
}

TEST(BodySection, RefusesMalformedItems) {
  for (const char* bad :
       {"BODY", "BODY[", "BODY[0]", "BODY[1.]", "BODY[MIME]", "BODY[1.FOO]", "BODY[HEADER.FIELDS]",
        "BODY[HEADER.FIELDS ()]", "BODY[]<1>", "BODY[]<1.0>", "BODY[]<x.1>", "BINARY[TEXT]",
        "BINARY[1.]", "BINARY[1.MIME]", "BINARY.SIZE[1]<0.1>", "BODYX[]",
        "BODY[HEADER.FIELDS (A:B)]", "BODY[4294967296]"}) {
    EXPECT_FALSE(parse_body_request(bad)) << bad;
  }
}

TEST(BodySection, ExtractsEverySectionKind) {
  EXPECT_EQ(fetch("BODY[]"), kRaw);
  EXPECT_EQ(
      fetch("BODY[HEADER]"),
      "From: a@example.org\r\nSubject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
  EXPECT_EQ(fetch("BODY[HEADER.FIELDS (SUBJECT)]"), "Subject: outer\r\n\r\n");
  EXPECT_EQ(fetch("BODY[HEADER.FIELDS.NOT (SUBJECT CONTENT-TYPE)]"), "From: a@example.org\r\n\r\n");
  EXPECT_EQ(fetch("BODY[1]"), "first part");
  EXPECT_EQ(fetch("BODY[1.MIME]"), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(fetch("BODY[2]"), "aGVsbG8=");
  EXPECT_EQ(fetch("BINARY[2]"), "hello");
  EXPECT_EQ(fetch("BODY[3.HEADER]"), "Subject: inner\r\nX-Other: 1\r\n\r\n");
  EXPECT_EQ(fetch("BODY[3.HEADER.FIELDS (X-OTHER)]"), "X-Other: 1\r\n\r\n");
  EXPECT_EQ(fetch("BODY[3.TEXT]"), "inner body");
  EXPECT_EQ(fetch("BODY[3.1]"), "inner body");
  EXPECT_EQ(fetch("BINARY[3.1]"), "inner body");
  EXPECT_EQ(fetch("BODY[3]"), "Subject: inner\r\nX-Other: 1\r\n\r\ninner body");
  EXPECT_EQ(fetch("BODY[4]"), std::nullopt);
  EXPECT_EQ(fetch("BODY[1.HEADER]"), std::nullopt) << "part 1 is no message";
  EXPECT_EQ(fetch("BODY[1.2]"), std::nullopt);
}

TEST(BodySection, BodyOfBinaryContentHoldsNoNul) {
  const std::string raw = std::string(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Transfer-Encoding: binary\r\n\r\n\0\xed\n\r\n\n\r\n--b--\r\n",
      98);
  const mime::Message message = mime::parse(raw);
  EXPECT_EQ(extract_section(raw, message, *parse_body_request("BODY[1]")), "AO0KDQoK");
  EXPECT_EQ(extract_section(raw, message, *parse_body_request("BINARY[1]")),
            std::string("\0\xed\n\r\n\n", 6));
  const auto whole = extract_section(raw, message, *parse_body_request("BODY[]"));
  EXPECT_EQ(whole->find('\0'), std::string::npos);
  EXPECT_EQ(whole->size(), raw.size());
}

TEST(BodySection, ASinglePartMessageIsItsOwnPartOne) {
  const std::string raw = "Subject: x\r\n\r\nonly text\r\n";
  const mime::Message message = mime::parse(raw);
  EXPECT_EQ(extract_section(raw, message, *parse_body_request("BODY[1]")), "only text\r\n");
  EXPECT_EQ(extract_section(raw, message, *parse_body_request("BODY[TEXT]")), "only text\r\n");
  EXPECT_EQ(extract_section(raw, message, *parse_body_request("BODY[2]")), std::nullopt);
}

}  // namespace
}  // namespace rampart::imap
