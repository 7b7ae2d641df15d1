#include "managesieve/session.h"

#include <boost/asio/thread_pool.hpp>
#include <optional>
#include <string>
#include <variant>

#include "audit/trail.h"
#include "auth/login.h"
#include "auth/sasl.h"
#include "base/log.h"
#include "delivery/sieve_scripts.h"
#include "directory/directory.h"
#include "net/offload.h"
#include "net/stream.h"
#include "sieve/interpreter.h"

namespace rampart::managesieve {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::seconds kTlsHandshakeTimeout{30};
// After this many failed logins on one connection it is closed (as IMAP and POP3 do).
constexpr int kMaxFailedLogins = 3;

using delivery::SieveScripts;

// What a script command answers: "OK" or "NO", a response code, a text, and the
// lines before it (GETSCRIPT's literal, LISTSCRIPTS' names). `change` is what to audit.
struct Reply {
  bool ok = true;
  std::string code;
  std::string text;
  std::string lines;
  std::string change;
};

Reply no(std::string code, std::string text) {
  return {.ok = false, .code = std::move(code), .text = std::move(text), .lines = {}, .change = {}};
}

// The store's failure in the client's words; the detail goes to the log only.
Reply failure(const Error& error, std::string_view name) {
  switch (error.code) {
    case Errc::NotFound:
      return no("NONEXISTENT", "There is no script \"" + std::string(name) + "\"");
    case Errc::Exists:
      return no("ALREADYEXISTS", "A script of that name exists");
    case Errc::NoPermission:
      return no("ACTIVE", "The active script cannot be deleted: deactivate it first");
    case Errc::TooBig:
      return no("QUOTA/MAXSCRIPTS",
                "At most " + std::to_string(SieveScripts::kMaxScripts) + " scripts per account");
    case Errc::BadInput:
      return no("", "Not a valid script name");
    default:
      log::error("managesieve: " + error.detail);
      return no("TRYLATER", "Try again later");
  }
}

// A script of `size` octets is past what an account may keep.
std::optional<Reply> too_big(std::uint64_t size) {
  if (size <= SieveScripts::kMaxScriptBytes) return std::nullopt;
  return no("QUOTA/MAXSIZE", "A script may have at most " +
                                 std::to_string(SieveScripts::kMaxScriptBytes) + " octets");
}

// One script command of a logged-in account, on the blocking pool.
Reply manage(SieveScripts& scripts, store::AccountId account, const Command& command) {
  const std::string name = command.strings.empty() ? std::string() : command.strings[0];
  switch (command.verb) {
    case Verb::Havespace: {
      if (!SieveScripts::valid_name(name)) return no("", "Not a valid script name");
      if (auto refused = too_big(command.number)) return *refused;
      auto space = scripts.have_space(account, name, static_cast<std::size_t>(command.number));
      if (!space) return failure(space.error(), name);
      return {};
    }
    case Verb::Checkscript: {
      if (auto refused = too_big(command.strings[0].size())) return *refused;
      // The parser's words ("line 3: ...") are about the client's own text.
      auto parsed = sieve::parse_script(command.strings[0]);
      if (!parsed) return no("", parsed.error().detail);
      return {};
    }
    case Verb::Putscript: {
      if (!SieveScripts::valid_name(name)) return no("", "Not a valid script name");
      if (auto refused = too_big(command.strings[1].size())) return *refused;
      auto put = scripts.put(account, name, command.strings[1]);
      // The name is valid: a BadInput is the parser's, about the client's own script.
      if (!put && put.error().code == Errc::BadInput) return no("", put.error().detail);
      if (!put) return failure(put.error(), name);
      return {.ok = true,
              .code = {},
              .text = {},
              .lines = {},
              .change = "sieve script \"" + name + "\" stored, " +
                        std::to_string(command.strings[1].size()) + " bytes"};
    }
    case Verb::Listscripts: {
      auto list = scripts.list(account);
      if (!list) return failure(list.error(), name);
      Reply reply;
      for (const delivery::SieveScript& script : *list) {
        reply.lines += encode_string(script.name) + (script.active ? " ACTIVE\r\n" : "\r\n");
      }
      return reply;
    }
    case Verb::Getscript: {
      auto script = scripts.get(account, name);
      if (!script) return failure(script.error(), name);
      Reply reply;
      // Always a literal (RFC 5804 section 2.9): a script has line ends.
      reply.lines =
          "{" + std::to_string(script->content.size()) + "}\r\n" + script->content + "\r\n";
      return reply;
    }
    case Verb::Setactive: {
      auto activated = scripts.activate(account, name);
      if (!activated) return failure(activated.error(), name);
      return {.ok = true,
              .code = {},
              .text = {},
              .lines = {},
              .change = name.empty() ? "sieve scripts deactivated"
                                     : "sieve script \"" + name + "\" activated"};
    }
    case Verb::Deletescript: {
      auto removed = scripts.remove(account, name);
      if (!removed) return failure(removed.error(), name);
      return {.ok = true,
              .code = {},
              .text = {},
              .lines = {},
              .change = "sieve script \"" + name + "\" deleted"};
    }
    case Verb::Renamescript: {
      const std::string& to = command.strings[1];
      if (!SieveScripts::valid_name(to)) return no("", "Not a valid script name");
      auto renamed = scripts.rename(account, name, to);
      if (!renamed) return failure(renamed.error(), name);
      return {.ok = true,
              .code = {},
              .text = {},
              .lines = {},
              .change = "sieve script \"" + name + "\" renamed to \"" + to + "\""};
    }
    default:
      return no("", "Not a script command");
  }
}

class Session {
 public:
  Session(net::Socket socket, const SessionOptions& options, Services& services)
      : options_(options),
        services_(services),
        stream_(std::move(socket), services.tls ? services.tls->current() : nullptr),
        parser_(options.limits),
        scripts_(services.store) {}

