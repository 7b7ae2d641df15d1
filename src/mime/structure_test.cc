#include <gtest/gtest.h>

#include "mime/message.h"

namespace rampart::mime {
namespace {

const std::string kRich =
    "From: \"A\" <a@x.example>, g: b@y.example;\r\nTo: <@r.example:c@z.example>\r\nSubject: "
    "=?utf-8?q?h=C3=A9?=\r\n"
    "Date: Mon, 2 Jan 2006 15:04:05 -0700\r\nMessage-ID: <id@x>\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Language: en\r\n\r\n"
    "hello\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; "
    "filename=m.eml\r\n\r\nSubject: inner\r\nFrom: d@w.example\r\n\r\ninner body\r\n"
    "--b\r\nContent-Type: broken\r\n\r\nx\r\n";  // a defect or two as well

TEST(Structure, RoundTrips) {
  const Message message = parse(kRich);
  ASSERT_FALSE(message.defects.empty());
  const std::string bytes = encode_structure(message);
  const Result<Message> decoded = decode_structure(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().detail;
  EXPECT_EQ(*decoded, message);
  EXPECT_EQ(encode_structure(*decoded), bytes);
  EXPECT_LT(bytes.size(), kRich.size() * 2);
}

TEST(Structure, ReadsVersionOneWithoutRoutes) {
  // Without addresses, version 1 and 2 differ only in the version byte.
  std::string bytes = encode_structure(parse("Subject: x\r\n\r\nbody\r\n"));
  bytes[3] = 1;
  const Result<Message> decoded = decode_structure(bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->envelope.subject, "x");
  EXPECT_EQ(parse(kRich).envelope.to.at(0).route, "@r.example");
}

TEST(Structure, RejectsEveryTruncation) {
  const std::string bytes = encode_structure(parse(kRich));
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_structure(std::string_view(bytes).substr(0, size)).has_value()) << size;
  }
  EXPECT_FALSE(decode_structure(bytes + "x").has_value());
}

TEST(Structure, RejectsUnknownVersionsAndCorruption) {
  std::string bytes = encode_structure(parse(kRich));
  std::string other_version = bytes;
  other_version[3] = 3;
  EXPECT_EQ(decode_structure(other_version).error().code, Errc::BadInput);
  EXPECT_FALSE(decode_structure("garbage").has_value());
  // Flipping any byte gives an error or another valid structure, never a crash.
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string corrupt = bytes;
    corrupt[i] ^= 0x5A;
    auto decoded = decode_structure(corrupt);
    if (decoded) {
      EXPECT_EQ(encode_structure(*decoded), corrupt);
    }
  }
}

TEST(Structure, RejectsOffsetsBeyondTheMessage) {
  Message message = parse("Subject: x\r\n\r\nbody");
  message.size = 3;
  EXPECT_FALSE(decode_structure(encode_structure(message)).has_value());
}

}  // namespace
}  // namespace rampart::mime
