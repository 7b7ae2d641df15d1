// WebSocket (RFC 6455) framing for JMAP over WebSocket (RFC 8887): the opening
// handshake's accept key, and frames decoded from and encoded to bytes. Pure, so the
// fuzz build has it (fuzz/websocket_fuzz.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::http::websocket {

enum Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

struct Frame {
  bool fin = true;
  std::uint8_t opcode = kText;
  std::string payload;  // unmasked
};

enum class Decoded { NeedMore, Frame, Error };

// Takes one client frame from the front of `buffer` (removing its bytes). Errors (with
// the close code to send in `close_code`): an unmasked frame, reserved bits, an
// unknown opcode, a fragmented or oversize (> 125) control frame, a payload over
// `max_payload` (1009).
Decoded decode_frame(std::string& buffer, std::size_t max_payload, Frame& frame,
                     std::uint16_t& close_code);

// One unfragmented, unmasked server frame.
std::string encode_frame(std::uint8_t opcode, std::string_view payload);
// A close frame with a status code.
std::string close_frame(std::uint16_t code);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);

}  // namespace rampart::http::websocket
