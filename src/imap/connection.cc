#include <algorithm>
#include <boost/asio/use_awaitable.hpp>

#include "base/log.h"
#include "imap/connection_internal.h"

namespace rampart::imap {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMinRead = 4 * 1024;
constexpr std::size_t kTlsRecord = 16 * 1024;
constexpr std::size_t kKeptOutput = 4 * 1024;
constexpr std::chrono::seconds kWriteTimeout{120};
constexpr std::chrono::seconds kTlsHandshakeTimeout{30};

}  // namespace

Connection::Connection(net::Socket socket, const SessionOptions& options,
                       std::shared_ptr<asio::ssl::context> tls)
    : options_(options),
      stream_(std::move(socket), std::move(tls)),
      parser_(options.preauth_limits) {}

Connection::~Connection() {
  if (deflate_) deflateEnd(deflate_.get());
  if (inflate_) inflateEnd(inflate_.get());
}

asio::awaitable<bool> Connection::read_raw(std::chrono::seconds timeout) {
  std::string& target = inflate_ ? raw_ : input_;
  if (target.empty()) {
    // Between commands a connection holds no read buffer: thousands of IDLE sessions
    // stay small. Reads are sized to what is waiting (TLS: one record).
    std::string().swap(target);
    if (!co_await stream_.wait_readable(timeout)) co_return false;
  }
  const std::size_t waiting = stream_.readable_bytes();
  const std::size_t chunk =
      stream_.is_tls() ? kTlsRecord : std::clamp(waiting, kMinRead, kReadChunk);
  co_return co_await stream_.read_some(target, chunk, timeout);
}

asio::awaitable<bool> Connection::read_more(std::chrono::seconds timeout) {
  if (!inflate_) co_return co_await read_raw(timeout);
  for (;;) {
    // At most one chunk is inflated ahead of the parser, which drops what passes its
    // limits as it goes: a few compressed bytes that inflate to gigabytes are never
    // held whole.
    if (!raw_.empty() || inflate_pending_) {
      z_stream& z = *inflate_;
      const std::size_t before = input_.size();
      input_.resize(before + kReadChunk);
      z.next_in = reinterpret_cast<Bytef*>(raw_.data());
      z.avail_in = static_cast<uInt>(raw_.size());
      z.next_out = reinterpret_cast<Bytef*>(input_.data() + before);
      z.avail_out = static_cast<uInt>(kReadChunk);
      const int status = inflate(&z, Z_SYNC_FLUSH);
      const std::size_t produced = kReadChunk - z.avail_out;
      input_.resize(before + produced);
      if (status != Z_OK && status != Z_BUF_ERROR) {
        log::warn("imap: corrupt DEFLATE stream from " + stream_.peer_address());
        co_return false;
      }
      raw_.erase(0, raw_.size() - z.avail_in);
      inflate_pending_ = z.avail_out == 0;  // zlib may hold more output
      if (produced > 0) co_return true;
    }
    if (!co_await read_raw(timeout)) co_return false;
  }
}

asio::awaitable<bool> Connection::flush() {
  if (output_.empty()) co_return true;
  bool ok = true;
  if (deflate_) {
    z_stream& z = *deflate_;
    std::string compressed;
    z.next_in = reinterpret_cast<Bytef*>(output_.data());
    z.avail_in = static_cast<uInt>(output_.size());
    do {
      char out[16 * 1024];
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = sizeof out;
      deflate(&z, Z_SYNC_FLUSH);
      compressed.append(out, sizeof out - z.avail_out);
    } while (z.avail_out == 0);
    ok = co_await stream_.write(compressed, kWriteTimeout);
  } else {
    ok = co_await stream_.write(output_, kWriteTimeout);
  }
  output_.clear();
  if (output_.capacity() > kKeptOutput) std::string().swap(output_);
  co_return ok;
}

asio::awaitable<std::optional<Command>> Connection::next_command(std::chrono::seconds timeout) {
  for (;;) {
    std::string_view pending = input_;
    Step step = parser_.feed(pending);
    input_.erase(0, input_.size() - pending.size());
    if (auto* command = std::get_if<Command>(&step)) co_return std::move(*command);
    if (auto* literal = std::get_if<NeedLiteral>(&step)) {
      if (literal->synchronizing) send("+ Ready for literal data\r\n");
      continue;
    }
    if (auto* bad = std::get_if<BadCommand>(&step)) {
      const bool limit =
          send_tagged((bad->tag.empty() ? std::string("*") : bad->tag) + " BAD " +
                      (bad->code.empty() ? "" : "[" + bad->code + "] ") + bad->text + "\r\n");
      if (bad->fatal || limit) {
        co_await flush();
        co_return std::nullopt;
      }
      continue;
    }
    if (!co_await flush() || !co_await read_more(timeout)) co_return std::nullopt;
  }
}

bool Connection::send_tagged(std::string_view response) {
  send(response);
  const auto space = response.find(' ');
  if (space == std::string_view::npos || response.substr(space + 1, 4) != "BAD ") {
    bad_commands_ = 0;
    return false;
  }
  if (++bad_commands_ < options_.max_bad_commands) return false;
  send("* BYE Too many invalid commands\r\n");
  return true;
}

asio::awaitable<std::optional<std::string>> Connection::read_line(std::chrono::seconds timeout) {
  for (;;) {
    std::string_view pending = input_;
    LineStep step = parser_.take_line(pending);
    input_.erase(0, input_.size() - pending.size());
    if (auto* line = std::get_if<std::string>(&step)) co_return std::move(*line);
    if (std::holds_alternative<BadCommand>(step)) co_return std::nullopt;
    if (!co_await flush() || !co_await read_more(timeout)) co_return std::nullopt;
  }
}

asio::awaitable<bool> Connection::start_tls() {
  // Bytes pipelined after STARTTLS were sent in the clear: drop them (CVE-2011-0411 class).
  input_.clear();
  parser_.reset();
  co_return co_await stream_.start_tls(kTlsHandshakeTimeout);
}

bool Connection::start_compress() {
  auto deflater = std::make_unique<z_stream>();
  auto inflater = std::make_unique<z_stream>();
  // RFC 4978 §3: raw DEFLATE (RFC 1951), no zlib header.
  if (deflateInit2(deflater.get(), Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return false;
  }
  if (inflateInit2(inflater.get(), -15) != Z_OK) {
    deflateEnd(deflater.get());
    return false;
  }
  deflate_ = std::move(deflater);
  inflate_ = std::move(inflater);
  // RFC 4978 §3: the client sends nothing compressed before our OK, so nothing is
  // pending here.
  input_.clear();
  return true;
}

}  // namespace rampart::imap
