#include "net/socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <cstring>

namespace rampart::net {

Peer peer_of(const Socket& socket) {
  namespace ip = boost::asio::ip;
  boost::system::error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  if (error) return {};
  const sockaddr* address = endpoint.data();
  if (address->sa_family == AF_UNIX) return {"local", true};
  ip::address peer;
  if (address->sa_family == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, address, sizeof v4);
    peer = ip::address_v4(ntohl(v4.sin_addr.s_addr));
  } else if (address->sa_family == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, address, sizeof v6);
    ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), v6.sin6_addr.s6_addr, bytes.size());
    const ip::address_v6 address_v6(bytes, v6.sin6_scope_id);
    // An IPv4 client on a dual-stack socket counts as the IPv4 address it is.
    peer = address_v6.is_v4_mapped() ? ip::address(ip::make_address_v4(ip::v4_mapped, address_v6))
                                     : ip::address(address_v6);
  } else {
    return {};
  }
  return {peer.to_string(), peer.is_loopback()};
}

}  // namespace rampart::net
