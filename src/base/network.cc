#include "base/network.h"

#include <arpa/inet.h>

#include <cstdio>

namespace rampart {
namespace {

std::string slash64(const unsigned char* bytes) {
  char text[48];
  std::snprintf(text, sizeof text, "%x:%x:%x:%x::/64", bytes[0] << 8 | bytes[1],
                bytes[2] << 8 | bytes[3], bytes[4] << 8 | bytes[5], bytes[6] << 8 | bytes[7]);
  return text;
}

}  // namespace

std::string address_network(std::string_view address) {
  const std::string text(address);
  unsigned char bytes[16];
  if (::inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    char out[32];
    std::snprintf(out, sizeof out, "%u.%u.%u.0/24", bytes[0], bytes[1], bytes[2]);
    return out;
  }
  if (::inet_pton(AF_INET6, text.c_str(), bytes) == 1) return slash64(bytes);
  return text;
}

std::string client_of(std::string_view address) {
  const std::string text(address);
  unsigned char bytes[16];
  if (::inet_pton(AF_INET6, text.c_str(), bytes) == 1) return slash64(bytes);
  return text;
}

}  // namespace rampart
