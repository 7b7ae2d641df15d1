// clamd's answers come from another process: any bytes give a verdict, and a virus
// name never carries a byte that could break a reply line or a log line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filter/clamav.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto verdict = rampart::filter::parse_clamd_reply(bytes);
  for (char c : verdict.virus + verdict.detail) {
    if (c < ' ' || c > '~') __builtin_trap();
  }
  return 0;
}
