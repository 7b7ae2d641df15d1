#include "jmap/email_format.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace rampart::jmap {
namespace {

// `bytes` in base64, in lines of 76 characters.
std::string mime_base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out, line;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 2]);
    line += kAlphabet[group >> 18 & 63];
    line += kAlphabet[group >> 12 & 63];
    line += i + 1 < bytes.size() ? kAlphabet[group >> 6 & 63] : '=';
    line += i + 2 < bytes.size() ? kAlphabet[group & 63] : '=';
    if (line.size() >= 76) out += line + "\r\n", line.clear();
  }
  if (!line.empty()) out += line + "\r\n";
  return out;
}

constexpr std::string_view kAlternative =
    "From: =?UTF-8?Q?J=C3=B6rg?= <jorg@example.test>\r\n"
    "To: a@example.test, Team: b@example.test, c@example.test;\r\n"
    "Subject: Hello\r\n"
    "Date: Mon, 23 Nov 2026 15:09:21 +0100\r\n"
    "Message-ID: <m1@example.test>\r\n"
    "List-Unsubscribe: <mailto:leave@example.test>,\r\n <https://example.test/leave>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=outer\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Plain   text\r\nbody\r\n"
    "--inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>Plain <b>text</b> &amp; body</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf; name=report.pdf\r\n"
    "Content-Disposition: attachment\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0=\r\n"
    "--outer--\r\n";

TEST(EmailFormat, Dates) {
  EXPECT_EQ(utc_date(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_date(1795442961), "2026-11-23T14:09:21Z");
  EXPECT_EQ(zoned_date(1795442961, 60), "2026-11-23T15:09:21+01:00");
  EXPECT_EQ(zoned_date(1795442961, -330), "2026-11-23T08:39:21-05:30");
  EXPECT_EQ(parse_utc_date("2026-11-23T14:09:21Z"), 1795442961);
  EXPECT_EQ(parse_utc_date("2026-11-23T14:09:21.250Z"), 1795442961);
  EXPECT_FALSE(parse_utc_date("2026-11-23 14:09:21Z"));
  EXPECT_FALSE(parse_utc_date("2026-13-23T14:09:21Z"));
  EXPECT_FALSE(parse_utc_date("2026-11-23T14:09:21+01:00"));
}

TEST(EmailFormat, BodyListsFollowTheRfcAlgorithm) {
  const mime::Message message = mime::parse(kAlternative);
  const BodyLists lists = body_lists(message);
  ASSERT_EQ(lists.text.size(), 1u);
  EXPECT_EQ(lists.text[0].part_id, "1.1");
  ASSERT_EQ(lists.html.size(), 1u);
  EXPECT_EQ(lists.html[0].part_id, "1.2");
  ASSERT_EQ(lists.attachments.size(), 1u);
  EXPECT_EQ(lists.attachments[0].part_id, "2");
  EXPECT_EQ(find_part(message, "1.2"), lists.html[0].part);
  EXPECT_EQ(find_part(message, "3"), nullptr);
  EXPECT_EQ(find_part(message, "1.x"), nullptr);
  EXPECT_EQ(preview(kAlternative, lists), "Plain text body");

  const json::object attachment =
      body_part(kAlternative, *lists.attachments[0].part, "2", "Babc", {});
  EXPECT_EQ(attachment.at("blobId"), "Babc_2");
  EXPECT_EQ(attachment.at("name"), "report.pdf");
  EXPECT_EQ(attachment.at("type"), "application/pdf");
  EXPECT_EQ(attachment.at("disposition"), "attachment");
  EXPECT_TRUE(attachment.at("charset").is_null());

  const json::object value = body_value(kAlternative, *lists.text[0].part, 5);
  EXPECT_EQ(value.at("value"), "Plain");
  EXPECT_EQ(value.at("isTruncated"), true);
}

// RFC 8621 §4.1.4: subParts is there for every multipart, however deep, when the
// default bodyProperties are asked for.
TEST(EmailFormat, DefaultBodyStructureKeepsNestedSubParts) {
  const mime::Message message = mime::parse(kAlternative);
  const json::object root = body_part(kAlternative, message.root, "", "Babc", {});
  ASSERT_EQ(root.at("type"), "multipart/mixed");
  const json::array& outer = root.at("subParts").as_array();
  ASSERT_EQ(outer.size(), 2u);
  const json::object& alternative = outer[0].as_object();
  EXPECT_EQ(alternative.at("type"), "multipart/alternative");
  ASSERT_TRUE(alternative.contains("subParts"));
  const json::array& inner = alternative.at("subParts").as_array();
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner[0].as_object().at("partId"), "1.1");
  EXPECT_EQ(inner[1].as_object().at("type"), "text/html");
  EXPECT_FALSE(outer[1].as_object().contains("subParts"));
}

