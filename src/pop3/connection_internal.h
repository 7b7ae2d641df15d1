// The byte side of one POP3 connection: the stream (plain or TLS), the command parser
// fed from it, the buffered output and the count of -ERR replies in a row. Shared by
// the AUTHORIZATION and TRANSACTION states; owns no store handle.
//
// Input is read only when the parser has taken every byte before it, at most 16 KiB at
// a time, so a client that pipelines (RFC 2449 §6.6) makes the server hold one read and
// one line. Replies collect in the output and are written when the client has nothing
// more pipelined, or once they pass kFlushBytes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "net/stream.h"
#include "pop3/command_parser.h"
#include "pop3/session.h"

namespace rampart::pop3 {

// A SASL response line, an over-long one (already taken), or the connection's end.
struct Closed {};
using Response = std::variant<Closed, std::string, BadCommand>;

class Connection {
 public:
  static constexpr std::size_t kFlushBytes = 64 * 1024;

  Connection(net::Socket socket, const SessionOptions& options,
             std::shared_ptr<boost::asio::ssl::context> tls);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The next command, with "-ERR" sent for a line that is not one. nullopt when the
  // connection ends: EOF, timeout, a failed write, or max_errors -ERR in a row.
  boost::asio::awaitable<std::optional<Command>> next_command(std::chrono::seconds timeout);
  // The next line as a SASL response (RFC 5034 §4).
  boost::asio::awaitable<Response> read_response(std::chrono::seconds timeout);

  // "+OK text" ("+OK" alone for no text); ends a run of errors.
  void ok(std::string_view text);
  // "-ERR text"; true when it is the options' max_errors-th in a row: end the connection.
  bool error(std::string_view text);
  // Bytes as they are: a multi-line response's lines, a SASL continuation.
  void send(std::string_view bytes) { output_.append(bytes); }
  std::string& output() { return output_; }
  // Writes what was sent; false when the connection failed.
  boost::asio::awaitable<bool> flush();
  // Writes once the output passes kFlushBytes (a long listing or message).
  boost::asio::awaitable<bool> flush_when_full();

  // After "+OK Begin TLS" has been flushed: nothing read before counts (RFC 2595 §4).
  boost::asio::awaitable<bool> start_tls();

  net::Stream& stream() { return stream_; }
  const SessionOptions& options() const { return options_; }
  // RFC 2595 §4 and docs/architecture.md rule 8: passwords only over TLS or loopback.
  bool plaintext_allowed() const { return stream_.is_tls() || stream_.is_loopback(); }
  void close() { stream_.close(); }

 private:
  boost::asio::awaitable<bool> read_more(std::chrono::seconds timeout);

  const SessionOptions& options_;
  net::Stream stream_;
  CommandParser parser_;
  std::string input_;   // bytes not yet parsed
  std::string output_;  // bytes not yet written
  int errors_in_row_ = 0;
};

}  // namespace rampart::pop3
