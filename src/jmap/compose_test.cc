#include "jmap/compose.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace rampart::jmap {
namespace {

const ComposeOptions kOptions{
    .hostname = "mail.example.test", .now = 1795442961, .max_attachment_bytes = 10};

std::optional<Blob> read_blob(std::string_view id) {
  if (id == "Bsmall") return Blob{"12345", "application/pdf"};
  if (id == "Bbig") return Blob{std::string(11, 'x'), ""};
  return std::nullopt;
}

std::variant<std::string, json::object> compose(std::string_view email) {
  return compose_email(boost::json::parse(email).as_object(), read_blob, kOptions);
}

// The SetError's type, or "" when the message was written.
std::string refusal(std::string_view email) {
  auto composed = compose(email);
  const auto* error = std::get_if<json::object>(&composed);
  return error ? std::string(error->at("type").as_string()) : "";
}

TEST(Compose, WritesHeadersAndATextBody) {
  auto composed = compose(
      R"({"from":[{"name":"Ann","email":"ann@example.test"}],"subject":"Hi",
          "textBody":[{"partId":"t"}],"bodyValues":{"t":{"value":"Hello\n"}}})");
  ASSERT_TRUE(std::holds_alternative<std::string>(composed));
  const std::string& message = std::get<std::string>(composed);
  EXPECT_NE(message.find("From: Ann <ann@example.test>\r\n"), std::string::npos);
  EXPECT_NE(message.find("Subject: Hi\r\n"), std::string::npos);
  EXPECT_NE(message.find("Date: "), std::string::npos);
  EXPECT_NE(message.find("@mail.example.test>\r\n"), std::string::npos);
  EXPECT_NE(message.find("Content-Transfer-Encoding: 7bit\r\n\r\nHello\r\n"), std::string::npos);
}

TEST(Compose, AttachesABlobWithItsName) {
  auto composed = compose(
      R"({"textBody":[{"partId":"t"}],"bodyValues":{"t":{"value":"x"}},
          "attachments":[{"blobId":"Bsmall","name":"a.pdf"}]})");
  ASSERT_TRUE(std::holds_alternative<std::string>(composed));
  const std::string& message = std::get<std::string>(composed);
  EXPECT_NE(message.find("Content-Type: application/pdf; name=\"a.pdf\"\r\n"), std::string::npos);
  EXPECT_NE(message.find("Content-Disposition: attachment; filename=\"a.pdf\"\r\n"),
            std::string::npos);
  EXPECT_NE(message.find("MTIzNDU="), std::string::npos);
}

TEST(Compose, RefusesWhatItCannotWrite) {
  EXPECT_EQ(refusal(R"({"subject":"a\r\nBcc: x@example.test"})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"to":[{"email":"not an address"}]})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"to":[{"name":"A\nB","email":"a@example.test"}]})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"messageId":["no-at-sign"]})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"sentAt":"yesterday"})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"header:Content-Type":"text/html"})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"subject":"a","header:Subject":"b"})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"textBody":[{"partId":"t"}],"bodyValues":{"u":{"value":"x"}}})"),
            "invalidProperties");
  EXPECT_EQ(refusal(R"({"bodyStructure":{"type":"multipart/mixed","subParts":[]}})"),
            "invalidProperties");
  EXPECT_EQ(refusal(R"({"attachments":[{"blobId":"Bsmall","cid":"<x>"}]})"), "invalidProperties");
  EXPECT_EQ(refusal(R"({"attachments":[{"blobId":"Bmissing"}]})"), "blobNotFound");
  EXPECT_EQ(refusal(R"({"attachments":[{"blobId":"Bbig"}]})"), "tooLarge");
}

TEST(Compose, RefusesPartsNestedTooDeep) {
  json::value structure = json::object{{"partId", "t"}};
  for (int i = 0; i < 20; ++i) {
    structure = json::object{{"type", "multipart/mixed"}, {"subParts", json::array{structure}}};
  }
  const json::object email{{"bodyStructure", structure},
                           {"bodyValues", json::object{{"t", json::object{{"value", "x"}}}}}};
  auto composed = compose_email(email, read_blob, kOptions);
  ASSERT_TRUE(std::holds_alternative<json::object>(composed));
  EXPECT_EQ(std::get<json::object>(composed).at("type"), "invalidProperties");
}

}  // namespace
}  // namespace rampart::jmap