// RFC 8621 §4.1.4: a part's size is that of its decoded content, not of the
// transfer-encoded bytes on the wire.
TEST(EmailFormat, PartSizeIsTheDecodedSize) {
  std::string attachment;
  for (int i = 0; i < 300; ++i) attachment += static_cast<char>('a' + i % 26);
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "caf=C3=A9\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      mime_base64(attachment) + "--b--\r\n";
  const mime::Message message = mime::parse(raw);
  const BodyLists lists = body_lists(message);
  ASSERT_EQ(lists.attachments.size(), 1u);
  EXPECT_EQ(body_part(raw, *lists.attachments[0].part, "2", "Babc", {}).at("size"), 300);
  ASSERT_EQ(lists.text.size(), 1u);
  EXPECT_EQ(body_part(raw, *lists.text[0].part, "1", "Babc", {}).at("size"), 5);
}

TEST(EmailFormat, HeaderForms) {
  const mime::Message message = mime::parse(kAlternative);
  const std::string_view header = kAlternative.substr(0, message.root.body_begin);
  EXPECT_EQ(boost::json::serialize(*header_property(header, "header:From:asAddresses")),
            R"([{"name":"Jörg","email":"jorg@example.test"}])");
  EXPECT_EQ(boost::json::serialize(*header_property(header, "header:To:asGroupedAddresses")),
            R"([{"name":null,"addresses":[{"name":null,"email":"a@example.test"}]},)"
            R"({"name":"Team","addresses":[{"name":null,"email":"b@example.test"},)"
            R"({"name":null,"email":"c@example.test"}]}])");
  EXPECT_EQ(boost::json::serialize(*header_property(header, "header:Message-ID:asMessageIds")),
            R"(["m1@example.test"])");
  EXPECT_EQ(*header_property(header, "header:Date:asDate"), "2026-11-23T15:09:21+01:00");
  EXPECT_EQ(boost::json::serialize(*header_property(header, "header:List-Unsubscribe:asURLs")),
            R"(["mailto:leave@example.test","https://example.test/leave"])");
  EXPECT_EQ(*header_property(header, "header:Subject"), " Hello");
  EXPECT_EQ(*header_property(header, "header:subject:asText"), "Hello");
  EXPECT_TRUE(header_property(header, "header:X-Missing")->is_null());
  EXPECT_TRUE(header_property(header, "header:X-Missing:all")->as_array().empty());
  // A known field in a form it does not have, or an unknown form, is not a property.
  EXPECT_FALSE(header_property(header, "header:Subject:asAddresses"));
  EXPECT_FALSE(header_property(header, "header:From:asDate"));
  EXPECT_FALSE(header_property(header, "header:From:asBytes"));
  EXPECT_FALSE(header_property(header, "header::asText"));
}

TEST(EmailFormat, Keywords) {
  EXPECT_EQ(keywords_from_flags({"$Forwarded", "\\Deleted", "\\Seen", "\\Flagged"}),
            (std::vector<std::string>{"$forwarded", "$seen", "$flagged"}));
  EXPECT_EQ(flag_from_keyword("$Seen"), "\\Seen");
  EXPECT_EQ(flag_from_keyword("$Junk"), "$junk");
  EXPECT_TRUE(valid_keyword("$label1"));
  EXPECT_FALSE(valid_keyword(""));
  EXPECT_FALSE(valid_keyword("a b"));
  EXPECT_FALSE(valid_keyword("a]"));
  EXPECT_FALSE(valid_keyword(std::string(256, 'a')));
}

}  // namespace
}  // namespace rampart::jmap
