// The not-authenticated state (RFC 9051 §6.1-6.2): CAPABILITY, NOOP, LOGOUT, STARTTLS,
// AUTHENTICATE, LOGIN and ID. It gets the directory to check passwords and nothing
// else: no store handle, so nothing before login can reach a mailbox.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "store/store.h"

namespace boost::asio {
class thread_pool;
}
namespace rampart::directory {
class Directory;
}

namespace rampart::net {
class Stream;
}

namespace rampart::imap {

class Connection;

// The capabilities before login: STARTTLS where it is possible, and plaintext
// mechanisms only on TLS or loopback (LOGINDISABLED otherwise).
std::string preauth_capabilities(net::Stream& stream);
// The capabilities after login (also in the OK of a successful LOGIN/AUTHENTICATE).
std::string authenticated_capabilities();
// "* ID (...)" for the ID command (RFC 2971), in either state.
std::string id_response();

// A login that succeeded: the account, and the directory's credential clock before the
// check (Directory::revoked_since).
struct LoggedIn {
  store::Account account;
  std::uint64_t credentials_as_of = 0;
};

// Runs commands until a login succeeds or the connection ends (nullopt).
boost::asio::awaitable<std::optional<LoggedIn>> run_preauth(Connection& connection,
                                                            directory::Directory& directory,
                                                            boost::asio::thread_pool& blocking);

}  // namespace rampart::imap
