// The outbound SMTP client (RFC 5321): one session to one address of a remote MX that
// offers a message to some of its recipients: EHLO, STARTTLS when offered (RFC 3207),
// SIZE refused up front (RFC 1870), SMTPUTF8 needed but not offered refused (RFC 6531),
// MAIL and RCPT pipelined when offered (RFC 2920), DSN parameters passed on (RFC 3461),
// DATA with dot-stuffing, QUIT. Replies through the pure ReplyParser; every step has
// the timeout RFC 5321 section 4.5.3.2 names.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  bool delivered() const { return code / 100 == 2; }
  bool permanent() const { return code / 100 == 5; }
};

struct SessionOutcome {
  bool tls = false;                 // the message went over TLS
  std::string tls_description;      // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  std::vector<Attempt> recipients;  // in the message's order
};

struct ClientOptions {
  std::string helo_name;  // this server's host name
  std::uint16_t port = 25;
  // STARTTLS when offered (opportunistic: the certificate is not checked yet); null:
  // never.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

// Offers `message` to `address` (the MX host `host`, for SNI and logs). A failure to
// connect or a broken session gives every recipient without a reply a 4xx Attempt.
boost::asio::awaitable<SessionOutcome> send_message(boost::asio::any_io_executor executor,
                                                    const ClientOptions& options, std::string host,
                                                    std::string address,
                                                    const OutboundMessage& message);

}  // namespace rampart::smtp
