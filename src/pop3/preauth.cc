#include <boost/asio/thread_pool.hpp>

#include "auth/login.h"
#include "directory/directory.h"
#include "pop3/connection_internal.h"
#include "pop3/preauth_internal.h"

namespace rampart::pop3 {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kPlaintextNeedsTls =
    "[AUTH] Plaintext authentication needs TLS: use STLS first";

}  // namespace

std::string capabilities(Connection& connection, bool logged_in) {
  // RFC 2449 §6.6 PIPELINING: commands may come in batches (connection_internal.h);
  // RFC 3206 AUTH-RESP-CODE: [AUTH] and [SYS/...] say why a login failed.
  std::string out = "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  if (!logged_in) {
    if (connection.plaintext_allowed()) out += "USER\r\nSASL PLAIN LOGIN\r\n";
    if (connection.stream().can_start_tls()) out += "STLS\r\n";
  }
  out += "IMPLEMENTATION Rampart\r\n";
  return out;
}

void Preauth::refuse(std::string_view text) { closing_ = connection_.error(text) || closing_; }

asio::awaitable<std::optional<LoggedIn>> Preauth::run() {
  const auto timeout = connection_.options().preauth_timeout;
  for (;;) {
    if (closing_) {
      co_await connection_.flush();
      co_return std::nullopt;
    }
    std::optional<Command> command = co_await connection_.next_command(timeout);
    if (!command) {
      co_return std::nullopt;
    }
    const Verb verb = command->verb;
    std::optional<LoggedIn> logged_in;
    if (verb == Verb::Pass) {
      logged_in = co_await pass(*command);
    } else if (verb == Verb::Auth) {
      std::optional<auth::Credentials> credentials = co_await authenticate(*command);
      if (credentials) {
        logged_in = co_await login(*credentials);
      }
    } else if (verb == Verb::Stls) {
      const bool started = co_await start_tls();
      if (!started) {
        co_return std::nullopt;
      }
    } else if (verb == Verb::Quit) {
      connection_.ok("Rampart POP3 signing off");
      co_await connection_.flush();
      co_return std::nullopt;
    } else {
      answer(*command);
    }
    if (logged_in) {
      co_return logged_in;
    }
  }
}

void Preauth::answer(const Command& command) {
  switch (command.verb) {
    case Verb::Capa:
      connection_.ok("Capability list follows");
      connection_.send(capabilities(connection_, false) + ".\r\n");
      return;
    case Verb::User:
      user(command);
      return;
    case Verb::Pass:
    case Verb::Auth:
    case Verb::Stls:
    case Verb::Quit:
      return;  // run() answers these
    case Verb::Stat:
    case Verb::List:
    case Verb::Retr:
    case Verb::Dele:
    case Verb::Noop:
    case Verb::Rset:
    case Verb::Top:
    case Verb::Uidl:
      refuse("Log in first");
      return;
  }
}

asio::awaitable<bool> Preauth::start_tls() {
  if (connection_.stream().is_tls()) {
    refuse("TLS is already active");
  } else if (!connection_.stream().can_start_tls()) {
    refuse("STLS is not available");
  } else {
    connection_.ok("Begin TLS negotiation");
    const bool written = co_await connection_.flush();
    if (!written) {
      co_return false;
    }
    const bool started = co_await connection_.start_tls();
    if (!started) {
      co_return false;
    }
    user_.reset();  // RFC 2595 §4: the client starts over
  }
  co_return true;
}

void Preauth::user(const Command& command) {
  if (!connection_.plaintext_allowed()) {
    refuse(kPlaintextNeedsTls);
    return;
  }
  user_ = command.argument;
  // The same answer for every name: whether one exists shows nowhere.
  connection_.ok("Send the password");
}

