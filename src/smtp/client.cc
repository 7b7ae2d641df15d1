#include "smtp/client.h"

#include <algorithm>
#include <optional>

#include "base/ascii.h"
#include "net/stream.h"
#include "smtp/reply_parser.h"

namespace rampart::smtp {

namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

// RFC 5321 section 4.5.3.2.
constexpr seconds kConnect{60}, kGreeting{300}, kCommand{300}, kDataStart{120}, kDataBlock{180},
    kDataEnd{600}, kQuit{10};
constexpr std::size_t kReadChunk = 16 * 1024;

std::string header_of(std::string_view data) {
  const auto end = data.find("\r\n\r\n");
  return std::string(end == std::string_view::npos ? data : data.substr(0, end));
}

// The message with each line that starts with "." given another (RFC 5321 section
// 4.5.2), ending in CRLF "." CRLF.
std::string dot_stuffed(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 64 + 8);
  bool line_start = true;
  for (char c : data) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  out += ".\r\n";
  return out;
}

Attempt attempt_of(const Reply& reply) {
  std::string text = std::to_string(reply.code);
  if (!reply.enhanced.empty()) text += " " + reply.enhanced;
  for (const std::string& line : reply.lines) text += " " + line;
  return {.code = reply.code, .enhanced = reply.enhanced, .text = std::move(text)};
}

class Session {
 public:
  Session(net::Socket socket, std::shared_ptr<asio::ssl::context> tls)
      : stream_(std::move(socket), std::move(tls)) {}

  net::Stream& stream() { return stream_; }

  asio::awaitable<std::optional<Reply>> reply(seconds timeout) {
    for (;;) {
      std::string_view pending = input_;
      ReplyStep step = parser_.feed(pending);
      input_.erase(0, input_.size() - pending.size());
      if (auto* reply = std::get_if<Reply>(&step)) co_return std::move(*reply);
      if (std::holds_alternative<BadReply>(step)) co_return std::nullopt;
      const std::size_t chunk = kReadChunk;
      const bool read = co_await stream_.read_some(input_, chunk, timeout);
      if (!read) {
        co_return std::nullopt;
      }
    }
  }

  asio::awaitable<bool> send(std::string_view bytes, seconds timeout) {
    co_return co_await stream_.write(bytes, timeout);
  }

  // After STARTTLS: nothing said before the handshake counts (RFC 3207 section 4.2).
  void forget_input() {
    input_.clear();
    parser_.reset();
  }

 private:
  net::Stream stream_;
  ReplyParser parser_;
  std::string input_;
};

}  // namespace

