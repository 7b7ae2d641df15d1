// WebSocket frames from a client (src/http/websocket.h): any bytes decode to frames,
// a wait for more, or an error with a close code, never a crash or an overread.
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/websocket.h"

namespace websocket = rampart::http::websocket;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string buffer(reinterpret_cast<const char*>(data), size);
  websocket::Frame frame;
  std::uint16_t code = 0;
  for (int frames = 0; frames < 1000; ++frames) {
    const std::size_t before = buffer.size();
    const auto decoded = websocket::decode_frame(buffer, 4096, frame, code);
    if (decoded != websocket::Decoded::Frame) {
      if (decoded == websocket::Decoded::Error && code != 1002 && code != 1009) __builtin_trap();
      break;
    }
    if (buffer.size() >= before || frame.payload.size() > 4096) __builtin_trap();
    (void)websocket::encode_frame(frame.opcode, frame.payload);
  }
  return 0;
}
