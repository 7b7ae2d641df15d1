#include <boost/asio/thread_pool.hpp>

#include "auth/login.h"
#include "auth/sasl.h"
#include "base/log.h"
#include "directory/directory.h"
#include "imap/connection_internal.h"
#include "imap/preauth_internal.h"

namespace rampart::imap {

namespace asio = boost::asio;

namespace {

constexpr const char* kBaseCapabilities = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE";

}  // namespace

std::string preauth_capabilities(net::Stream& stream) {
  std::string out = kBaseCapabilities;
  if (stream.can_start_tls()) out += " STARTTLS";
  // RFC 9051 §6.2.3: no plaintext passwords where they could be read on the wire.
  out += stream.is_tls() || stream.is_loopback() ? " AUTH=PLAIN AUTH=LOGIN" : " LOGINDISABLED";
  return out;
}

namespace {

using auth::Credentials;

class Preauth {
 public:
  Preauth(Connection& connection, directory::Directory& directory, asio::thread_pool& blocking)
      : connection_(connection), directory_(directory), blocking_(blocking) {}

  asio::awaitable<std::optional<LoggedIn>> run();

 private:
  void reply(const Command& command, std::string_view text) {
    closing_ = connection_.send_tagged(command.tag + " " + std::string(text) + "\r\n") || closing_;
  }
  // Takes a reference: GCC 12 destroys a braced temporary passed by value to a
  // coroutine twice (GCC bug 101367), so callers pass a named variable.
  asio::awaitable<std::optional<LoggedIn>> login(const Command& command,
                                                 const Credentials& credentials);
  asio::awaitable<std::optional<Credentials>> authenticate(const Command& command);
  bool plaintext_allowed() const {
    return connection_.stream().is_tls() || connection_.stream().is_loopback();
  }

  Connection& connection_;
  directory::Directory& directory_;
  asio::thread_pool& blocking_;
  // A failed login: after kMaxFailedLogins on one connection it is closed (as Dovecot
  // does), so a guesser pays a new connection, and the per-address cap, for each few.
  void failed_login() {
    if (++failed_logins_ < kMaxFailedLogins) return;
    connection_.send("* BYE Too many failed logins\r\n");
    closing_ = true;
  }