// Written in the plain form src/pop3/connection.cc explains (GCC 12 builds the frames
// of compact co_await forms wrongly): every co_await is a statement of its own whose
// value goes to a named local, with named locals as arguments.
asio::awaitable<SessionOutcome> send_message(asio::any_io_executor executor,
                                             const ClientOptions& options, std::string host,
                                             std::string address, const OutboundMessage& message) {
  SessionOutcome outcome;
  outcome.recipients.resize(message.recipients.size());
  // Every recipient without a reply yet gets this one.
  auto settle = [&](const Attempt& attempt) {
    for (Attempt& recipient : outcome.recipients) {
      if (recipient.code == 0) recipient = attempt;
    }
  };
  auto temporary = [&](const std::string& why) {
    settle({.code = 451, .enhanced = "4.4.1", .text = "451 4.4.1 " + host + ": " + why});
  };
  const bool needs_utf8 = !is_ascii(message.mail_from) || !is_ascii(header_of(message.data)) ||
                          std::any_of(message.recipients.begin(), message.recipients.end(),
                                      [](const auto& r) { return !is_ascii(r.address); });
  const bool eight_bit = !is_ascii(message.data);
  const std::uint16_t port = options.port;
  const seconds connect_timeout = kConnect, greeting_timeout = kGreeting,
                command_timeout = kCommand, data_start = kDataStart, data_block = kDataBlock,
                data_end = kDataEnd, quit_timeout = kQuit;
  const std::string ehlo = "EHLO " + options.helo_name + "\r\n";
  const std::string starttls = "STARTTLS\r\n", data_command = "DATA\r\n", quit = "QUIT\r\n";
  // A server whose TLS fails is offered the message in the clear once (opportunistic TLS).
  const bool tls_first[] = {options.tls != nullptr, false};
  for (const bool use_tls : tls_first) {
    std::optional<net::Socket> socket =
        co_await net::Stream::connect(executor, address, port, connect_timeout);
    if (!socket) {
      temporary("cannot connect to " + address);
      co_return outcome;
    }
    Session session(std::move(*socket), use_tls ? options.tls : nullptr);
    std::optional<Reply> greeting = co_await session.reply(greeting_timeout);
    if (!greeting || !greeting->positive()) {
      temporary(greeting ? attempt_of(*greeting).text : "no greeting");
      co_return outcome;
    }
    bool sent = co_await session.send(ehlo, command_timeout);
    std::optional<Reply> hello;
    if (sent) {
      hello = co_await session.reply(command_timeout);
    }
    if (!hello || !hello->positive()) {
      temporary(hello ? "EHLO: " + attempt_of(*hello).text : "EHLO failed");
      co_return outcome;
    }
    EhloCapabilities capabilities = parse_ehlo(*hello);
    if (use_tls && capabilities.starttls) {
      sent = co_await session.send(starttls, command_timeout);
      std::optional<Reply> ready;
      if (sent) {
        ready = co_await session.reply(command_timeout);
      }
      bool secured = false;
      if (ready && ready->code == 220) {
        secured = co_await session.stream().start_tls_client(host, command_timeout);
      }
      if (!secured) {
        continue;  // once more, in the clear
      }
      session.forget_input();
      hello.reset();
      sent = co_await session.send(ehlo, command_timeout);
      if (sent) {
        hello = co_await session.reply(command_timeout);
      }
      if (!hello || !hello->positive()) {
        temporary("EHLO after STARTTLS failed");
        co_return outcome;
      }
      capabilities = parse_ehlo(*hello);
      outcome.tls = true;
      outcome.tls_description = session.stream().tls_description();
    }
    // What the server says up front it will refuse is not sent.
    std::optional<Attempt> refused;
    if (capabilities.max_size != 0 && message.data.size() > capabilities.max_size) {
      refused = Attempt{.code = 552,
                        .enhanced = "5.3.4",
                        .text = "552 5.3.4 " + host + " takes messages of at most " +
                                std::to_string(capabilities.max_size) + " bytes"};
    } else if (needs_utf8 && !capabilities.smtputf8) {
      refused =
          Attempt{.code = 553,
                  .enhanced = "5.6.7",
                  .text = "553 5.6.7 " + host + " does not take internationalized mail (SMTPUTF8)"};
    }
    if (refused) {
      settle(*refused);
      sent = co_await session.send(quit, quit_timeout);
      co_return outcome;
    }
    std::string mail = "MAIL FROM:<" + message.mail_from + ">";
    if (capabilities.size) mail += " SIZE=" + std::to_string(message.data.size());
    if (eight_bit && capabilities.eight_bit_mime) mail += " BODY=8BITMIME";
    if (needs_utf8) mail += " SMTPUTF8";
    if (capabilities.dsn && !message.ret.empty()) mail += " RET=" + message.ret;
    if (capabilities.dsn && !message.envid.empty()) mail += " ENVID=" + message.envid;
    std::vector<std::string> commands{mail + "\r\n"};
    for (const OutboundRecipient& recipient : message.recipients) {
      std::string rcpt = "RCPT TO:<" + recipient.address + ">";
      if (capabilities.dsn && !recipient.notify.empty()) rcpt += " NOTIFY=" + recipient.notify;
      if (capabilities.dsn && !recipient.orcpt.empty()) rcpt += " ORCPT=" + recipient.orcpt;
      commands.push_back(rcpt + "\r\n");
    }
    // Pipelined (RFC 2920): MAIL and every RCPT in one write, the replies read in order.
    std::vector<std::optional<Reply>> replies;
    if (capabilities.pipelining) {
      std::string batch;
      for (const std::string& command : commands) batch += command;
      sent = co_await session.send(batch, command_timeout);
      for (std::size_t i = 0; sent && i < commands.size(); ++i) {
        std::optional<Reply> reply = co_await session.reply(command_timeout);
        replies.push_back(std::move(reply));
        if (!replies.back()) {
          break;
        }
      }
    } else {
      for (const std::string& command : commands) {
        sent = co_await session.send(command, command_timeout);
        if (!sent) {
          break;
        }
        std::optional<Reply> reply = co_await session.reply(command_timeout);
        replies.push_back(std::move(reply));
        if (!replies.back() || !replies.front()->positive()) {
          break;
        }
      }
    }
    if (replies.empty() || !replies.front()) {
      temporary("MAIL FROM got no reply");
      co_return outcome;
    }
    if (!replies.front()->positive()) {
      settle(attempt_of(*replies.front()));
      sent = co_await session.send(quit, quit_timeout);
      co_return outcome;
    }
    std::vector<std::size_t> accepted;
    for (std::size_t i = 0; i < message.recipients.size(); ++i) {
      if (i + 1 >= replies.size() || !replies[i + 1]) break;
      if (replies[i + 1]->positive()) {
        accepted.push_back(i);
      } else {
        outcome.recipients[i] = attempt_of(*replies[i + 1]);
      }
    }
    if (accepted.empty()) {
      temporary("no reply to RCPT");  // those that had none
      sent = co_await session.send(quit, quit_timeout);
      co_return outcome;
    }
    sent = co_await session.send(data_command, data_start);
    std::optional<Reply> go;
    if (sent) {
      go = co_await session.reply(data_start);
    }
    if (!go || go->code != 354) {
      if (go) {
        for (std::size_t i : accepted) outcome.recipients[i] = attempt_of(*go);
      }
      temporary("DATA refused");
      co_return outcome;
    }
    const std::string body = dot_stuffed(message.data);
    sent = co_await session.send(body, data_block);
    std::optional<Reply> done;
    if (sent) {
      done = co_await session.reply(data_end);
    }
    if (!done) {
      // No answer to the end of data: it may have been taken. RFC 5321 section 6.1
      // prefers a duplicate to a loss: tried again later.
      temporary("no reply after the message was sent");
      co_return outcome;
    }
    for (std::size_t i : accepted) outcome.recipients[i] = attempt_of(*done);
    sent = co_await session.send(quit, quit_timeout);
    if (sent) {
      const std::optional<Reply> bye = co_await session.reply(quit_timeout);  // not needed
    }
    co_return outcome;
  }
  temporary("TLS handshake failed");
  co_return outcome;
}

}  // namespace rampart::smtp
