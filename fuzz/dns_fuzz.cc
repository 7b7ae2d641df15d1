// DNS record data from the network: every parser takes any bytes, and what it gives
// back stays within what the records can hold.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dns/rdata.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::size_t used = 0;
  if (auto name = rampart::dns::parse_name(bytes, used)) {
    if (used > bytes.size() || name->size() > 255) __builtin_trap();
  }
  if (auto mx = rampart::dns::parse_mx(bytes)) {
    if (mx->host.size() > 255) __builtin_trap();
  }
  if (auto ptr = rampart::dns::parse_ptr(bytes)) {
    if (ptr->size() > 255) __builtin_trap();
  }
  (void)rampart::dns::parse_a(bytes);
  (void)rampart::dns::parse_aaaa(bytes);
  if (auto tlsa = rampart::dns::parse_tlsa(bytes)) {
    if (tlsa->data.size() + 3 != bytes.size()) __builtin_trap();
  }
  if (auto txt = rampart::dns::parse_txt(bytes)) {
    if (txt->size() > bytes.size()) __builtin_trap();
  }
  return 0;
}
