#include "spf/address.h"

#include <arpa/inet.h>

#include <algorithm>

namespace rampart::spf {

namespace {

// ip4-network = qnum "." qnum "." qnum "." qnum, each 0..255 without a leading zero.
std::optional<Address> parse_v4(std::string_view text) {
  Address address;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    const std::size_t start = pos;
    int value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 3) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return std::nullopt;
    address.bytes[part] = static_cast<std::uint8_t>(value);
  }
  if (pos != text.size()) return std::nullopt;
  return address;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::optional<Address> parse_address(std::string_view text, bool unmap) {
  if (text.find(':') == std::string_view::npos) return parse_v4(text);
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);  // inet_pton wants a terminated string
  Address address{.v6 = true, .bytes = {}};
  if (::inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
  static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (unmap && std::equal(kMapped.begin(), kMapped.end(), address.bytes.begin())) {
    Address v4;
    std::copy_n(address.bytes.begin() + 12, 4, v4.bytes.begin());
    return v4;
  }
  return address;
}

bool in_network(const Address& address, const Address& network, int prefix) {
  if (address.v6 != network.v6) return false;
  const int bits = address.v6 ? 128 : 32;
  prefix = std::clamp(prefix, 0, bits);
  const int whole = prefix / 8;
  if (!std::equal(address.bytes.begin(), address.bytes.begin() + whole, network.bytes.begin())) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address.bytes[whole] & mask) == (network.bytes[whole] & mask);
}

std::string address_text(const Address& address) {
  char text[INET6_ADDRSTRLEN];
  ::inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof text);
  return text;
}

std::string address_dotted(const Address& address) {
  if (!address.v6) return address_text(address);
  std::string out;
  for (std::uint8_t byte : address.bytes) {
    if (!out.empty()) out += '.';
    out += kHex[byte >> 4];
    out += '.';
    out += kHex[byte & 0xf];
  }
  return out;
}

std::string reverse_name(const Address& address) {
  std::string out;
  if (!address.v6) {
    for (int i = 3; i >= 0; --i) out += std::to_string(address.bytes[i]) + '.';
    return out + "in-addr.arpa";
  }
  for (int i = 15; i >= 0; --i) {
    out += kHex[address.bytes[i] & 0xf];
    out += '.';
    out += kHex[address.bytes[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

}  // namespace rampart::spf