  asio::awaitable<void> run();

 private:
  // The next command or response (nullopt: the connection ended).
  asio::awaitable<std::optional<Step>> next(Mode mode, std::chrono::seconds timeout);
  asio::awaitable<bool> read_more(std::chrono::seconds timeout);
  asio::awaitable<bool> flush();

  void ok(std::string_view code, std::string_view text) {
    output_ += response("OK", code, text);
    errors_in_row_ = 0;
  }
  // A NO; after max_errors of them in a row the connection is closed.
  void refuse(std::string_view code, std::string_view text) {
    output_ += response("NO", code, text);
    if (++errors_in_row_ >= options_.max_errors) bye("Too many errors");
  }
  void bye(std::string_view text) {
    output_ += response("BYE", "", text);
    closing_ = true;
  }
  bool plaintext_allowed() const { return stream_.is_tls() || stream_.is_loopback(); }
  std::string capabilities() const;

  asio::awaitable<void> execute(const Command& command);
  asio::awaitable<void> start_tls();
  asio::awaitable<void> authenticate(const Command& command);
  // One SASL response to `challenge` (base64); nullopt when there is none (refused or
  // cancelled, already answered; or the connection ended).
  asio::awaitable<std::optional<std::string>> sasl_response(std::string_view challenge);
  asio::awaitable<void> login(const auth::Credentials& credentials);
  asio::awaitable<void> script_command(const Command& command);

