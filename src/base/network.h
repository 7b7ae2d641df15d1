// The networks a client address belongs to, read from the binary address so that
// every spelling of one address ("::" shortening, leading zeros) is the same.
#pragma once

#include <string>
#include <string_view>

namespace rampart {

// "192.0.2.0/24" or "2001:db8:0:1::/64"; anything else (a Unix socket, "local",
// empty) is its own network. What the audit trail calls a network (new-network).
std::string address_network(std::string_view address);

// One client for counting: an IPv4 address as it is, an IPv6 address as its /64 (one
// site's network, which one host may fill with addresses). For connection caps and
// the login guard.
std::string client_of(std::string_view address);

}  // namespace rampart
