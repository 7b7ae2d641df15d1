#include "directory/login_guard.h"

#include <algorithm>

#include "base/ascii.h"
#include "base/network.h"

namespace rampart::directory {

namespace {

constexpr std::size_t kGoodNetworksPerAccount = 8;

}  // namespace

LoginGuard::LoginGuard() : LoginGuard(Limits{}) {}

std::string LoginGuard::network_of(std::string_view address) { return client_of(address); }

LoginGuard::Failures LoginGuard::current(const Failures& failures, Clock::time_point now) const {
  if (failures.count > 0 && now - failures.last > limits_.window) return {};
  return failures;
}

bool LoginGuard::familiar(const AccountState& state, const std::string& network,
                          Clock::time_point now) const {
  return std::any_of(state.good_networks.begin(), state.good_networks.end(), [&](const auto& good) {
    return good.first == network && now - good.second <= limits_.familiar_for;
  });
}

template <class Map, class Age>
void LoginGuard::bound(Map& map, Age age) {
  // Rare: drop the half that was active longest ago.
  if (map.size() < limits_.max_entries) return;
  std::vector<std::pair<Clock::time_point, std::string>> ages;
  for (const auto& [key, value] : map) ages.emplace_back(age(value), key);
  std::sort(ages.begin(), ages.end());
  for (std::size_t i = 0; i < ages.size() / 2; ++i) map.erase(ages[i].second);
}

LoginGuard::Clock::time_point LoginGuard::account_age(const AccountState& state) {
  Clock::time_point last = state.unfamiliar.last;
  for (const auto& [network, when] : state.good_networks) last = std::max(last, when);
  return last;
}

LoginGuard::Verdict LoginGuard::check(std::string_view address, std::string_view account,
                                      Clock::time_point now) {
  std::lock_guard lock(mutex_);
  Verdict verdict;
  const std::string network = network_of(address);
  if (auto it = addresses_.find(network); it != addresses_.end()) {
    const Failures failures = current(it->second, now);
    if (failures.count >= limits_.address_lockout_failures) return {.refuse = true};
    if (failures.count >= limits_.free_failures) {
      const int doublings = std::min(failures.count - limits_.free_failures, 20);
      verdict.delay =
          std::min(limits_.max_delay, std::chrono::milliseconds(1000) * (1 << doublings));
    }
  }
  if (auto it = accounts_.find(lowercase(account)); it != accounts_.end()) {
    const Failures failures = current(it->second.unfamiliar, now);
    if (failures.count >= limits_.account_lockout_failures && !familiar(it->second, network, now)) {
      return {.refuse = true};
    }
  }
  return verdict;
}

void LoginGuard::failed(std::string_view address, std::string_view account, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const std::string network = network_of(address);
  bound(addresses_, [](const Failures& failures) { return failures.last; });
  Failures& failures = addresses_[network];
  failures = current(failures, now);
  ++failures.count;
  failures.last = now;
  if (account.empty()) return;
  bound(accounts_, account_age);
  AccountState& state = accounts_[lowercase(account)];
  // Failures from a familiar network do not count against the account: that is
  // most likely its owner mistyping, and an attacker there is slowed by address.
  if (!familiar(state, network, now)) {
    state.unfamiliar = current(state.unfamiliar, now);
    ++state.unfamiliar.count;
    state.unfamiliar.last = now;
  }
}

void LoginGuard::succeeded(std::string_view address, std::string_view account,
                           Clock::time_point now) {
  std::lock_guard lock(mutex_);
  // The address's failures stay: an attacker with one account of its own must not
  // wipe them by logging in to it between guesses at others.
  const std::string network = network_of(address);
  bound(accounts_, account_age);
  auto& good = accounts_[lowercase(account)].good_networks;
  std::erase_if(good, [&](const auto& entry) { return entry.first == network; });
  good.emplace_back(network, now);
  if (good.size() > kGoodNetworksPerAccount) good.erase(good.begin());
}

}  // namespace rampart::directory