asio::awaitable<std::optional<LoggedIn>> Preauth::pass(const Command& command) {
  if (!user_) {
    refuse(connection_.plaintext_allowed() ? "Send USER first" : kPlaintextNeedsTls);
    co_return std::nullopt;
  }
  const auth::Credentials credentials{std::move(*user_), command.argument};
  user_.reset();
  std::optional<LoggedIn> logged_in = co_await login(credentials);
  co_return logged_in;
}

asio::awaitable<std::optional<std::string>> Preauth::response(std::string_view challenge) {
  // RFC 5034 §4: "+" and a space, then the challenge in base64 (empty for PLAIN).
  connection_.send("+ " + std::string(challenge) + "\r\n");
  const auto timeout = connection_.options().preauth_timeout;
  Response got = co_await connection_.read_response(timeout);
  if (std::holds_alternative<Closed>(got)) {
    closing_ = true;
    co_return std::nullopt;
  }
  if (auto* bad = std::get_if<BadCommand>(&got)) {
    refuse(bad->text);
    co_return std::nullopt;
  }
  std::string& line = std::get<std::string>(got);
  if (line == "*") {
    refuse("Authentication cancelled");
    co_return std::nullopt;
  }
  co_return std::move(line);
}

asio::awaitable<std::optional<auth::Credentials>> Preauth::authenticate(const Command& command) {
  user_.reset();
  if (!connection_.plaintext_allowed()) {
    refuse(kPlaintextNeedsTls);
    co_return std::nullopt;
  }
  if (command.argument.empty()) {
    // RFC 1734's listing, which some clients still ask for.
    connection_.ok("Mechanisms follow");
    connection_.send("PLAIN\r\nLOGIN\r\n.\r\n");
    co_return std::nullopt;
  }
  // An initial response (RFC 5034 §4): "=" is the empty one.
  std::optional<std::string> initial = command.initial_response;
  if (initial && *initial == "=") {
    initial->clear();
  }
  const auto mechanism = auth::parse_mechanism(command.argument);
  if (!mechanism) {
    refuse("Unsupported authentication mechanism");
    co_return std::nullopt;
  }
  // PLAIN: one response. LOGIN: the user name, then the password, each asked for.
  const bool plain = *mechanism == auth::Mechanism::Plain;
  if (!initial) {
    const std::string_view challenge = plain ? std::string_view() : auth::kLoginUserChallenge;
    initial = co_await response(challenge);
    if (!initial) {
      co_return std::nullopt;
    }
  }
  Result<auth::Credentials> credentials = fail(Errc::BadInput);
  if (plain) {
    // An authzid naming another user (NoPermission) is refused like a malformed one.
    credentials = auth::decode_plain(*initial);
  } else {
    const std::string_view challenge = auth::kLoginPasswordChallenge;
    std::optional<std::string> password = co_await response(challenge);
    if (!password) {
      co_return std::nullopt;
    }
    credentials = auth::decode_login(*initial, *password);
  }
  if (!credentials) {
    refuse(plain ? "[AUTH] Malformed PLAIN response" : "[AUTH] Malformed LOGIN response");
    co_return std::nullopt;
  }
  co_return std::move(*credentials);
}

asio::awaitable<std::optional<LoggedIn>> Preauth::login(const auth::Credentials& credentials) {
  const std::string& peer = connection_.stream().peer_address();
  const char* protocol = "pop3";
  auth::LoginOutcome login = co_await auth::network_login(
      directory_, blocking_, peer, credentials.user, credentials.password, protocol);
  if (login.refused) {
    refuse("[SYS/TEMP] Too many failed logins, try again later");
    failed_login();
    co_return std::nullopt;
  }
  auto& account = login.account;
  if (!account) {
    // The same words for an unknown user and a wrong password.
    refuse(account.error().code == Errc::Internal ? "[SYS/TEMP] Try again later"
                                                  : "[AUTH] Authentication failed");
    failed_login();
    co_return std::nullopt;
  }
  co_return LoggedIn{std::move(*account), login.credentials_as_of};
}

}  // namespace rampart::pop3
