// One IMAP connection (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1) from greeting to
// LOGOUT, on the `imap` (STARTTLS) or `imaps` (implicit TLS) listener. Runs on the
// connection's thread; store writes and large reads go to the blocking pool (docs/imap.md).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "imap/command_parser.h"
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
namespace rampart::filter {
class Learner;
}
namespace rampart::store {
class BlobStore;
class DirectoryStore;
class MailStore;
}  // namespace rampart::store

namespace rampart::imap {

class RecentClaims;

struct SessionOptions {
  bool implicit_tls = false;
  Limits limits;
  // Before login only small literals (LOGIN's user and password): a larger one is
  // refused before the client sends it.
  Limits preauth_limits{.max_literal = 8 << 10, .max_command = 128 << 10};
  int max_bad_commands = 20;  // BAD replies in a row before BYE
  // RFC 9051 §5.4: at least 30 minutes idle after login; much less before it.
  std::chrono::seconds preauth_timeout{60};
  std::chrono::seconds idle_timeout{31 * 60};
};

struct Services {
  directory::Directory& directory;
  // The roles of the store IMAP uses: mail, message bytes, and the account's quota.
  store::MailStore& store;
  store::BlobStore& blobs;
  store::DirectoryStore& accounts;
  boost::asio::thread_pool& blocking;
  const net::TlsReloader* tls;  // null: no STARTTLS, no implicit TLS
  audit::Trail& trail;          // every mailbox access is recorded
  RecentClaims& recent;         // which IMAP4rev1 session sees a message as \Recent
  // Told of messages moved or copied into or out of Junk (filter/learning.h); null: none.
  filter::Learner* learner = nullptr;
};

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services);

}  // namespace rampart::imap
