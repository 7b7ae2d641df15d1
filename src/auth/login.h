// A login from the network, done the one way every protocol does it: the login
// guard's verdict first (refused: nothing is checked), its delay waited out without
// holding a thread, then the password checked on the blocking pool. Refusals and
// failures are logged as "PROTOCOL: login ... from PEER" and counted in
// rampart_logins_total. With `bearer`, `password` is a bearer token and `user` is
// ignored (Directory::authenticate_token). Runs on the session's executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "base/result.h"
#include "directory/directory.h"

namespace rampart::auth {

struct LoginOutcome {
  bool refused = false;  // locked out by the guard: answer "try later"
  // Else the account, or NotFound / NoPermission (answer both alike), or another error
  // (answer "try later").
  Result<store::Account> account;
  // The directory's credential clock before the check (Directory::revoked_since).
  std::uint64_t credentials_as_of = 0;
};

// Arguments by reference: GCC 12 destroys braced temporaries passed by value to a
// coroutine twice (GCC bug 101367). `protocol` is a literal: "imap", "smtp", "http",
// "pop3".
boost::asio::awaitable<LoginOutcome> network_login(directory::Directory& directory,
                                                   boost::asio::thread_pool& blocking,
                                                   const std::string& peer, const std::string& user,
                                                   const std::string& password,
                                                   const char* protocol, bool bearer = false);

}  // namespace rampart::auth
