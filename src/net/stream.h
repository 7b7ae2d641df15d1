// One client connection, plain or TLS (implicit, or after STARTTLS), with a deadline
// on every read and write. Runs on the connection's thread; not thread-safe, but one
// read and one write may be under way at once (full duplex, as WebSocket push needs):
// each has its own deadline.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/socket.h"

namespace rampart::net {

// For start_tls_client's `configure`: the peer's certificate must chain to the context's
// trust anchors and name `host` (RFC 6125; a wildcard only as a whole left label).
bool require_peer_name(SSL* ssl, const std::string& host);

class Stream {
 public:
  Stream(Socket socket, std::shared_ptr<boost::asio::ssl::context> tls);

  // Appends what arrives to `buffer`, at most `max_bytes`. False on EOF, error or timeout.
  boost::asio::awaitable<bool> read_some(std::string& buffer, std::size_t max_bytes,
                                         std::chrono::seconds timeout);
  // Waits until a read would not block, holding no buffer meanwhile, so that thousands
  // of idle connections stay small. On TLS it returns at once: reads there go through
  // the engine's own buffers. False on error or timeout.
  boost::asio::awaitable<bool> wait_readable(std::chrono::seconds timeout);
  // Bytes a plain socket can read now; 0 on TLS (unknown) or on error.
  std::size_t readable_bytes();
  // False on error or timeout (the connection is then closed).
  boost::asio::awaitable<bool> write(std::string_view bytes, std::chrono::seconds timeout);

  // A line protocol's input and output buffers (POP3, ManageSieve). read_more: when
  // `input` is empty, frees it and waits for the client (wait_readable), then appends at
  // most 16 KiB. flush: writes `output` (within 120 s) and empties it, freeing more than
  // 4 KiB of capacity. False when the connection failed or timed out.
  boost::asio::awaitable<bool> read_more(std::string& input, std::chrono::seconds timeout);
  boost::asio::awaitable<bool> flush(std::string& output);
  // Server-side TLS handshake; false (connection closed) when it fails.
  boost::asio::awaitable<bool> start_tls(std::chrono::seconds timeout);
  // Client-side TLS handshake naming `server_name` (SNI) with the context given at
  // construction, after `configure` (when given) has set what the peer's certificate
  // must be; false (connection closed) when it fails or `configure` does.
  boost::asio::awaitable<bool> start_tls_client(
      std::string server_name, std::chrono::seconds timeout,
      const std::function<bool(SSL*)>& configure = nullptr);
  void close();
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }

  bool is_tls() const { return tls_stream_.has_value(); }
  bool can_start_tls() const { return tls_context_ != nullptr && !is_tls(); }
  // 127.0.0.0/8, ::1 or a Unix socket: where plaintext passwords are allowed without TLS.
  bool is_loopback() const { return peer_.loopback; }
  const std::string& peer_address() const { return peer_.address; }
  // A TCP connection to `address` (IPv4 or IPv6 text) and `port`, made on `executor`;
  // nullopt when it cannot be made within `timeout`.
  static boost::asio::awaitable<std::optional<Socket>> connect(
      boost::asio::any_io_executor executor, std::string address, std::uint16_t port,
      std::chrono::seconds timeout);
  // "TLSv1.3 TLS_AES_256_GCM_SHA384", for Received: headers and logs.
  std::string tls_description() const;
  // The check of the peer's certificate: X509_V_OK when it passed or was not made,
  // else an X509_V_ERR_ code (X509_verify_cert_error_string says it in words).
  long tls_verify_result();

 private:
  void arm(boost::asio::steady_timer& deadline, std::chrono::seconds timeout);

  Socket socket_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::optional<boost::asio::ssl::stream<Socket&>> tls_stream_;
  boost::asio::steady_timer read_deadline_, write_deadline_;
  Peer peer_;
};

}  // namespace rampart::net
