#include "directory/login_guard.h"

#include <gtest/gtest.h>

namespace rampart::directory {
namespace {

using namespace std::chrono_literals;
using Clock = LoginGuard::Clock;

TEST(LoginGuard, DelaysGrowAfterTheFreeFailuresThenTheAddressIsRefused) {
  LoginGuard guard({.free_failures = 2,
                    .max_delay = 4000ms,
                    .address_lockout_failures = 6,
                    .account_lockout_failures = 1000});
  const Clock::time_point t0{};
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i) {
    const auto verdict = guard.check("192.0.2.1", "user" + std::to_string(i), t0);
    ASSERT_FALSE(verdict.refuse);
    delays.push_back(verdict.delay.count());
    guard.failed("192.0.2.1", "user" + std::to_string(i), t0);
  }
  EXPECT_EQ(delays, (std::vector<long>{0, 0, 1000, 2000, 4000, 4000}));
  EXPECT_TRUE(guard.check("192.0.2.1", "anyone", t0).refuse);
  EXPECT_FALSE(guard.check("192.0.2.2", "anyone", t0).refuse);
  // A success does not wipe the address's record.
  guard.succeeded("192.0.2.1", "attacker-own", t0);
  EXPECT_TRUE(guard.check("192.0.2.1", "anyone", t0 + 1s).refuse);
  // The window passes: forgotten.
  EXPECT_FALSE(guard.check("192.0.2.1", "anyone", t0 + 16min).refuse);
  EXPECT_EQ(guard.check("192.0.2.1", "anyone", t0 + 16min).delay, 0ms);
}

TEST(LoginGuard, AnAccountLocksOnlyAgainstUnfamiliarNetworks) {
  LoginGuard guard(
      {.free_failures = 1000, .address_lockout_failures = 1000, .account_lockout_failures = 3});
  const Clock::time_point t0{};
  guard.succeeded("198.51.100.7", "Alice@example.test", t0);
  // A distributed attack on alice from many addresses.
  for (int i = 0; i < 3; ++i)
    guard.failed("203.0.113." + std::to_string(i), "alice@example.test", t0);
  EXPECT_TRUE(guard.check("203.0.113.99", "alice@example.test", t0).refuse);
  EXPECT_FALSE(guard.check("198.51.100.7", "ALICE@example.test", t0).refuse)
      << "the owner's network keeps working";
  // The owner mistyping at home does not count against the account.
  LoginGuard fresh({.account_lockout_failures = 2});
  fresh.succeeded("198.51.100.7", "bob", t0);
  for (int i = 0; i < 2; ++i) fresh.failed("198.51.100.7", "bob", t0);
  EXPECT_FALSE(fresh.check("203.0.113.1", "bob", t0).refuse);
}

TEST(LoginGuard, UnknownAccountsAreTrackedLikeRealOnes) {
  LoginGuard guard(
      {.free_failures = 1000, .address_lockout_failures = 1000, .account_lockout_failures = 2});
  const Clock::time_point t0{};
  for (const char* who : {"real@example.test", "nobody@example.test"}) {
    guard.failed("203.0.113.1", who, t0);
    guard.failed("203.0.113.2", who, t0);
    EXPECT_TRUE(guard.check("203.0.113.3", who, t0).refuse) << who;
  }
}

TEST(LoginGuard, GroupsIpv6ByItsSlash64) {
  EXPECT_EQ(LoginGuard::network_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginGuard::network_of("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
  // Compressed and written-out spellings of one /64 are one network.
  EXPECT_EQ(LoginGuard::network_of("2001:db8::1"), "2001:db8:0:0::/64");
  EXPECT_EQ(LoginGuard::network_of("2001:db8::ffff:1"), "2001:db8:0:0::/64");
  EXPECT_EQ(LoginGuard::network_of("2001:0db8:0000:0000:1:2:3:4"), "2001:db8:0:0::/64");
  EXPECT_EQ(LoginGuard::network_of("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(LoginGuard::network_of("local"), "local");
}

TEST(LoginGuard, MemoryIsBounded) {
  LoginGuard guard({.max_entries = 100});
  const Clock::time_point t0{};
  for (int i = 0; i < 1000; ++i) {
    guard.failed("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                 "user" + std::to_string(i), t0 + std::chrono::seconds(i));
  }
  // The newest are still known: the last address has one failure and no delay yet.
  EXPECT_FALSE(guard.check("10.0.3.231", "user999", t0 + 1000s).refuse);
}

}  // namespace
}  // namespace rampart::directory
