// The AUTHORIZATION state (RFC 1939 §4, §7): CAPA, USER, PASS, AUTH (RFC 5034), STLS
// (RFC 2595) and QUIT. It gets the directory to check passwords and nothing else: no
// store handle, so nothing before login can reach a mailbox.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "auth/sasl.h"
#include "pop3/command_parser.h"
#include "store/store.h"

namespace boost::asio {
class thread_pool;
}
namespace rampart::directory {
class Directory;
}

namespace rampart::pop3 {

class Connection;

// CAPA's lines (RFC 2449 §5), each ending in CRLF, without the "+OK" and the ".":
// before login, USER and SASL only where a password may be sent (TLS or loopback), and
// STLS where it can be started; after login, what the TRANSACTION state offers.
std::string capabilities(Connection& connection, bool logged_in);

// Credentials that were accepted: the account, and the directory's credential clock
// before the check (Directory::revoked_since).
struct LoggedIn {
  store::Account account;
  std::uint64_t credentials_as_of = 0;
};

class Preauth {
 public:
  Preauth(Connection& connection, directory::Directory& directory,
          boost::asio::thread_pool& blocking)
      : connection_(connection), directory_(directory), blocking_(blocking) {}

  // Runs commands until credentials are accepted, or the connection ends (nullopt).
  // The command that gave them is not answered yet: the caller says +OK once it has
  // the maildrop, or -ERR (a locked maildrop) and runs this again.
  boost::asio::awaitable<std::optional<LoggedIn>> run();

 private:
  // An -ERR reply; the connection closes after it when the errors in a row reach their limit.
  void refuse(std::string_view text);
  // After kMaxFailedLogins on one connection it is closed (as IMAP does), so a guesser
  // pays a new connection, and the per-address cap, for each few.
  void failed_login() { closing_ = ++failed_logins_ >= kMaxFailedLogins || closing_; }
  // The commands that wait for nothing: CAPA, USER, and those of the TRANSACTION state.
  void answer(const Command& command);
  boost::asio::awaitable<bool> start_tls();
  void user(const Command& command);
  boost::asio::awaitable<std::optional<LoggedIn>> pass(const Command& command);
  boost::asio::awaitable<std::optional<auth::Credentials>> authenticate(const Command& command);
  // One SASL response to `challenge`; nullopt (answered, or the connection ended) when
  // there is none: cancelled with "*", too long, or EOF.
  boost::asio::awaitable<std::optional<std::string>> response(std::string_view challenge);
  // Takes a reference: GCC 12 destroys a braced temporary passed by value to a
  // coroutine twice (GCC bug 101367), so callers pass a named variable.
  boost::asio::awaitable<std::optional<LoggedIn>> login(const auth::Credentials& credentials);

  static constexpr int kMaxFailedLogins = 3;

  Connection& connection_;
  directory::Directory& directory_;
  boost::asio::thread_pool& blocking_;
  std::optional<std::string> user_;  // USER's name, waiting for PASS
  int failed_logins_ = 0;
  bool closing_ = false;  // too many errors or failed logins, or the connection ended
};

}  // namespace rampart::pop3
