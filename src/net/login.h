// A login from the network, done the one way every protocol does it: the login
// guard's verdict first (refused: nothing is checked), its delay waited out without
// holding a thread, then the password checked on the blocking pool. Refusals and
// failures are logged as "PROTOCOL: login ... from PEER". With `bearer`, `password` is
// a bearer token and `user` is ignored (Directory::authenticate_token).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "base/ascii.h"
#include "base/log.h"
#include "base/metrics.h"
#include "directory/directory.h"
#include "net/offload.h"

namespace rampart::net {

struct LoginOutcome {
  bool refused = false;  // locked out by the guard: answer "try later"
  // Else the account, or NotFound / NoPermission (answer both alike), or another error
  // (answer "try later").
  Result<store::Account> account;
};

// Arguments by reference: GCC 12 destroys braced temporaries passed by value to a
// coroutine twice (GCC bug 101367).
inline boost::asio::awaitable<LoginOutcome> network_login(
    directory::Directory& directory, boost::asio::thread_pool& blocking, const std::string& peer,
    const std::string& user, const std::string& password, const char* protocol,
    bool bearer = false) {
  // A token names no account until it is found: the guard judges the address alone.
  const std::string name = bearer ? std::string() : user;
  const auto verdict = directory.login_verdict(peer, name);
  const std::string who = bearer ? std::string("a bearer token") : lowercase(name);
  auto count = [&](const char* result) {
    metrics::get("rampart_logins_total", metrics::Type::Counter, "Network logins by outcome.",
                 "protocol=" + metrics::label(protocol) + ",result=" + metrics::label(result))
        .add();
  };
  if (verdict.refuse) {
    count("refused");
    log::warn(std::string(protocol) + ": login for " + who + " from " + peer +
              " refused: too many failures");
    co_return LoginOutcome{.refused = true, .account = fail(Errc::TryLater, "locked out")};
  }
  if (verdict.delay.count() > 0) {
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, verdict.delay);
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  auto account = co_await offload(blocking, [&] {
    return bearer ? directory.authenticate_token(password, peer, protocol)
                  : directory.authenticate(user, password, peer, protocol);
  });
  if (!account) {
    log::info(std::string(protocol) + ": login failed for " + who + " from " + peer);
  }
  count(account ? "success" : "failure");
  co_return LoginOutcome{.account = std::move(account)};
}

}  // namespace rampart::net
