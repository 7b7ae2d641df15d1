// The HTTP/1.1 server on the `http` and `https` listeners. Requests are
// parsed by Boost.Beast's parser with limits (header size, body size, time), and
// answered by one default-deny router: a request whose decoded target (http/target.h)
// names no route gets 404, a known path with another method 405, and every route but
// the closed anonymous list (/health) needs an account. Authentication is HTTP Basic
// (an account's password or an app password), only over TLS or loopback, through the
// login guard and the audit trail like IMAP and SMTP; a connection that authenticated
// keeps its account while it sends the same credentials. Keep-alive and pipelining
// are honoured up to `max_requests` per connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "net/socket.h"

namespace boost::asio {
class thread_pool;
}
namespace rampart::store {
class Store;
}
namespace rampart::audit {
class Trail;
}
namespace rampart::directory {
class Directory;
}
namespace rampart::jmap {
class Dispatcher;
}
namespace rampart::net {
class TlsReloader;
}

namespace rampart::http {

struct SessionOptions {
  bool implicit_tls = false;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  int max_requests = 1000;           // per connection, then it is closed
  int max_failed_logins = 3;         // per connection, then it is closed
  std::chrono::seconds timeout{60};  // for each read and write
  // A request's header must arrive whole within this, from its first byte.
  std::chrono::seconds header_timeout{30};
};

struct Services {
  const net::TlsReloader* tls;  // null: no https
  directory::Directory& directory;
  boost::asio::thread_pool& blocking;  // store, directory and hashing run here
  const jmap::Dispatcher& jmap;
  audit::Trail& trail;   // JMAP's reads and changes of mail
  store::Store& store;   // JMAP uploads and downloads
  std::string hostname;  // this server's name: the MX of the MTA-STS policies
  std::string base_url;  // "https://" + hostname, for the URLs the JMAP session names
  std::vector<std::string> metrics_accounts;  // who may read /metrics
};

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services);

}  // namespace rampart::http
