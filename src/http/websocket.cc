#include "http/websocket.h"

#include <openssl/sha.h>

#include "base/base64.h"

namespace rampart::http::websocket {

Decoded decode_frame(std::string& buffer, std::size_t max_payload, Frame& frame,
                     std::uint16_t& close_code) {
  if (buffer.size() < 2) return Decoded::NeedMore;
  const auto byte = [&](std::size_t at) { return static_cast<std::uint8_t>(buffer[at]); };
  const bool fin = byte(0) & 0x80;
  const std::uint8_t opcode = byte(0) & 0x0F;
  close_code = 1002;                          // protocol error, unless said otherwise
  if (byte(0) & 0x70) return Decoded::Error;  // no extensions were agreed
  const bool control = opcode & 0x08;
  if (opcode != kContinuation && opcode != kText && opcode != kBinary && opcode != kClose &&
      opcode != kPing && opcode != kPong) {
    return Decoded::Error;
  }
  if (!(byte(1) & 0x80)) return Decoded::Error;  // clients mask every frame
  std::uint64_t length = byte(1) & 0x7F;
  std::size_t at = 2;
  if (length == 126) {
    if (buffer.size() < 4) return Decoded::NeedMore;
    length = (std::uint64_t{byte(2)} << 8) | byte(3);
    at = 4;
  } else if (length == 127) {
    if (buffer.size() < 10) return Decoded::NeedMore;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
    at = 10;
    if (length >> 63) return Decoded::Error;
  }
  if (control && (!fin || length > 125)) return Decoded::Error;
  if (length > max_payload) {
    close_code = 1009;  // message too big
    return Decoded::Error;
  }
  if (buffer.size() < at + 4 + length) return Decoded::NeedMore;
  const std::size_t mask_at = at;
  at += 4;
  frame.fin = fin;
  frame.opcode = opcode;
  frame.payload.assign(buffer, at, static_cast<std::size_t>(length));
  for (std::size_t i = 0; i < frame.payload.size(); ++i) {
    frame.payload[i] = static_cast<char>(frame.payload[i] ^ buffer[mask_at + i % 4]);
  }
  buffer.erase(0, at + static_cast<std::size_t>(length));
  return Decoded::Frame;
}

std::string encode_frame(std::uint8_t opcode, std::string_view payload) {
  std::string out;
  out += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    out += static_cast<char>(payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xFF);
    }
  }
  out += payload;
  return out;
}

std::string close_frame(std::uint16_t code) {
  const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return encode_frame(kClose, std::string_view(payload, 2));
}

std::string accept_key(std::string_view key) {
  const std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace rampart::http::websocket
