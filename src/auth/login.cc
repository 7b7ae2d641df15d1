#include "auth/login.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string_view>

#include "base/ascii.h"
#include "base/log.h"
#include "base/metrics.h"

namespace rampart::auth {
namespace {

enum class Outcome { Refused, Success, Failure };
constexpr std::array<const char*, 3> kOutcomeNames = {"refused", "success", "failure"};
// The protocols that log in today; another one is still counted, by the slower lookup.
constexpr std::array<std::string_view, 5> kProtocols = {"imap", "smtp", "http", "pop3",
                                                        "managesieve"};

void count(const char* protocol, Outcome outcome) {
  static metrics::Slots<kProtocols.size() * kOutcomeNames.size()> logins(
      "rampart_logins_total", metrics::Type::Counter, "Network logins by outcome.");
  std::size_t index = kProtocols.size() * kOutcomeNames.size();
  for (std::size_t i = 0; i < kProtocols.size(); ++i) {
    if (kProtocols[i] == protocol) {
      index = i * kOutcomeNames.size() + static_cast<std::size_t>(outcome);
    }
  }
  const char* result = kOutcomeNames[static_cast<std::size_t>(outcome)];
  logins
      .at(index,
          [&] {
            return "protocol=" + metrics::label(protocol) + ",result=" + metrics::label(result);
          })
      .add();
}

}  // namespace

boost::asio::awaitable<LoginOutcome> network_login(directory::Directory& directory,
                                                   boost::asio::thread_pool& blocking,
                                                   const std::string& peer, const std::string& user,
                                                   const std::string& password,
                                                   const char* protocol, bool bearer) {
  // A token names no account until it is found: the guard judges the address alone.
  const std::string name = bearer ? std::string() : user;
  const auto verdict = directory.login_verdict(peer, name);
  const std::string who = bearer ? std::string("a bearer token") : lowercase(name);
  if (verdict.refuse) {
    count(protocol, Outcome::Refused);
    log::warn(std::string(protocol) + ": login for " + who + " from " + peer +
              " refused: too many failures");
    co_return LoginOutcome{.refused = true, .account = fail(Errc::TryLater, "locked out")};
  }
  if (verdict.delay.count() > 0) {
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, verdict.delay);
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  const std::uint64_t as_of = directory.credential_clock();
  // Argon2id and the store on the blocking pool, then back on the session's executor
  // (as net/offload.h does for the protocols; auth stands below net).
  auto account = co_await boost::asio::co_spawn(
      blocking.get_executor(),
      [&]() -> boost::asio::awaitable<Result<store::Account>> {
        co_return bearer ? directory.authenticate_token(password, peer, protocol)
                         : directory.authenticate(user, password, peer, protocol);
      },
      boost::asio::use_awaitable);
  if (!account) {
    log::info(std::string(protocol) + ": login failed for " + who + " from " + peer);
  }
  count(protocol, account ? Outcome::Success : Outcome::Failure);
  co_return LoginOutcome{.account = std::move(account), .credentials_as_of = as_of};
}

}  // namespace rampart::auth
