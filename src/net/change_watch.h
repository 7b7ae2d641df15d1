// A wake-up for a session that waits on what another thread changes: the store's change
// bus calls its subscribers on the committing thread, which must only post. `raise`
// runs an update on the watch's executor (the session's thread), so the state a
// session keeps in a type derived from ChangeWatch is read and written there alone,
// without a lock. A wake with no one waiting is not kept: a session looks at its state
// before it waits. One coroutine waits at a time. IMAP IDLE and JMAP push (EventSource,
// WebSocket) wait on one.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <utility>

namespace rampart::net {

class ChangeWatch {
 public:
  explicit ChangeWatch(boost::asio::any_io_executor executor) : timer_(std::move(executor)) {}

  boost::asio::any_io_executor executor() { return timer_.get_executor(); }

  // On the executor: ends the current wait, if there is one.
  void wake() { timer_.cancel(); }

  // On the executor: waits until woken (or the wait's own cancellation, as in `||`).
  boost::asio::awaitable<void> wait() {
    timer_.expires_at(boost::asio::steady_timer::time_point::max());
    boost::system::error_code error;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, error));
  }

  // On the executor: waits until woken or `timeout` has passed; true when woken.
  boost::asio::awaitable<bool> wait_for(std::chrono::steady_clock::duration timeout) {
    timer_.expires_after(timeout);
    boost::system::error_code error;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, error));
    co_return static_cast<bool>(error);
  }

 private:
  boost::asio::steady_timer timer_;
};

// From any thread: runs `update(*watch)` on the watch's executor and wakes the waiter
// when it returns true. The posted work holds `watch`, so it may outlive its session.
template <class Watch, class Update>
void raise(std::shared_ptr<Watch> watch, Update update) {
  auto executor = watch->executor();
  boost::asio::post(executor, [watch = std::move(watch), update = std::move(update)]() mutable {
    if (update(*watch)) watch->wake();
  });
}

}  // namespace rampart::net
