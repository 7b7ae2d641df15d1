#include "filter/clamav.h"

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace rampart::filter {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMaxReply = 1024;

}  // namespace

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<ClamavVerdict> scan(asio::any_io_executor executor, std::string socket_path,
                                    std::string_view message, std::chrono::seconds timeout) {
  ClamavVerdict failed;
  asio::local::stream_protocol::socket socket(executor);
  // One deadline for the whole exchange: it closes the socket, which ends any wait.
  asio::steady_timer deadline(executor, timeout);
  bool timed_out = false;
  deadline.async_wait([&socket, &timed_out](boost::system::error_code error) {
    if (error) return;
    timed_out = true;
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  boost::system::error_code error;
  const asio::local::stream_protocol::endpoint endpoint(socket_path);
  co_await socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    deadline.cancel();
    failed.detail = "clamd at " + socket_path + ": " + error.message();
    co_return failed;
  }
  const std::string command("zINSTREAM\0", 10);
  co_await asio::async_write(socket, asio::buffer(command),
                             asio::redirect_error(asio::use_awaitable, error));
  for (std::size_t at = 0; !error && at < message.size(); at += kChunk) {
    const std::size_t size = std::min(kChunk, message.size() - at);
    const unsigned char length[4] = {
        static_cast<unsigned char>(size >> 24), static_cast<unsigned char>(size >> 16),
        static_cast<unsigned char>(size >> 8), static_cast<unsigned char>(size)};
    const std::array<asio::const_buffer, 2> chunk{asio::buffer(length),
                                                  asio::buffer(message.data() + at, size)};
    co_await asio::async_write(socket, chunk, asio::redirect_error(asio::use_awaitable, error));
  }
  if (!error) {
    const unsigned char end[4] = {0, 0, 0, 0};
    co_await asio::async_write(socket, asio::buffer(end),
                               asio::redirect_error(asio::use_awaitable, error));
  }
  // clamd may answer early (a stream over its limit) and close: read what it said.
  std::string reply(kMaxReply, '\0');
  boost::system::error_code read_error;
  const std::size_t got = co_await asio::async_read(
      socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, read_error));
  deadline.cancel();
  reply.resize(got);
  if (timed_out) {
    failed.detail = "clamd did not answer within " + std::to_string(timeout.count()) + " s";
    co_return failed;
  }
  if (got == 0) {
    failed.detail = "clamd: " + (error ? error.message() : read_error.message());
    co_return failed;
  }
  co_return parse_clamd_reply(reply);
}

}  // namespace rampart::filter
