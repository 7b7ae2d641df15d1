// The socket every session gets: TCP (IPv4/IPv6) or a Unix-domain stream socket, behind
// one type so that protocols need not care which.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <string>

namespace rampart::net {

using Socket = boost::asio::generic::stream_protocol::socket;

struct Peer {
  std::string address;    // "192.0.2.1", "2001:db8::1", or "local" for a Unix socket
  bool loopback = false;  // 127.0.0.0/8, ::1, or a Unix socket
};

Peer peer_of(const Socket& socket);

}  // namespace rampart::net
