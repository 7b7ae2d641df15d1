#include "http/websocket.h"

#include <gtest/gtest.h>

namespace rampart::http::websocket {
namespace {

// A client frame: masked with `mask`.
std::string client_frame(std::uint8_t first, std::string_view payload,
                         std::string mask = std::string("\x37\xfa\x21\x3d", 4)) {
  std::string out(1, static_cast<char>(first));
  if (payload.size() < 126) {
    out += static_cast<char>(0x80 | payload.size());
  } else {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  }
  out += mask;
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(payload[i] ^ mask[i % 4]);
  return out;
}

TEST(WebSocket, AcceptKeyFromTheRfcExample) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, DecodesMaskedFramesWhole) {
  std::string buffer = client_frame(0x81, "Hello") + client_frame(0x89, "ping");
  Frame frame;
  std::uint16_t code = 0;
  std::string partial = buffer.substr(0, 4);
  EXPECT_EQ(decode_frame(partial, 100, frame, code), Decoded::NeedMore);
  ASSERT_EQ(decode_frame(buffer, 100, frame, code), Decoded::Frame);
  EXPECT_EQ(frame.payload, "Hello");
  EXPECT_EQ(frame.opcode, kText);
  EXPECT_TRUE(frame.fin);
  ASSERT_EQ(decode_frame(buffer, 100, frame, code), Decoded::Frame);
  EXPECT_EQ(frame.opcode, kPing);
  EXPECT_TRUE(buffer.empty());
  std::string long_frame = client_frame(0x81, std::string(300, 'x'));
  ASSERT_EQ(decode_frame(long_frame, 1000, frame, code), Decoded::Frame);
  EXPECT_EQ(frame.payload.size(), 300u);
}

TEST(WebSocket, RefusesWhatTheRfcForbids) {
  Frame frame;
  std::uint16_t code = 0;
  std::string unmasked = "\x81\x02hi";
  EXPECT_EQ(decode_frame(unmasked, 100, frame, code), Decoded::Error);
  std::string reserved = client_frame(0xC1, "x");
  EXPECT_EQ(decode_frame(reserved, 100, frame, code), Decoded::Error);
  std::string unknown = client_frame(0x83, "x");
  EXPECT_EQ(decode_frame(unknown, 100, frame, code), Decoded::Error);
  std::string fragmented_ping = client_frame(0x09, "x");
  EXPECT_EQ(decode_frame(fragmented_ping, 100, frame, code), Decoded::Error);
  std::string big = client_frame(0x81, std::string(200, 'x'));
  EXPECT_EQ(decode_frame(big, 100, frame, code), Decoded::Error);
  EXPECT_EQ(code, 1009);
}

TEST(WebSocket, EncodesServerFrames) {
  EXPECT_EQ(encode_frame(kText, "Hi"), std::string("\x81\x02Hi"));
  EXPECT_EQ(encode_frame(kText, std::string(300, 'x')).substr(0, 4),
            std::string("\x81\x7e\x01\x2c"));
  EXPECT_EQ(close_frame(1000), std::string("\x88\x02\x03\xe8"));
}

}  // namespace
}  // namespace rampart::http::websocket
