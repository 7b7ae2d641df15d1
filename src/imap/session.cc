#include "imap/session.h"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/log.h"
#include "base/utf8.h"
#include "directory/directory.h"
#include "imap/mailbox_name.h"
#include "imap/preauth_internal.h"
#include "imap/session_internal.h"

namespace rampart::imap {

namespace asio = boost::asio;

namespace {

// Commands that need a selected mailbox.
bool needs_selection(std::string_view name) {
  for (std::string_view selected : {"CLOSE", "UNSELECT", "EXPUNGE", "FETCH", "STORE", "COPY",
                                    "MOVE", "SEARCH", "SORT", "THREAD", "CHECK"}) {
    if (name == selected) return true;
  }
  return false;
}

bool takes_uid(std::string_view name) {
  for (std::string_view command :
       {"FETCH", "STORE", "COPY", "MOVE", "SEARCH", "SORT", "THREAD", "EXPUNGE"}) {
    if (name == command) return true;
  }
  return false;
}

}  // namespace

Session::Session(Connection& connection, Services& services, store::Account account)
    : connection_(connection),
      services_(services),
      account_(std::move(account)),
      generation_(services.directory.credential_generation(account_.id)) {}

bool Session::revoked() {
  if (services_.directory.credential_generation(account_.id) == generation_) return false;
  log::info("imap: " + account_.address + " from " + connection_.stream().peer_address() +
            ": credentials changed, session ended");
  connection_.send("* BYE Credentials changed: log in again\r\n");
  return true;
}

Session::~Session() = default;

void Session::audit(const char* kind, std::string_view mailbox, std::int64_t count,
                    std::string detail) {
  services_.trail.record({.kind = kind,
                          .account = account_.address,
                          .actor = account_.address,
                          .address = connection_.stream().peer_address(),
                          .protocol = "imap",
                          .mailbox = std::string(mailbox),
                          .count = count,
                          .detail = std::move(detail)});
}

asio::awaitable<void> Session::run() {
  signal_ = std::make_shared<ChangeSignal>(co_await asio::this_coro::executor);
  subscription_ = services_.store.change_bus().subscribe(
      account_.id, [signal = signal_](const store::ChangeEvent& event) {
        net::raise(signal, [mailboxes = event.mailboxes](ChangeSignal& signal) {
          if (std::find(mailboxes.begin(), mailboxes.end(), signal.selected) == mailboxes.end()) {
            return false;
          }
          signal.dirty = true;
          return true;
        });
      });
  for (;;) {
    auto command = co_await connection_.next_command(connection_.options().idle_timeout);
    if (!command || revoked()) break;
    if (!co_await execute(*command)) break;
  }
  subscription_.reset();
}

asio::awaitable<bool> Session::execute(Command& command) {
  const std::string& name = command.name;
  tagged_.clear();
  if (command.uid && !takes_uid(name)) {
    reply(command, "BAD UID cannot go with " + name);
  } else if (needs_selection(name) && !selected_) {
    reply(command, "BAD No mailbox selected");
  } else if (name == "CAPABILITY") {
    untagged("CAPABILITY " + authenticated_capabilities());
    reply(command, "OK CAPABILITY completed");
  } else if (name == "NOOP" || name == "CHECK") {
    co_await update(true, true);
    reply(command, "OK " + name + " completed");
  } else if (name == "LOGOUT") {
    untagged("BYE Logging out");
    reply(command, "OK LOGOUT completed");
    connection_.send_tagged(tagged_);
    co_await connection_.flush();
    co_return false;
  } else if (name == "ID") {
    connection_.send(id_response());
    reply(command, "OK ID completed");
  } else if (name == "ENABLE") {
    enable(command);
  } else if (name == "NAMESPACE") {
    untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
    reply(command, "OK NAMESPACE completed");
  } else if (name == "LIST" || name == "LSUB") {
    co_await list(command, name == "LSUB");
  } else if (name == "CREATE") {
    co_await create(command);
  } else if (name == "DELETE") {
    co_await remove(command);
  } else if (name == "RENAME") {
    co_await rename(command);
  } else if (name == "SUBSCRIBE" || name == "UNSUBSCRIBE") {
    co_await subscribe(command, name == "SUBSCRIBE");
  } else if (name == "GETQUOTA" || name == "GETQUOTAROOT" || name == "SETQUOTA") {
    co_await quota(command);
  } else if (name == "STATUS") {
    co_await status(command);
  } else if (name == "APPEND") {
    co_await append(command);
  } else if (name == "SELECT" || name == "EXAMINE") {
    co_await select(command, name == "EXAMINE");
  } else if (name == "CLOSE" || name == "UNSELECT") {
    co_await close(command, name == "CLOSE");
  } else if (name == "EXPUNGE") {
    co_await expunge(command);
  } else if (name == "FETCH") {
    co_await fetch(command);
  } else if (name == "STORE") {
    co_await store_flags(command);
  } else if (name == "COPY" || name == "MOVE") {
    co_await copy(command, name == "MOVE");
  } else if (name == "SEARCH") {
    co_await search(command);
  } else if (name == "SORT") {
    co_await sort(command);
  } else if (name == "THREAD") {
    co_await thread(command);
  } else if (name == "IDLE") {
    if (!co_await idle(command)) co_return false;
  } else if (name == "COMPRESS") {
    if (command.arguments.size() != 1 || !command.arguments[0].is("DEFLATE")) {
      reply(command, "BAD COMPRESS takes DEFLATE");
    } else if (connection_.is_compressed()) {
      reply(command, "NO [COMPRESSIONACTIVE] DEFLATE is already active");
    } else {
      connection_.send_tagged(command.tag + " OK DEFLATE active\r\n");
      if (!co_await connection_.flush() || !connection_.start_compress()) co_return false;
      co_return true;
    }
  } else if (name == "STARTTLS" || name == "LOGIN" || name == "AUTHENTICATE") {
    reply(command, "BAD Already authenticated");
  } else {
    reply(command, "BAD Unknown command");
  }
  // RFC 9051 §7.5.1: no EXPUNGE during FETCH, STORE or SEARCH by sequence number.
  const bool by_sequence = !command.uid && (name == "FETCH" || name == "STORE" ||
                                            name == "SEARCH" || name == "SORT" || name == "THREAD");
  co_await update(!by_sequence);
  co_return !connection_.send_tagged(tagged_);
}

std::optional<std::vector<std::string>> Session::flag_arguments(const Command& command,
                                                                const std::vector<Token>& values,
                                                                std::size_t from) {
  if (values.size() - std::min(from, values.size()) > kMaxFlags) {
    reply(command, "BAD [LIMIT] At most " + std::to_string(kMaxFlags) + " flags at once");
    return std::nullopt;
  }
  std::vector<std::string> flags;
  for (std::size_t i = from; i < values.size(); ++i) {
    const Token& value = values[i];
    if (value.kind != Token::Kind::Atom || value.is_nil() || iequals(value.text, "\\Recent") ||
        value.text == "\\*") {
      reply(command, "BAD Invalid flag");
      return std::nullopt;
    }
    if (value.text.size() > kMaxKeywordBytes) {
      reply(command,
            "BAD [LIMIT] Keywords are at most " + std::to_string(kMaxKeywordBytes) + " bytes");
      return std::nullopt;
    }
    std::string flag = value.text;
    // System flags are case-insensitive; keep their canonical spelling.
    for (std::string_view system : {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"}) {
      if (iequals(flag, system)) flag = system;
    }
    flags.push_back(std::move(flag));
  }
  return flags;
}

std::optional<std::string> Session::mailbox_argument(const Command& command, const Token& token) {
  const auto text = token.astring();
  if (!text) {
    reply(command, "BAD Mailbox name expected");
    return std::nullopt;
  }
  std::string name;
  if (utf8_) {
    if (!is_valid_utf8(*text)) {
      reply(command, "BAD Mailbox name is not UTF-8");
      return std::nullopt;
    }
    name = std::string(*text);
  } else {
    auto decoded = decode_mutf7(*text);
    if (!decoded) {
      reply(command, "BAD Mailbox name is not valid modified UTF-7");
      return std::nullopt;
    }
    name = std::move(*decoded);
  }
  // INBOX is case-insensitive (RFC 9051 §5.1), and so is its place as a parent.
  if (iequals(name, "INBOX")) return std::string("INBOX");
  if (name.size() > 6 && iequals(std::string_view(name).substr(0, 6), "INBOX/")) {
    name.replace(0, 5, "INBOX");
  }
  return name;
}

std::string Session::quote_mailbox(std::string_view name) const {
  std::string out;
  append_string(out, utf8_ ? std::string(name) : encode_mutf7(name), encoding());
  return out;
}

void Session::enable(const Command& command) {
  std::string enabled;
  for (const Token& token : command.arguments) {
    const std::string capability = uppercase(token.text);
    if (token.kind != Token::Kind::Atom) continue;
    if (capability == "CONDSTORE") {
      condstore_ = true;
    } else if (capability == "QRESYNC") {
      qresync_ = condstore_ = true;
    } else if (capability == "UTF8=ACCEPT") {
      utf8_ = true;
    } else if (capability == "IMAP4REV2") {
      rev2_ = utf8_ = true;
    } else {
      continue;
    }
    enabled += " " + capability;
  }
  if (command.arguments.empty()) {
    reply(command, "BAD ENABLE takes capabilities");
    return;
  }
  untagged("ENABLED" + enabled);
  reply(command, "OK ENABLE completed");
}

asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                  Services& services) {
  Connection connection(std::move(socket), options,
                        services.tls ? services.tls->current() : nullptr);
  if (options.implicit_tls && !co_await connection.stream().start_tls(std::chrono::seconds(30))) {
    co_return;
  }
  connection.send("* OK [CAPABILITY " + preauth_capabilities(connection.stream()) +
                  "] Rampart IMAP ready\r\n");
  auto account = co_await run_preauth(connection, services.directory, services.blocking);
  if (account) {
    log::info("imap: " + account->address + " logged in from " +
              connection.stream().peer_address());
    connection.logged_in();
    Session session(connection, services, std::move(*account));
    co_await session.run();
  }
  co_await connection.flush();
  connection.close();
}

}  // namespace rampart::imap
