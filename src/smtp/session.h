// One SMTP or LMTP connection from greeting to QUIT: inbound MX (port 25, mail for our
// domains only, no AUTH), submission (587 STARTTLS / 465 implicit TLS, AUTH required,
// sender must be the user's), and LMTP (RFC 2033, from a local MTA: one reply per
// recipient). Runs on the connection's thread; store and directory calls go to the
// blocking pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "net/socket.h"
#include "net/tls.h"

namespace boost::asio {
class thread_pool;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace rampart::audit {
class Trail;
}
namespace rampart::directory {
class Directory;
}
namespace rampart::delivery {
class Delivery;
}

namespace rampart {
class MemoryBudget;
}

namespace rampart::mailauth {
class Inbound;
}
namespace rampart::filter {
struct ClamavSettings;
struct RspamdSettings;
}  // namespace rampart::filter

namespace rampart::smtp {

enum class Mode { Mx, Submission, Lmtp };

struct SessionOptions {
  Mode mode = Mode::Mx;
  bool implicit_tls = false;
  std::string hostname = "localhost";
  std::size_t max_message_bytes = 64 << 20;
  std::size_t max_recipients = 100;
  int max_errors = 10;          // syntax and sequence errors before 421
  int max_transactions = 1000;  // messages per connection
  int max_junk_commands = 100;  // NOOP, RSET, VRFY, EXPN, HELP per connection, as Postfix
  std::chrono::seconds command_timeout{300};  // RFC 5321 §4.5.3.2: at least 5 minutes
  std::chrono::seconds data_timeout{600};
};

struct Services {
  directory::Directory& directory;
  delivery::Delivery& delivery;
  boost::asio::thread_pool& blocking;
  const net::TlsReloader* tls;  // null: no STARTTLS, no implicit TLS
  // What all sessions' messages in transit may hold together beyond the first MiB of
  // each (limits.message_memory_mib); null: no bound but each message's own.
  MemoryBudget* message_budget = nullptr;
  // The MX's sender checks (SPF, DKIM, DMARC: docs/filtering.md); null: none.
  mailauth::Inbound* sender_checks = nullptr;
  // Virus scanning of every message accepted (MX and submission); null: none.
  const filter::ClamavSettings* clamav = nullptr;
  // Where refused messages are recorded (a virus, a DMARC reject); null: not recorded.
  audit::Trail* trail = nullptr;
  // Spam filtering through rspamd (MX: every action; submission: reject only); null: none.
  const filter::RspamdSettings* rspamd = nullptr;
};

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services);

}  // namespace rampart::smtp
