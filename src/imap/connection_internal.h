// The byte side of one IMAP connection: the stream (plain, TLS, and COMPRESS=DEFLATE
// on top), the command parser fed from it, and the buffered output. Shared by the
// pre-authentication and authenticated states; owns no store handle.
#pragma once

#include <zlib.h>

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "imap/command_parser.h"
#include "imap/session.h"
#include "net/stream.h"

namespace rampart::imap {

class Connection {
 public:
  Connection(net::Socket socket, const SessionOptions& options,
             std::shared_ptr<boost::asio::ssl::context> tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The next command, with continuations sent for synchronizing literals and BAD sent
  // for malformed commands. nullopt when the connection ends (EOF, timeout, too many
  // BADs, or a fatal parse error; BYE has then been sent where it can be).
  boost::asio::awaitable<std::optional<Command>> next_command(std::chrono::seconds timeout);
  // One raw line (AUTHENTICATE responses, IDLE's DONE); nullopt when the connection ends.
  boost::asio::awaitable<std::optional<std::string>> read_line(std::chrono::seconds timeout);
  // Reads once more into the input; false on EOF, error or timeout.
  boost::asio::awaitable<bool> read_more(std::chrono::seconds timeout);
  // Bytes are waiting that the parser has not taken yet (they may not make a whole
  // command): IDLE ends on them without reading.
  bool has_input() const { return !input_.empty(); }

  void send(std::string_view bytes) { output_.append(bytes); }
  // Every tagged response goes through here: BAD replies in a row are counted, and
  // true means the limit is reached (BYE has been queued; end the connection).
  bool send_tagged(std::string_view response);
  std::string& output() { return output_; }
  // Writes what was sent; false when the connection failed.
  boost::asio::awaitable<bool> flush();

  // After "OK Begin TLS" has been flushed: nothing read before counts (RFC 9051 §6.2.1).
  boost::asio::awaitable<bool> start_tls();
  // After "OK DEFLATE active" has been flushed (RFC 4978).
  bool start_compress();
  bool is_compressed() const { return deflate_ != nullptr; }
  // After login: the parser takes the full limits (larger literals) from now on.
  void logged_in() { parser_.set_limits(options_.limits); }

  net::Stream& stream() { return stream_; }
  const SessionOptions& options() const { return options_; }
  void close() { stream_.close(); }

 private:
  boost::asio::awaitable<bool> read_raw(std::chrono::seconds timeout);

  const SessionOptions& options_;
  net::Stream stream_;
  CommandParser parser_;
  std::string input_;             // bytes not yet parsed (inflated when compressed)
  std::string output_;            // bytes not yet written
  std::string raw_;               // compressed bytes not yet inflated
  bool inflate_pending_ = false;  // the last inflate filled its output: zlib may hold more
  int bad_commands_ = 0;
  std::unique_ptr<z_stream> deflate_, inflate_;
};

}  // namespace rampart::imap
