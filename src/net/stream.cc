#include "net/stream.h"

#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace rampart::net {

namespace asio = boost::asio;

Stream::Stream(Socket socket, std::shared_ptr<asio::ssl::context> tls)
    : socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      read_deadline_(socket_.get_executor()),
      write_deadline_(socket_.get_executor()),
      peer_(peer_of(socket_)) {}

// The timer shares the connection's thread, so closing from its handler cannot race
// with the read or write it interrupts.
void Stream::arm(boost::asio::steady_timer& deadline, std::chrono::seconds timeout) {
  deadline.expires_after(timeout);
  deadline.async_wait([this](boost::system::error_code error) {
    if (!error) {
      boost::system::error_code ignored;
      socket_.close(ignored);
    }
  });
}

asio::awaitable<bool> Stream::read_some(std::string& buffer, std::size_t max_bytes,
                                        std::chrono::seconds timeout) {
  const std::size_t old_size = buffer.size();
  buffer.resize(old_size + max_bytes);
  const auto target = asio::buffer(buffer.data() + old_size, max_bytes);
  boost::system::error_code error;
  arm(read_deadline_, timeout);
  const std::size_t n = tls_stream_ ? co_await tls_stream_->async_read_some(
                                          target, asio::redirect_error(asio::use_awaitable, error))
                                    : co_await socket_.async_read_some(
                                          target, asio::redirect_error(asio::use_awaitable, error));
  read_deadline_.cancel();
  buffer.resize(old_size + n);
  co_return !error || n > 0;
}

asio::awaitable<bool> Stream::wait_readable(std::chrono::seconds timeout) {
  if (tls_stream_) co_return true;
  boost::system::error_code error;
  arm(read_deadline_, timeout);
  co_await socket_.async_wait(Socket::wait_read, asio::redirect_error(asio::use_awaitable, error));
  read_deadline_.cancel();
  co_return !error;
}

std::size_t Stream::readable_bytes() {
  if (tls_stream_) return 0;
  boost::system::error_code error;
  const std::size_t bytes = socket_.available(error);
  return error ? 0 : bytes;
}

// Plain co_await form (pop3/connection.cc says why): every co_await a statement of its
// own, its arguments named locals.
asio::awaitable<bool> Stream::read_more(std::string& input, std::chrono::seconds timeout) {
  if (input.empty()) {
    // Between commands a connection holds no read buffer.
    std::string().swap(input);
    const bool readable = co_await wait_readable(timeout);
    if (!readable) {
      co_return false;
    }
  }
  const std::size_t chunk = 16 * 1024;
  const bool read = co_await read_some(input, chunk, timeout);
  co_return read;
}

asio::awaitable<bool> Stream::flush(std::string& output) {
  if (output.empty()) {
    co_return true;
  }
  const std::chrono::seconds timeout{120};
  const std::string_view bytes = output;
  const bool written = co_await write(bytes, timeout);
  output.clear();
  if (output.capacity() > 4 * 1024) {
    std::string().swap(output);
  }
  co_return written;
}

asio::awaitable<bool> Stream::write(std::string_view bytes, std::chrono::seconds timeout) {
  boost::system::error_code error;
  arm(write_deadline_, timeout);
  if (tls_stream_) {
    co_await asio::async_write(*tls_stream_, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, error));
  } else {
    co_await asio::async_write(socket_, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, error));
  }
  write_deadline_.cancel();
  if (error) close();
  co_return !error;
}

asio::awaitable<bool> Stream::start_tls(std::chrono::seconds timeout) {
  if (!can_start_tls()) co_return false;
  tls_stream_.emplace(socket_, *tls_context_);
  boost::system::error_code error;
  arm(read_deadline_, timeout);
  co_await tls_stream_->async_handshake(asio::ssl::stream_base::server,
                                        asio::redirect_error(asio::use_awaitable, error));
  read_deadline_.cancel();
  if (error) close();
  co_return !error;
}

asio::awaitable<bool> Stream::start_tls_client(std::string server_name,
                                               std::chrono::seconds timeout,
                                               const std::function<bool(SSL*)>& configure) {
  if (!can_start_tls()) co_return false;
  tls_stream_.emplace(socket_, *tls_context_);
  SSL* ssl = tls_stream_->native_handle();
  SSL_set_tlsext_host_name(ssl, server_name.c_str());
  if (configure && !configure(ssl)) {
    close();
    co_return false;
  }
  boost::system::error_code error;
  arm(read_deadline_, timeout);
  co_await tls_stream_->async_handshake(asio::ssl::stream_base::client,
                                        asio::redirect_error(asio::use_awaitable, error));
  read_deadline_.cancel();
  if (error) close();
  co_return !error;
}

asio::awaitable<std::optional<Socket>> Stream::connect(asio::any_io_executor executor,
                                                       std::string address, std::uint16_t port,
                                                       std::chrono::seconds timeout) {
  boost::system::error_code error;
  const auto ip = asio::ip::make_address(address, error);
  if (error) co_return std::nullopt;
  Socket socket(executor);
  asio::steady_timer deadline(executor);
  deadline.expires_after(timeout);
  deadline.async_wait([&socket](boost::system::error_code waited) {
    boost::system::error_code ignored;
    if (!waited) socket.close(ignored);
  });
  co_await socket.async_connect(
      asio::generic::stream_protocol::endpoint(asio::ip::tcp::endpoint(ip, port)),
      asio::redirect_error(asio::use_awaitable, error));
  deadline.cancel();
  if (error) co_return std::nullopt;
  co_return std::optional<Socket>(std::move(socket));
}

bool require_peer_name(SSL* ssl, const std::string& host) {
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, host.c_str()) != 1) return false;
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  return true;
}

long Stream::tls_verify_result() {
  return tls_stream_ ? SSL_get_verify_result(tls_stream_->native_handle()) : X509_V_OK;
}

void Stream::close() {
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

std::string Stream::tls_description() const {
  if (!tls_stream_) return {};
  SSL* ssl = const_cast<Stream*>(this)->tls_stream_->native_handle();
  return std::string(SSL_get_version(ssl)) + " " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
}

}  // namespace rampart::net
