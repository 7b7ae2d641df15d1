// IP addresses as SPF compares and expands them (RFC 7208 section 5, section 7.3): the
// client's address, an ip4/ip6 network, CIDR matching, and the text forms the "i",
// "c" and "v" macros and the reverse (PTR) name use. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rampart::spf {

struct Address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // an IPv4 address in the first 4
  bool operator==(const Address&) const = default;
};

// An address in text ("192.0.2.1", "2001:db8::1"); nullopt when it is neither. IPv4 is
// strict dotted-quad (four parts, no leading zeros: RFC 7208's ip4-network). With
// `unmap`, an IPv4-mapped IPv6 address (::ffff:192.0.2.1) is the IPv4 address, as
// section 5 asks of the client's address.
std::optional<Address> parse_address(std::string_view text, bool unmap);

// Whether `address` is in `network`/`prefix` (0..32 or 0..128); never across families.
bool in_network(const Address& address, const Address& network, int prefix);

// "192.0.2.1" or "2001:db8::1" (RFC 5952): the "c" macro.
std::string address_text(const Address& address);

// "192.0.2.1", or 32 lowercase nibbles joined by dots for IPv6: the "i" macro.
std::string address_dotted(const Address& address);

// "1.2.0.192.in-addr.arpa" or the nibbles reversed under "ip6.arpa": the PTR query.
std::string reverse_name(const Address& address);

}  // namespace rampart::spf
