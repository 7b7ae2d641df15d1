// Runs blocking work (store, directory, password hashing) on the blocking pool and
// resumes the calling coroutine on its own executor with the result.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace rampart::net {

template <class Function>
boost::asio::awaitable<std::invoke_result_t<Function&>> offload(boost::asio::thread_pool& pool,
                                                                Function function) {
  using Value = std::invoke_result_t<Function&>;
  co_return co_await boost::asio::co_spawn(
      pool.get_executor(), [&function]() -> boost::asio::awaitable<Value> { co_return function(); },
      boost::asio::use_awaitable);
}

}  // namespace rampart::net
