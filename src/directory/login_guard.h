// Throttling password guessing. Every login attempt, before its password is checked,
// asks for a verdict: go ahead, go ahead after a delay, or refuse. Failures slow down
// the address they come from (growing delay, then a temporary lockout), and lock an
// account, for a while, against networks it has not logged in from lately, so an
// attacker cannot lock the real user out: logins from the account's recent good
// networks keep working. Unknown account names are tracked exactly like real ones, so
// the guard tells nothing about which accounts exist.
//
// Pure bookkeeping with the time passed in; thread-safe; bounded memory (the oldest
// entries go first). The delay is for the caller to wait asynchronously: never sleep
// a thread on it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::directory {

class LoginGuard {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    int free_failures = 3;                       // per address, before delays start
    std::chrono::milliseconds max_delay{16000};  // delays double up to this
    int address_lockout_failures = 30;           // then the address is refused
    int account_lockout_failures = 10;           // from unfamiliar networks, per account
    std::chrono::seconds window{15 * 60};        // failures are forgotten, locks lifted
    std::chrono::hours familiar_for{24 * 30};    // a success this recent makes a network familiar
    std::size_t max_entries = 100000;            // addresses and accounts remembered, each
  };

  struct Verdict {
    bool refuse = false;                 // locked: answer "try later" without checking
    std::chrono::milliseconds delay{0};  // wait this long before answering
  };

  LoginGuard();
  explicit LoginGuard(Limits limits) : limits_(limits) {}

  // `address` is the client's IP address (or "local"); `account` the name as typed, or
  // empty when there is none (an unknown bearer token): the address alone counts.
  Verdict check(std::string_view address, std::string_view account, Clock::time_point now);
  void failed(std::string_view address, std::string_view account, Clock::time_point now);
  void succeeded(std::string_view address, std::string_view account, Clock::time_point now);

  // The network an address belongs to: IPv4 as is, IPv6 its /64 ("2001:db8:0:1::/64").
  static std::string network_of(std::string_view address);

 private:
  struct Failures {
    int count = 0;
    Clock::time_point last{};
  };
  struct AccountState {
    Failures unfamiliar;  // failures from networks without a recent success
    std::vector<std::pair<std::string, Clock::time_point>> good_networks;  // newest last
  };
  template <class Map, class Age>
  void bound(Map& map, Age age);
  // When an account's record last changed: its last failure or success.
  static Clock::time_point account_age(const AccountState& state);
  bool familiar(const AccountState& state, const std::string& network, Clock::time_point now) const;
  Failures current(const Failures& failures, Clock::time_point now) const;

  const Limits limits_;
  std::mutex mutex_;
  std::map<std::string, Failures> addresses_;
  std::map<std::string, AccountState> accounts_;
};

}  // namespace rampart::directory
