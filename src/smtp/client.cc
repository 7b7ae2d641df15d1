#include "smtp/client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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

// Sets on `ssl` what the peer's certificate must be under `policy`: for DANE the TLSA
// records (RFC 7672 section 3: DANE-EE without name checks, DANE-TA with them), for
// PKIX the names; both with the peer verified. False when nothing usable was set.
bool require_certificate(SSL* ssl, const TlsPolicy& policy, const std::string& host) {
  if (policy.level == TlsPolicy::Level::Dane) {
    if (SSL_dane_enable(ssl, host.c_str()) <= 0) return false;
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    int usable = 0;
    for (const dns::Tlsa& record : policy.tlsa) {
      const auto* data = reinterpret_cast<const unsigned char*>(record.data.data());
      if (SSL_dane_tlsa_add(ssl, record.usage, record.selector, record.matching, data,
                            record.data.size()) > 0) {
        ++usable;
      }
    }
    if (usable == 0) return false;
  } else if (!net::require_peer_name(ssl, host)) {
    return false;
  }
  for (const std::string& name : policy.names) {
    if (name != host && SSL_add1_host(ssl, name.c_str()) != 1) return false;
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  return true;
}

// RFC 8460 section 4.3's name for why a certificate was not accepted.
std::string report_type_of(long verify_result) {
  switch (verify_result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return "certificate-host-mismatch";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate-expired";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return "certificate-not-trusted";
    default:
      return "validation-failure";  // DANE's "no matching TLSA records" among them
  }
}

}  // namespace

const char* to_string(TlsPolicy::Level level) {
  switch (level) {
    case TlsPolicy::Level::Opportunistic:
      return "opportunistic";
    case TlsPolicy::Level::Encrypt:
      return "encrypt";
    case TlsPolicy::Level::Verify:
      return "verify";
    case TlsPolicy::Level::Dane:
      return "dane";
  }
  return "?";
}

struct Client::State {
  State(net::Socket socket, std::shared_ptr<asio::ssl::context> tls, std::string host_name,
        std::string host_address)
      : stream(std::move(socket), std::move(tls)),
        host(std::move(host_name)),
        address(std::move(host_address)) {}

  net::Stream stream;
  ReplyParser parser;
  std::string input;
  std::string host, address;
  EhloCapabilities capabilities;
  bool tls = false;
  std::string tls_description;
  bool broken = false;      // the connection failed or the server said goodbye
  bool needs_rset = false;  // a transaction was left open

  asio::awaitable<std::optional<Reply>> reply(seconds timeout) {
    for (;;) {
      std::string_view pending = input;
      ReplyStep step = parser.feed(pending);
      input.erase(0, input.size() - pending.size());
      if (auto* reply = std::get_if<Reply>(&step)) {
        if (reply->code == 421) broken = true;  // the server is closing (RFC 5321 3.8)
        co_return std::move(*reply);
      }
      if (std::holds_alternative<BadReply>(step)) {
        broken = true;
        co_return std::nullopt;
      }
      const std::size_t chunk = kReadChunk;
      const bool read = co_await stream.read_some(input, chunk, timeout);
      if (!read) {
        broken = true;
        co_return std::nullopt;
      }
    }
  }

  asio::awaitable<bool> send(std::string_view bytes, seconds timeout) {
    const bool sent = co_await stream.write(bytes, timeout);
    if (!sent) broken = true;
    co_return sent;
  }

  // Sends `command` and reads its reply; nullopt when the connection broke.
  asio::awaitable<std::optional<Reply>> command(std::string_view command, seconds timeout) {
    const bool sent = co_await send(command, timeout);
    std::optional<Reply> answer;
    if (sent) {
      answer = co_await reply(timeout);
    }
    co_return answer;
  }

  // After STARTTLS: nothing said before the handshake counts (RFC 3207 section 4.2).
  void forget_input() {
    input.clear();
    parser.reset();
  }
};

Client::Client(std::unique_ptr<State> state) : state_(std::move(state)) {}
Client::~Client() = default;
bool Client::usable() const { return !state_->broken; }
bool Client::tls() const { return state_->tls; }
const std::string& Client::tls_description() const { return state_->tls_description; }
const std::string& Client::host() const { return state_->host; }
const std::string& Client::address() const { return state_->address; }

