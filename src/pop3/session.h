// One POP3 connection (RFC 1939 with RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 SASL and
// RFC 3206 response codes) from greeting to QUIT, on the `pop3` (STLS) or `pop3s`
// (implicit TLS) listener. The maildrop is the account's INBOX as it was at login;
// DELE takes effect at QUIT only (docs/pop3.md). Runs on the connection's thread;
// store and directory calls go to the blocking pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "net/socket.h"
#include "net/tls.h"
#include "pop3/command_parser.h"
#include "pop3/maildrop_locks.h"

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
class BlobStore;
class MailStore;
}  // namespace rampart::store

namespace rampart::pop3 {

struct SessionOptions {
  bool implicit_tls = false;
  Limits limits;
  int max_errors = 20;  // -ERR replies in a row before the connection is closed
  // RFC 1939 §3: an autologout timer of at least 10 minutes once logged in; before
  // login, as IMAP, much less.
  std::chrono::seconds preauth_timeout{60};
  std::chrono::seconds idle_timeout{10 * 60};
};

struct Services {
  directory::Directory& directory;
  // The roles of the store POP3 uses: the INBOX and its change log, message bytes.
  store::MailStore& store;
  store::BlobStore& blobs;
  boost::asio::thread_pool& blocking;
  const net::TlsReloader* tls;  // null: no STLS, no implicit TLS
  audit::Trail& trail;          // every mailbox access is recorded
  MaildropLocks& locks;         // one POP3 session per maildrop
};

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services);

}  // namespace rampart::pop3
