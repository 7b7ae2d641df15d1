// One ManageSieve connection (RFC 5804) on the `managesieve` listener (port 4190,
// STARTTLS): a user logs in with SASL PLAIN or LOGIN (only over TLS or loopback) and
// manages the Sieve scripts delivery runs (delivery/sieve_scripts.h): HAVESPACE,
// PUTSCRIPT, CHECKSCRIPT (a script is refused with the parser's words), LISTSCRIPTS,
// GETSCRIPT, SETACTIVE, RENAMESCRIPT, DELETESCRIPT. Every change is audited. Runs on
// the connection's thread; store and directory calls go to the blocking pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "managesieve/command_parser.h"
#include "net/socket.h"
#include "net/tls.h"

namespace boost::asio {
class thread_pool;
}  // namespace boost::asio

namespace rampart::audit {
class Trail;
}
namespace rampart::directory {
class Directory;
}
namespace rampart::store {
class ObjectStore;
}

namespace rampart::managesieve {

struct SessionOptions {
  Limits limits;
  int max_errors = 20;  // NO replies in a row before the connection is closed
  std::chrono::seconds preauth_timeout{60};
  std::chrono::seconds idle_timeout{30 * 60};
};

struct Services {
  directory::Directory& directory;
  store::ObjectStore& store;  // where the scripts are kept
  boost::asio::thread_pool& blocking;
  const net::TlsReloader* tls;  // null: no STARTTLS
  audit::Trail& trail;
};

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services);

}  // namespace rampart::managesieve