// Written in the plain form src/pop3/connection.cc explains (GCC 12 builds the frames
// of compact co_await forms wrongly): every co_await is a statement of its own whose
// value goes to a named local, with named locals as arguments.
asio::awaitable<std::variant<std::unique_ptr<Client>, Attempt>> Client::open(
    asio::any_io_executor executor, const ClientOptions& options, std::string host,
    std::string address, TlsPolicy policy) {
  using Level = TlsPolicy::Level;
  auto failure = [&](std::string_view code, const std::string& why) {
    return Attempt{.code = 451,
                   .enhanced = std::string(code),
                   .text = "451 " + std::string(code) + " " + host + "[" + address + "]: " + why};
  };
  const bool tls_required = policy.level != Level::Opportunistic;
  const bool check_certificate = policy.level == Level::Verify || policy.level == Level::Dane;
  if (tls_required && !options.tls) {
    co_return failure("4.7.5", "TLS required but this server has no TLS client");
  }
  const std::uint16_t port = options.port;
  const seconds connect_timeout = kConnect, greeting_timeout = kGreeting,
                command_timeout = kCommand;
  const std::string ehlo = "EHLO " + options.helo_name + "\r\n";
  const std::string starttls = "STARTTLS\r\n";
  // Opportunistic TLS whose handshake fails is tried once more in the clear (RFC 7435);
  // a policy that requires TLS never falls back.
  const bool tls_first[] = {options.tls != nullptr, false};
  for (const bool use_tls : tls_first) {
    std::optional<net::Socket> socket =
        co_await net::Stream::connect(executor, address, port, connect_timeout);
    if (!socket) {
      co_return failure("4.4.1", "cannot connect");
    }
    auto state =
        std::make_unique<State>(std::move(*socket), use_tls ? options.tls : nullptr, host, address);
    std::optional<Reply> greeting = co_await state->reply(greeting_timeout);
    if (!greeting || !greeting->positive()) {
      co_return failure("4.4.1", greeting ? attempt_of(*greeting).text : "no greeting");
    }
    std::optional<Reply> hello = co_await state->command(ehlo, command_timeout);
    if (!hello || !hello->positive()) {
      co_return failure("4.4.1", hello ? "EHLO: " + attempt_of(*hello).text : "EHLO failed");
    }
    state->capabilities = parse_ehlo(*hello);
    if (use_tls && state->capabilities.starttls) {
      std::optional<Reply> ready = co_await state->command(starttls, command_timeout);
      bool secured = false;
      long verify_result = X509_V_OK;
      std::string why = ready ? "STARTTLS: " + attempt_of(*ready).text : "STARTTLS failed";
      if (ready && ready->code == 220) {
        const std::function<bool(SSL*)> configure = [&policy, &host](SSL* ssl) {
          return require_certificate(ssl, policy, host);
        };
        const std::function<bool(SSL*)> none;
        secured = co_await state->stream.start_tls_client(host, command_timeout,
                                                          check_certificate ? configure : none);
        verify_result = state->stream.tls_verify_result();
        why = verify_result == X509_V_OK
                  ? "TLS handshake failed"
                  : "certificate not accepted (" + std::string(to_string(policy.level)) +
                        "): " + X509_verify_cert_error_string(verify_result);
      }
      if (!secured) {
        if (tls_required) {
          Attempt refused = failure("4.7.5", why);
          refused.tls_failure = report_type_of(verify_result);
          co_return refused;
        }
        continue;  // once more, in the clear
      }
      state->forget_input();
      hello = co_await state->command(ehlo, command_timeout);
      if (!hello || !hello->positive()) {
        co_return failure("4.4.1", "EHLO after STARTTLS failed");
      }
      state->capabilities = parse_ehlo(*hello);
      state->tls = true;
      state->tls_description = state->stream.tls_description();
    } else if (tls_required) {
      const std::string quit = "QUIT\r\n";
      const seconds quit_timeout = kQuit;
      const bool sent = co_await state->send(quit, quit_timeout);
      static_cast<void>(sent);
      Attempt refused = failure("4.7.5", std::string("TLS required (") + to_string(policy.level) +
                                             ") but STARTTLS not offered");
      refused.tls_failure = "starttls-not-supported";
      co_return refused;
    }
    co_return std::unique_ptr<Client>(new Client(std::move(state)));
  }
  co_return failure("4.4.1", "TLS handshake failed");
}

