#include "net/change_watch.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>

namespace rampart::net {
namespace {

namespace asio = boost::asio;

struct Counted : ChangeWatch {
  using ChangeWatch::ChangeWatch;
  int changes = 0;
};

TEST(ChangeWatch, ARaiseFromAnotherThreadUpdatesAndWakesTheWaiter) {
  asio::io_context context;
  auto watch = std::make_shared<Counted>(context.get_executor());
  bool woken = false;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        woken = co_await watch->wait_for(std::chrono::seconds(30));
        EXPECT_EQ(watch->changes, 1);
      },
      asio::detached);
  context.poll();  // the waiter is waiting
  std::thread other([watch] {
    raise(watch, [](Counted& counted) {
      ++counted.changes;
      return true;
    });
  });
  other.join();
  context.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(woken);
}

TEST(ChangeWatch, AnUpdateThatSaysNoLeavesTheWaiterToItsTimeout) {
  asio::io_context context;
  auto watch = std::make_shared<Counted>(context.get_executor());
  std::optional<bool> woken;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        woken = co_await watch->wait_for(std::chrono::milliseconds(20));
      },
      asio::detached);
  context.poll();
  raise(watch, [](Counted& counted) {
    ++counted.changes;
    return false;
  });
  context.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(woken);
  EXPECT_FALSE(*woken);
  EXPECT_EQ(watch->changes, 1);
}

TEST(ChangeWatch, WaitEndsOnlyWhenWoken) {
  asio::io_context context;
  auto watch = std::make_shared<Counted>(context.get_executor());
  bool done = false;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        co_await watch->wait();
        done = true;
      },
      asio::detached);
  context.run_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(done);
  watch->wake();
  context.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace rampart::net
