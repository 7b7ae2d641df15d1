// The outbound SMTP client (RFC 5321): one connection to one address of a remote MX,
// carrying one message after another. Opening it reads the greeting, says EHLO and
// starts TLS as the destination's TLS policy demands (RFC 3207; certificates checked
// for DANE, RFC 7672, and PKIX, RFC 8461); each transaction refuses up front what the
// server's SIZE refuses (RFC 1870) and internationalized mail a server without
// SMTPUTF8 cannot take (RFC 6531), pipelines MAIL and RCPT when offered (RFC 2920),
// passes the DSN parameters on (RFC 3461), and sends the message with BDAT when
// CHUNKING is offered (RFC 3030), otherwise DATA with dot-stuffing. Replies through the
// pure ReplyParser; every step has the timeout RFC 5321 section 4.5.3.2 names.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "dns/rdata.h"

namespace rampart::smtp {

struct OutboundRecipient {
  std::string address;
  std::string notify;  // NOTIFY= (passed on when the server offers DSN)
  std::string orcpt;   // ORCPT=
};

struct OutboundMessage {
  std::string mail_from;  // empty: <>
  std::vector<OutboundRecipient> recipients;
  std::string ret, envid;  // RET=, ENVID=
  std::string_view data;   // the message, CRLF line ends
};

struct Attempt {
  int code = 0;          // the reply that decides it; 0: never sent (a failure before RCPT)
  std::string enhanced;  // RFC 3463 code of that reply, or one of ours
  std::string text;      // "550 5.1.1 no such user", for the log and a DSN
  // When TLS the policy required could not be had: the failure as SMTP TLS reporting
  // names it (RFC 8460 section 4.3: "certificate-host-mismatch", ...).
  std::string tls_failure;
  bool delivered() const { return code / 100 == 2; }
  bool permanent() const { return code / 100 == 5; }
};

// What TLS the connection must have: the strictest that applies to the host is chosen
// by the delivery service (docs/delivery.md "TLS policy").
struct TlsPolicy {
  enum class Level {
    Opportunistic,  // STARTTLS when offered, certificate not checked; cleartext otherwise
    Encrypt,        // STARTTLS required, certificate not checked
    Verify,         // STARTTLS required, certificate chain trusted and naming `names`
    Dane,           // STARTTLS required, certificate matching a record of `tlsa`
  };
  Level level = Level::Opportunistic;
  std::vector<std::string> names;  // Verify and DANE-TA: names the certificate must carry
  std::vector<dns::Tlsa> tlsa;     // Dane: the host's usable (DANE-TA, DANE-EE) records
};
const char* to_string(TlsPolicy::Level level);

struct ClientOptions {
  std::string helo_name;  // this server's host name
  std::uint16_t port = 25;
  // The client context, with DANE enabled and the PKIX trust anchors loaded; its
  // default is not to check certificates (the policy turns checks on). Null: no TLS.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class Client {
 public:
  // A connection to `address` (an address of the MX host `host`, named for SNI and
  // certificate checks) that has said EHLO and started TLS as `policy` demands, or the
  // 4xx Attempt that says why there is none: 4.4.1 no connection or greeting, 4.7.5 TLS
  // required but not offered or the certificate not accepted.
  static boost::asio::awaitable<std::variant<std::unique_ptr<Client>, Attempt>> open(
      boost::asio::any_io_executor executor, const ClientOptions& options, std::string host,
      std::string address, TlsPolicy policy);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One transaction: an Attempt per recipient, in the message's order. A broken
  // connection gives those without a reply 4.4.1, and the client is then not usable.
  boost::asio::awaitable<std::vector<Attempt>> send(const OutboundMessage& message);
  // Whether another transaction may follow on this connection.
  bool usable() const;
  // QUIT, and the connection closed.
  boost::asio::awaitable<void> quit();

  bool tls() const;
  const std::string& tls_description() const;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  const std::string& host() const;
  const std::string& address() const;

 private:
  struct State;
  explicit Client(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace rampart::smtp
