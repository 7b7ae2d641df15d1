// The HTTP/1.1 server on the `http` and `https` listeners (issue #7). Requests are
// parsed by Boost.Beast's parser with limits (header size, body size, time), and
// answered by one router: a request whose decoded target (http/target.h) names no
// route gets 404, a known path with another method 405. Today the one route is
// GET/HEAD /health; the JMAP routes, which need an account, come next. Keep-alive
// and pipelining are honoured up to `max_requests` per connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>

#include "net/socket.h"

namespace rampart::net {
class TlsReloader;
}

namespace rampart::http {

struct SessionOptions {
  bool implicit_tls = false;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  int max_requests = 1000;           // per connection, then it is closed
  std::chrono::seconds timeout{60};  // for each read and write
};

struct Services {
  const net::TlsReloader* tls;  // null: no https
};

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services);

}  // namespace rampart::http
