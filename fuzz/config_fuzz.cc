// The config parser must turn any bytes into a Config or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = rampart::parse_config(text, "fuzz.toml");
  if (!config && config.error().detail.empty()) __builtin_trap();  // errors must explain
  return 0;
}