  const SessionOptions& options_;
  Services& services_;
  net::Stream stream_;
  CommandParser parser_;
  SieveScripts scripts_;
  std::string input_;   // bytes not yet parsed
  std::string output_;  // bytes not yet written
  int errors_in_row_ = 0;
  int failed_logins_ = 0;
  bool closing_ = false;
  std::optional<store::Account> account_;
  std::uint64_t credentials_as_of_ = 0;
};

// The coroutines here are in the plain form the other protocols use (pop3/connection.cc
// says why): each co_await a statement of its own, its arguments named locals.

asio::awaitable<bool> Session::read_more(std::chrono::seconds timeout) {
  const bool read = co_await stream_.read_more(input_, timeout);
  co_return read;
}

asio::awaitable<bool> Session::flush() {
  const bool written = co_await stream_.flush(output_);
  co_return written;
}

asio::awaitable<std::optional<Step>> Session::next(Mode mode, std::chrono::seconds timeout) {
  for (;;) {
    std::string_view pending = input_;
    Step step = parser_.feed(pending, mode);
    input_.erase(0, input_.size() - pending.size());
    if (!std::holds_alternative<NeedMore>(step)) {
      co_return step;
    }
    const bool written = co_await flush();
    if (!written) {
      co_return std::nullopt;
    }
    const bool read = co_await read_more(timeout);
    if (!read) {
      co_return std::nullopt;
    }
  }
}

std::string Session::capabilities() const {
  // RFC 5804 section 1.7.
  std::string sieve;
  for (std::string_view name : sieve::supported_extensions()) {
    sieve += (sieve.empty() ? "" : " ") + std::string(name);
  }
  std::string out = "\"IMPLEMENTATION\" \"Rampart\"\r\n";
  out +=
      "\"SASL\" " + encode_string(!account_ && plaintext_allowed() ? "PLAIN LOGIN" : "") + "\r\n";
  out += "\"SIEVE\" " + encode_string(sieve) + "\r\n";
  if (!account_ && stream_.can_start_tls()) out += "\"STARTTLS\"\r\n";
  out += "\"MAXREDIRECTS\" \"" + std::to_string(sieve::RunLimits{}.max_redirects) + "\"\r\n";
  if (account_) out += "\"OWNER\" " + encode_string(account_->address) + "\r\n";
  out += "\"VERSION\" \"1.0\"\r\n";
  return out;
}

asio::awaitable<void> Session::run() {
  output_ += capabilities();
  ok("", "Rampart ManageSieve ready");
  while (!closing_) {
    const auto timeout = account_ ? options_.idle_timeout : options_.preauth_timeout;
    std::optional<Step> step = co_await next(Mode::Command, timeout);
    if (!step) {
      break;
    }
    if (auto* bad = std::get_if<BadCommand>(&*step)) {
      if (bad->fatal) {
        bye(bad->text);
      } else {
        refuse(bad->code, bad->text);
      }
      continue;
    }
    if (account_ && services_.directory.revoked_since(account_->id, credentials_as_of_)) {
      log::info("managesieve: " + account_->address + ": credentials changed, session ended");
      bye("Credentials changed: log in again");
      break;
    }
    const Command& command = std::get<Command>(*step);
    co_await execute(command);
  }
  co_await flush();
  stream_.close();
}

asio::awaitable<void> Session::execute(const Command& command) {
  switch (command.verb) {
    case Verb::Capability:
      output_ += capabilities();
      ok("", "");
      break;
    case Verb::Noop:
      // RFC 5804 section 2.14: the tag comes back.
      ok(command.strings.empty() ? std::string() : "TAG " + encode_string(command.strings[0]),
         "Done");
      break;
    case Verb::Logout:
      ok("", "Logout");
      closing_ = true;
      break;
    case Verb::Starttls:
      co_await start_tls();
      break;
    case Verb::Authenticate:
      co_await authenticate(command);
      break;
    case Verb::Response:
      refuse("", "Unexpected response");
      break;
    default:
      if (!account_) {
        refuse("", "Log in first");
      } else {
        co_await script_command(command);
      }
      break;
  }
}

asio::awaitable<void> Session::start_tls() {
  if (account_) {
    refuse("", "STARTTLS only before logging in");
    co_return;
  }
  if (!stream_.can_start_tls()) {
    refuse("", stream_.is_tls() ? "TLS is already active" : "STARTTLS is not available");
    co_return;
  }
  ok("", "Begin TLS negotiation");
  const bool written = co_await flush();
  if (!written) {
    closing_ = true;
    co_return;
  }
  // Bytes pipelined after STARTTLS were sent in the clear: dropped (CVE-2011-0411 class).
  input_.clear();
  parser_.reset();
  const auto timeout = kTlsHandshakeTimeout;
  const bool started = co_await stream_.start_tls(timeout);
  if (!started) {
    closing_ = true;
    co_return;
  }
  // RFC 5804 section 2.2: the capabilities again, now over TLS.
  output_ += capabilities();
  ok("", "TLS active");
}

asio::awaitable<std::optional<std::string>> Session::sasl_response(std::string_view challenge) {
  // RFC 5804 section 2.1: the challenge as a string, the response as a string.
  output_ += encode_string(challenge) + "\r\n";
  const auto timeout = options_.preauth_timeout;
  std::optional<Step> step = co_await next(Mode::Response, timeout);
  if (!step) {
    closing_ = true;
    co_return std::nullopt;
  }
  if (auto* bad = std::get_if<BadCommand>(&*step)) {
    if (bad->fatal) {
      bye(bad->text);
    } else {
      refuse(bad->code, bad->text);
    }
    co_return std::nullopt;
  }
  std::string response = std::move(std::get<Command>(*step).strings[0]);
  if (response == "*") {
    refuse("", "Authentication cancelled");
    co_return std::nullopt;
  }
  co_return response;
}

asio::awaitable<void> Session::authenticate(const Command& command) {
  if (account_) {
    refuse("", "Already logged in");
    co_return;
  }
  // docs/architecture.md rule 8: passwords only over TLS or loopback.
  if (!plaintext_allowed()) {
    refuse("ENCRYPT-NEEDED", "Use STARTTLS first");
    co_return;
  }
  const auto mechanism = auth::parse_mechanism(command.strings[0]);
  if (!mechanism) {
    refuse("", "Unsupported authentication mechanism");
    co_return;
  }
  const bool plain = *mechanism == auth::Mechanism::Plain;
  std::optional<std::string> first;
  if (command.strings.size() > 1) {
    first = command.strings[1];
  } else {
    const std::string_view challenge = plain ? std::string_view() : auth::kLoginUserChallenge;
    first = co_await sasl_response(challenge);
    if (!first) {
      co_return;
    }
  }
  Result<auth::Credentials> credentials = fail(Errc::BadInput);
  if (plain) {
    credentials = auth::decode_plain(*first);
  } else {
    const std::string_view challenge = auth::kLoginPasswordChallenge;
    std::optional<std::string> password = co_await sasl_response(challenge);
    if (!password) {
      co_return;
    }
    credentials = auth::decode_login(*first, *password);
  }
  if (!credentials) {
    refuse("", plain ? "Malformed PLAIN response" : "Malformed LOGIN response");
    co_return;
  }
  co_await login(*credentials);
}

asio::awaitable<void> Session::login(const auth::Credentials& credentials) {
  const std::string& peer = stream_.peer_address();
  const char* protocol = "managesieve";
  auth::LoginOutcome outcome =
      co_await auth::network_login(services_.directory, services_.blocking, peer, credentials.user,
                                   credentials.password, protocol);
  if (outcome.refused || !outcome.account) {
    if (outcome.refused) {
      refuse("TRYLATER", "Too many failed logins, try again later");
    } else if (outcome.account.error().code == Errc::Internal) {
      refuse("TRYLATER", "Try again later");
    } else {
      // The same words for an unknown user and a wrong password.
      refuse("", "Authentication failed");
    }
    if (++failed_logins_ >= kMaxFailedLogins && !closing_) {
      bye("Too many failed logins");
    }
    co_return;
  }
  account_ = std::move(*outcome.account);
  credentials_as_of_ = outcome.credentials_as_of;
  log::info("managesieve: " + account_->address + " logged in from " + peer);
  ok("", "Logged in");
}

asio::awaitable<void> Session::script_command(const Command& command) {
  const store::AccountId account = account_->id;
  auto work = [&] { return manage(scripts_, account, command); };
  Reply reply = co_await net::offload(services_.blocking, work);
  output_ += reply.lines;
  if (!reply.ok) {
    refuse(reply.code, reply.text);
    co_return;
  }
  if (!reply.change.empty()) {
    services_.trail.record({.time_ms = 0,
                            .kind = audit::kChange,
                            .account = account_->address,
                            .actor = account_->address,
                            .address = stream_.peer_address(),
                            .protocol = "managesieve",
                            .mailbox = {},
                            .count = 0,
                            .detail = reply.change});
  }
  ok(reply.code, reply.text);
}

}  // namespace

asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                  Services& services) {
  Session session(std::move(socket), options, services);
  co_await session.run();
}

}  // namespace rampart::managesieve