asio::awaitable<std::vector<Attempt>> Client::send(const OutboundMessage& message) {
  State& state = *state_;
  const EhloCapabilities& capabilities = state.capabilities;
  std::vector<Attempt> outcome(message.recipients.size());
  // Every recipient without a reply yet gets this one.
  auto settle = [&](const Attempt& attempt) {
    for (Attempt& recipient : outcome) {
      if (recipient.code == 0) recipient = attempt;
    }
  };
  auto temporary = [&](const std::string& why) {
    settle({.code = 451, .enhanced = "4.4.1", .text = "451 4.4.1 " + state.host + ": " + why});
  };
  const seconds command_timeout = kCommand, data_start = kDataStart, data_block = kDataBlock,
                data_end = kDataEnd;
  if (state.broken) {
    temporary("connection lost");
    co_return outcome;
  }
  const bool needs_utf8 = !is_ascii(message.mail_from) || !is_ascii(header_of(message.data)) ||
                          std::any_of(message.recipients.begin(), message.recipients.end(),
                                      [](const auto& r) { return !is_ascii(r.address); });
  const bool eight_bit = !is_ascii(message.data);
  // What the server says up front it will refuse is not sent.
  if (capabilities.max_size != 0 && message.data.size() > capabilities.max_size) {
    settle({.code = 552,
            .enhanced = "5.3.4",
            .text = "552 5.3.4 " + state.host + " takes messages of at most " +
                    std::to_string(capabilities.max_size) + " bytes"});
    co_return outcome;
  }
  if (needs_utf8 && !capabilities.smtputf8) {
    settle(
        {.code = 553,
         .enhanced = "5.6.7",
         .text = "553 5.6.7 " + state.host + " does not take internationalized mail (SMTPUTF8)"});
    co_return outcome;
  }
  if (state.needs_rset) {
    const std::string rset = "RSET\r\n";
    std::optional<Reply> reset = co_await state.command(rset, command_timeout);
    if (!reset || !reset->positive()) {
      state.broken = true;
      temporary("RSET failed");
      co_return outcome;
    }
    state.needs_rset = false;
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
    const bool sent = co_await state.send(batch, command_timeout);
    for (std::size_t i = 0; sent && i < commands.size(); ++i) {
      std::optional<Reply> reply = co_await state.reply(command_timeout);
      replies.push_back(std::move(reply));
      if (!replies.back()) {
        break;
      }
    }
  } else {
    for (const std::string& command : commands) {
      std::optional<Reply> reply = co_await state.command(command, command_timeout);
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
    co_return outcome;
  }
  state.needs_rset = true;  // until the message is sent
  std::vector<std::size_t> accepted;
  for (std::size_t i = 0; i < message.recipients.size(); ++i) {
    if (i + 1 >= replies.size() || !replies[i + 1]) break;
    if (replies[i + 1]->positive()) {
      accepted.push_back(i);
    } else {
      outcome[i] = attempt_of(*replies[i + 1]);
    }
  }
  if (accepted.empty()) {
    temporary("no reply to RCPT");  // those that had none
    co_return outcome;
  }
  std::optional<Reply> done;
  if (capabilities.chunking) {
    // One chunk (RFC 3030): no dot-stuffing, one round trip instead of two.
    std::string chunk = "BDAT " + std::to_string(message.data.size()) + " LAST\r\n";
    chunk += message.data;
    const bool sent = co_await state.send(chunk, data_block);
    if (sent) {
      done = co_await state.reply(data_end);
    }
  } else {
    const std::string data_command = "DATA\r\n";
    std::optional<Reply> go = co_await state.command(data_command, data_start);
    if (!go || go->code != 354) {
      if (go) {
        for (std::size_t i : accepted) outcome[i] = attempt_of(*go);
      }
      temporary("DATA refused");
      co_return outcome;
    }
    const std::string body = dot_stuffed(message.data);
    const bool sent = co_await state.send(body, data_block);
    if (sent) {
      done = co_await state.reply(data_end);
    }
  }
  if (!done) {
    // No answer to the end of the message: it may have been taken. RFC 5321 section 6.1
    // prefers a duplicate to a loss: tried again later.
    temporary("no reply after the message was sent");
    co_return outcome;
  }
  state.needs_rset = false;
  for (std::size_t i : accepted) outcome[i] = attempt_of(*done);
  co_return outcome;
}

asio::awaitable<void> Client::quit() {
  if (!state_->broken) {
    const std::string quit = "QUIT\r\n";
    const seconds quit_timeout = kQuit;
    const std::optional<Reply> bye = co_await state_->command(quit, quit_timeout);
    static_cast<void>(bye);  // not needed
  }
  state_->broken = true;
  state_->stream.close();
}

}  // namespace rampart::smtp
