#include "pop3/connection_internal.h"

namespace rampart::pop3 {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::seconds kTlsHandshakeTimeout{30};

}  // namespace

Connection::Connection(net::Socket socket, const SessionOptions& options,
                       std::shared_ptr<asio::ssl::context> tls)
    : options_(options), stream_(std::move(socket), std::move(tls)), parser_(options.limits) {}

// The coroutines of this module are written in one plain form: every co_await is a
// statement of its own whose value goes to a named local, its arguments are named
// locals too (never a constant or a temporary), and every if and loop body has braces.
// GCC 12 built the frames of more compact forms wrongly here: a session was resumed
// with a corrupt frame right after its greeting (read_more passing kReadChunk straight
// into read_some) and on STLS.

asio::awaitable<bool> Connection::read_more(std::chrono::seconds timeout) {
  const bool read = co_await stream_.read_more(input_, timeout);
  co_return read;
}

asio::awaitable<bool> Connection::flush() {
  const bool written = co_await stream_.flush(output_);
  co_return written;
}

asio::awaitable<bool> Connection::flush_when_full() {
  if (output_.size() < kFlushBytes) {
    co_return true;
  }
  const bool written = co_await flush();
  co_return written;
}

void Connection::ok(std::string_view text) {
  output_ += text.empty() ? "+OK" : "+OK ";
  output_ += text;
  output_ += "\r\n";
  errors_in_row_ = 0;
}

bool Connection::error(std::string_view text) {
  output_ += "-ERR ";
  output_ += text;
  output_ += "\r\n";
  return ++errors_in_row_ >= options_.max_errors;
}

asio::awaitable<std::optional<Command>> Connection::next_command(std::chrono::seconds timeout) {
  for (;;) {
    std::string_view pending = input_;
    Step step = parser_.feed(pending);
    input_.erase(0, input_.size() - pending.size());
    if (std::holds_alternative<Command>(step)) {
      co_return std::get<Command>(std::move(step));
    }
    if (std::holds_alternative<BadCommand>(step)) {
      if (error(std::get<BadCommand>(step).text)) {
        co_await flush();
        co_return std::nullopt;
      }
      continue;
    }
    const bool written = co_await flush();
    if (!written) {
      co_return std::nullopt;
    }
    const bool read = co_await read_more(timeout);
    if (!read) {
      co_return std::nullopt;
    }
  }
}

asio::awaitable<Response> Connection::read_response(std::chrono::seconds timeout) {
  for (;;) {
    std::string_view pending = input_;
    ResponseStep step = parser_.take_response(pending);
    input_.erase(0, input_.size() - pending.size());
    if (std::holds_alternative<std::string>(step)) {
      co_return std::get<std::string>(std::move(step));
    }
    if (std::holds_alternative<BadCommand>(step)) {
      co_return std::get<BadCommand>(std::move(step));
    }
    const bool written = co_await flush();
    if (!written) {
      co_return Closed{};
    }
    const bool read = co_await read_more(timeout);
    if (!read) {
      co_return Closed{};
    }
  }
}

asio::awaitable<bool> Connection::start_tls() {
  // Bytes pipelined after STLS were sent in the clear: drop them (CVE-2011-0411 class).
  input_.clear();
  parser_.reset();
  const auto timeout = kTlsHandshakeTimeout;
  const bool started = co_await stream_.start_tls(timeout);
  co_return started;
}

}  // namespace rampart::pop3
