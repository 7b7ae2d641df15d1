#include "filter/rspamd.h"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace rampart::filter {

namespace asio = boost::asio;

namespace {

// One HTTP/1.0 exchange with rspamd at `endpoint`: `head`, `fields` and `body` sent, the reply
// read until rspamd closes, at most kMaxRspamdReply + 1 bytes (the parser refuses what
// is longer). An error when it cannot be reached or does not finish within `timeout`.
// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<Result<std::string>> exchange(asio::any_io_executor executor, Endpoint endpoint,
                                              std::string head, std::string_view fields,
                                              std::string_view body, std::chrono::seconds timeout) {
  const std::string where = "rspamd at " + endpoint.text();
  boost::system::error_code error;
  const asio::ip::address address = asio::ip::make_address(endpoint.address, error);
  if (error) co_return fail(Errc::BadInput, where + ": not an IP address");
  asio::ip::tcp::socket socket(executor);
  // One deadline for the whole exchange: it closes the socket, which ends any wait.
  asio::steady_timer deadline(executor, timeout);
  bool timed_out = false;
  deadline.async_wait([&socket, &timed_out](boost::system::error_code waited) {
    if (waited) return;
    timed_out = true;
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  const asio::ip::tcp::endpoint target(address, endpoint.port);
  co_await socket.async_connect(target, asio::redirect_error(asio::use_awaitable, error));
  if (!error) {
    const std::array<asio::const_buffer, 3> request{asio::buffer(head), asio::buffer(fields),
                                                    asio::buffer(body)};
    co_await asio::async_write(socket, request, asio::redirect_error(asio::use_awaitable, error));
  }
  std::string reply;
  if (!error) {
    // Read 16 KiB at a time (a reply is usually a few KiB), up to one byte past the bound.
    std::array<char, 16 * 1024> chunk;
    while (reply.size() <= kMaxRspamdReply) {
      const std::size_t room = std::min(chunk.size(), kMaxRspamdReply + 1 - reply.size());
      const std::size_t read = co_await socket.async_read_some(
          asio::buffer(chunk.data(), room), asio::redirect_error(asio::use_awaitable, error));
      reply.append(chunk.data(), read);
      // A whole reply is enough: rspamd need not close the connection for us to go on.
      if (error || http_reply_complete(reply)) break;
    }
    if (error == asio::error::eof) error = {};
  }
  deadline.cancel();
  if (timed_out) {
    co_return fail(Errc::TryLater,
                   where + " did not answer within " + std::to_string(timeout.count()) + " s");
  }
  if (error) co_return fail(Errc::TryLater, where + ": " + error.message());
  co_return reply;
}

}  // namespace

asio::awaitable<RspamdVerdict> check(asio::any_io_executor executor, const RspamdSettings& settings,
                                     RspamdEnvelope envelope, std::string_view fields,
                                     std::string_view message) {
  const std::size_t size = fields.size() + message.size();
  if (size > settings.max_size) {
    RspamdVerdict verdict;
    verdict.detail = "too big: " + std::to_string(size) + " bytes";
    verdict.too_big = true;
    co_return verdict;
  }
  const Endpoint endpoint = settings.scanner;
  std::string head = rspamd_request_head("/checkv2", envelope, {}, size);
  const std::chrono::seconds timeout = settings.timeout;
  const Result<std::string> reply =
      co_await exchange(executor, endpoint, std::move(head), fields, message, timeout);
  if (!reply) {
    RspamdVerdict verdict;
    verdict.detail = reply.error().detail;
    co_return verdict;
  }
  co_return parse_rspamd_reply(*reply);
}

asio::awaitable<Result<int>> learn(asio::any_io_executor executor, const RspamdSettings& settings,
                                   bool spam, std::string_view message) {
  if (!settings.controller) co_return fail(Errc::BadInput, "no rspamd controller configured");
  const Endpoint endpoint = *settings.controller;
  std::string head = rspamd_request_head(spam ? "/learnspam" : "/learnham", RspamdEnvelope{},
                                         settings.password, message.size());
  const std::chrono::seconds timeout = settings.timeout;
  const std::string_view no_fields;
  const Result<std::string> reply =
      co_await exchange(executor, endpoint, std::move(head), no_fields, message, timeout);
  if (!reply) co_return tl::unexpected(reply.error());
  const std::optional<int> status = http_status(*reply);
  if (!status) co_return fail(Errc::Internal, "rspamd controller: no HTTP status line");
  co_return *status;
}

}  // namespace rampart::filter
