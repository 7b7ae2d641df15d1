// The admin request decoder must turn any bytes into a checked request or an error
// that says why, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "admin/api.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = rampart::admin::parse_request(text);
  if (!request && request.error().detail.empty()) __builtin_trap();
  if (request && request->call.empty()) __builtin_trap();
  return 0;
}
