#include "dns/rdata.h"

#include <arpa/inet.h>

#include "base/ascii.h"

namespace rampart::dns {

std::optional<std::string> parse_name(std::string_view data, std::size_t& used) {
  std::string name;
  std::size_t pos = 0;
  for (;;) {
    if (pos >= data.size()) return std::nullopt;
    const auto length = static_cast<std::uint8_t>(data[pos]);
    if (length == 0) break;
    if (length > 63) return std::nullopt;  // a compression pointer or a reserved label type
    if (pos + 1 + length > data.size()) return std::nullopt;
    if (!name.empty()) name += '.';
    name += lowercase(data.substr(pos + 1, length));
    pos += 1 + length;
    if (pos > 255) return std::nullopt;
  }
  used = pos + 1;
  return name;
}

std::optional<Mx> parse_mx(std::string_view rdata) {
  if (rdata.size() < 3) return std::nullopt;
  Mx mx;
  mx.preference = static_cast<std::uint16_t>((static_cast<std::uint8_t>(rdata[0]) << 8) |
                                             static_cast<std::uint8_t>(rdata[1]));
  std::size_t used = 0;
  auto host = parse_name(rdata.substr(2), used);
  if (!host || 2 + used != rdata.size()) return std::nullopt;
  mx.host = std::move(*host);
  return mx;
}

std::optional<std::string> parse_ptr(std::string_view rdata) {
  std::size_t used = 0;
  auto name = parse_name(rdata, used);
  if (!name || used != rdata.size()) return std::nullopt;
  return name;
}

namespace {

std::optional<std::string> address(std::string_view rdata, int family, std::size_t size) {
  if (rdata.size() != size) return std::nullopt;
  char text[INET6_ADDRSTRLEN];
  if (!::inet_ntop(family, rdata.data(), text, sizeof text)) return std::nullopt;
  return std::string(text);
}

}  // namespace

std::optional<std::string> parse_a(std::string_view rdata) { return address(rdata, AF_INET, 4); }

std::optional<std::string> parse_aaaa(std::string_view rdata) {
  return address(rdata, AF_INET6, 16);
}

std::optional<Tlsa> parse_tlsa(std::string_view rdata) {
  if (rdata.size() < 4) return std::nullopt;  // three octets and some data
  return Tlsa{.usage = static_cast<std::uint8_t>(rdata[0]),
              .selector = static_cast<std::uint8_t>(rdata[1]),
              .matching = static_cast<std::uint8_t>(rdata[2]),
              .data = std::string(rdata.substr(3))};
}

std::optional<std::string> parse_txt(std::string_view rdata) {
  std::string out;
  std::size_t pos = 0;
  while (pos < rdata.size()) {
    const auto length = static_cast<std::uint8_t>(rdata[pos]);
    if (pos + 1 + length > rdata.size()) return std::nullopt;
    out.append(rdata.substr(pos + 1, length));
    pos += 1 + length;
  }
  return out;
}

}  // namespace rampart::dns
