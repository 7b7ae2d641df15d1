// The MIME parser must turn any bytes into a structure whose ranges lie inside the
// input, and that structure must survive encode/decode unchanged. decode_structure
// must reject or accept any bytes without crashing, and re-encode what it accepts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mime/body.h"
#include "mime/message.h"

namespace {

void check_part(const rampart::mime::Part& part, std::size_t size) {
  if (!(part.header_begin <= part.header_end && part.header_end <= part.body_begin &&
        part.body_begin <= part.body_end && part.body_end <= size)) {
    __builtin_trap();
  }
  const bool container = part.type == "multipart" || part.envelope.has_value();
  if (container == part.children.empty()) __builtin_trap();  // the invariant of message.h
  for (const auto& child : part.children) check_part(child, size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const rampart::mime::Message message = rampart::mime::parse(
      bytes, {.max_depth = 8, .max_parts = 64, .max_header_bytes = 2048, .max_headers = 64});
  check_part(message.root, size);
  if (message.root.children.empty()) {
    (void)rampart::mime::decode_text_body(bytes, message.root);
  }
  const std::string encoded = rampart::mime::encode_structure(message);
  const auto decoded = rampart::mime::decode_structure(encoded);
  if (!decoded || !(*decoded == message)) __builtin_trap();

  // A current-version structure re-encodes to the same bytes; an older version is
  // rewritten in the current one, which must decode to the same structure.
  if (const auto raw = rampart::mime::decode_structure(bytes)) {
    const std::string again = rampart::mime::encode_structure(*raw);
    if (bytes[3] == again[3] && again != bytes) __builtin_trap();
    const auto reread = rampart::mime::decode_structure(again);
    if (!reread || !(*reread == *raw)) __builtin_trap();
  }
  return 0;
}