  static constexpr int kMaxFailedLogins = 3;
  int failed_logins_ = 0;
  bool closing_ = false;  // too many BAD replies or failed logins
};

asio::awaitable<std::optional<LoggedIn>> Preauth::run() {
  const auto timeout = connection_.options().preauth_timeout;
  for (;;) {
    if (closing_) {
      co_await connection_.flush();
      co_return std::nullopt;
    }
    auto command = co_await connection_.next_command(timeout);
    if (!command) co_return std::nullopt;
    const std::string& name = command->name;
    if (command->uid) {
      reply(*command, "BAD Log in first");
    } else if (name == "CAPABILITY") {
      connection_.send("* CAPABILITY " + preauth_capabilities(connection_.stream()) + "\r\n");
      reply(*command, "OK CAPABILITY completed");
    } else if (name == "NOOP") {
      reply(*command, "OK NOOP completed");
    } else if (name == "LOGOUT") {
      connection_.send("* BYE Logging out\r\n");
      reply(*command, "OK LOGOUT completed");
      co_await connection_.flush();
      co_return std::nullopt;
    } else if (name == "ID") {
      connection_.send(id_response());
      reply(*command, "OK ID completed");
    } else if (name == "STARTTLS") {
      if (!connection_.stream().can_start_tls()) {
        reply(*command, "BAD STARTTLS not available");
        continue;
      }
      reply(*command, "OK Begin TLS negotiation now");
      if (!co_await connection_.flush() || !co_await connection_.start_tls())
        co_return std::nullopt;
    } else if (name == "LOGIN") {
      const auto& arguments = command->arguments;
      if (arguments.size() != 2 || !arguments[0].astring() || !arguments[1].astring()) {
        reply(*command, "BAD LOGIN takes a user name and a password");
      } else if (!plaintext_allowed()) {
        reply(*command, "NO [PRIVACYREQUIRED] Use STARTTLS first");
      } else {
        const Credentials credentials{std::string(*arguments[0].astring()),
                                      std::string(*arguments[1].astring())};
        auto account = co_await login(*command, credentials);
        if (account) co_return account;
      }
    } else if (name == "AUTHENTICATE") {
      if (!plaintext_allowed()) {
        reply(*command, "NO [PRIVACYREQUIRED] Use STARTTLS first");
        continue;
      }
      auto credentials = co_await authenticate(*command);
      if (!credentials) continue;  // answered already
      auto account = co_await login(*command, *credentials);
      if (account) co_return account;
    } else {
      reply(*command, "BAD Unknown command, or not before login");
    }
  }
}

asio::awaitable<std::optional<Credentials>> Preauth::authenticate(const Command& command) {
  const auto& arguments = command.arguments;
  if (arguments.empty() || arguments.size() > 2 || arguments[0].kind != Token::Kind::Atom) {
    reply(command, "BAD AUTHENTICATE takes a mechanism and an optional initial response");
    co_return std::nullopt;
  }
  const auto timeout = connection_.options().preauth_timeout;
  // SASL-IR (RFC 4959): the first response may come with the command; "=" is empty.
  std::optional<std::string> initial;
  if (arguments.size() == 2) {
    initial = arguments[1].text == "=" ? std::string() : arguments[1].text;
  }
  auto next_response =
      [&](std::string_view challenge) -> asio::awaitable<std::optional<std::string>> {
    connection_.send("+ " + std::string(challenge) + "\r\n");
    auto line = co_await connection_.read_line(timeout);
    if (line && *line == "*") {
      reply(command, "BAD AUTHENTICATE cancelled");
      co_return std::nullopt;
    }
    if (!line) reply(command, "BAD Malformed AUTHENTICATE response");
    co_return line;
  };
  const auto mechanism = auth::parse_mechanism(arguments[0].text);
  if (mechanism == auth::Mechanism::Plain) {
    if (!initial) initial = co_await next_response("");
    if (!initial) co_return std::nullopt;
    // An authzid naming another user (NoPermission) gets the BAD of a malformed one.
    auto credentials = auth::decode_plain(*initial);
    if (!credentials) {
      reply(command, "BAD Malformed PLAIN response");
      co_return std::nullopt;
    }
    co_return std::move(*credentials);
  }
  if (mechanism == auth::Mechanism::Login) {
    std::optional<std::string> user = initial;
    if (!user) user = co_await next_response(auth::kLoginUserChallenge);
    if (!user) co_return std::nullopt;
    auto password = co_await next_response(auth::kLoginPasswordChallenge);
    if (!password) co_return std::nullopt;
    auto credentials = auth::decode_login(*user, *password);
    if (!credentials) {
      reply(command, "BAD Malformed LOGIN response");
      co_return std::nullopt;
    }
    co_return std::move(*credentials);
  }
  reply(command, "NO [CANNOT] Unsupported authentication mechanism");
  co_return std::nullopt;
}

asio::awaitable<std::optional<LoggedIn>> Preauth::login(const Command& command,
                                                        const Credentials& credentials) {
  auto login =
      co_await auth::network_login(directory_, blocking_, connection_.stream().peer_address(),
                                   credentials.user, credentials.password, "imap");
  if (login.refused) {
    reply(command, "NO [UNAVAILABLE] Too many failed logins, try again later");
    failed_login();
    co_return std::nullopt;
  }
  auto& account = login.account;
  if (!account) {
    // The same words for an unknown user and a wrong password.
    reply(command, account.error().code == Errc::Internal
                       ? "NO [UNAVAILABLE] Try again later"
                       : "NO [AUTHENTICATIONFAILED] Authentication failed");
    failed_login();
    co_return std::nullopt;
  }
  reply(command, "OK [CAPABILITY " + authenticated_capabilities() + "] Logged in");
  co_return LoggedIn{std::move(*account), login.credentials_as_of};
}

}  // namespace

std::string authenticated_capabilities() {
  return std::string(kBaseCapabilities) +
         " NAMESPACE UNSELECT UIDPLUS MOVE CONDSTORE QRESYNC ESEARCH SEARCHRES LIST-EXTENDED "
         "LIST-STATUS SPECIAL-USE STATUS=SIZE MULTIAPPEND BINARY CHILDREN SORT SORT=DISPLAY "
         "THREAD=ORDEREDSUBJECT THREAD=REFERENCES UTF8=ACCEPT COMPRESS=DEFLATE QUOTA "
         "QUOTA=RES-STORAGE OBJECTID NOTIFY";
}

std::string id_response() { return "* ID (\"name\" \"Rampart\" \"vendor\" \"Rampart\")\r\n"; }

asio::awaitable<std::optional<LoggedIn>> run_preauth(Connection& connection,
                                                     directory::Directory& directory,
                                                     asio::thread_pool& blocking) {
  Preauth preauth(connection, directory, blocking);
  co_return co_await preauth.run();
}

}  // namespace rampart::imap
