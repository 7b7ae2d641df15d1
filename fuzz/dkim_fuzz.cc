// DKIM canonicalization takes any bytes: the fields it finds lie inside the message,
// and canonical forms are stable (canonicalizing twice changes nothing).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dkim/canonical.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto split = rampart::dkim::split_message(bytes);
  for (std::string_view field : split.fields) {
    if (field.data() < bytes.data() || field.data() + field.size() > bytes.data() + bytes.size()) {
      __builtin_trap();
    }
    const std::string once = rampart::dkim::relaxed_header(field);
    if (once.find("\r\n") != std::string::npos) __builtin_trap();
  }
  const std::string body = rampart::dkim::relaxed_body(split.body);
  if (rampart::dkim::relaxed_body(body) != body) __builtin_trap();
  if (!body.empty() && !body.ends_with("\r\n")) __builtin_trap();
  return 0;
}
