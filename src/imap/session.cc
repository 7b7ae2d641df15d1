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

// The commands of the authenticated state (RFC 9051 §6.1, §6.3, §6.4 and the
// extensions in CAPABILITY), one entry each: what the session runs, whether it needs a
// selected mailbox, whether a UID form exists, and whether its sequence-number form
// forbids EXPUNGE responses until it is done (§7.5.1).
enum class Verb {
  Capability,
  Noop,
  Check,
  Logout,
  Id,
  Enable,
  Namespace,
  List,
  Lsub,
  Create,
  Delete,
  Rename,
  Subscribe,
  Unsubscribe,
  GetQuota,
  GetQuotaRoot,
  SetQuota,
  Status,
  Append,
  Select,
  Examine,
  Close,
  Unselect,
  Expunge,
  Fetch,
  Store,
  Copy,
  Move,
  Search,
  Sort,
  Thread,
  Idle,
  Notify,
  Compress,
  NotNow,  // STARTTLS, LOGIN, AUTHENTICATE: only before login
};

struct CommandSpec {
  std::string_view name;
  Verb verb;
  bool needs_selection = false;
  bool has_uid_form = false;
  bool by_sequence_holds_expunges = false;
};

namespace {

constexpr CommandSpec kCommands[] = {
    {"CAPABILITY", Verb::Capability},
    {"NOOP", Verb::Noop},
    {"CHECK", Verb::Check, true},
    {"LOGOUT", Verb::Logout},
    {"ID", Verb::Id},
    {"ENABLE", Verb::Enable},
    {"NAMESPACE", Verb::Namespace},
    {"LIST", Verb::List},
    {"LSUB", Verb::Lsub},
    {"CREATE", Verb::Create},
    {"DELETE", Verb::Delete},
    {"RENAME", Verb::Rename},
    {"SUBSCRIBE", Verb::Subscribe},
    {"UNSUBSCRIBE", Verb::Unsubscribe},
    {"GETQUOTA", Verb::GetQuota},
    {"GETQUOTAROOT", Verb::GetQuotaRoot},
    {"SETQUOTA", Verb::SetQuota},
    {"STATUS", Verb::Status},
    {"APPEND", Verb::Append},
    {"SELECT", Verb::Select},
    {"EXAMINE", Verb::Examine},
    {"CLOSE", Verb::Close, true},
    {"UNSELECT", Verb::Unselect, true},
    {"EXPUNGE", Verb::Expunge, true, true},
    {"FETCH", Verb::Fetch, true, true, true},
    {"STORE", Verb::Store, true, true, true},
    {"COPY", Verb::Copy, true, true},
    {"MOVE", Verb::Move, true, true},
    {"SEARCH", Verb::Search, true, true, true},
    {"SORT", Verb::Sort, true, true, true},
    {"THREAD", Verb::Thread, true, true, true},
    {"IDLE", Verb::Idle},
    {"NOTIFY", Verb::Notify},
    {"COMPRESS", Verb::Compress},
    {"STARTTLS", Verb::NotNow},
    {"LOGIN", Verb::NotNow},
    {"AUTHENTICATE", Verb::NotNow},
};

const CommandSpec* find_command(std::string_view name) {
  for (const CommandSpec& spec : kCommands) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

Session::Session(Connection& connection, Services& services, store::Account account,
                 std::uint64_t credentials_as_of)
    : connection_(connection),
      services_(services),
      account_(std::move(account)),
      credentials_as_of_(credentials_as_of) {}

bool Session::revoked() {
  if (!services_.directory.revoked_since(account_.id, credentials_as_of_)) return false;
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
          const bool selected =
              std::find(mailboxes.begin(), mailboxes.end(), signal.selected) != mailboxes.end();
          if (!selected && !signal.watch_others) return false;
          signal.dirty |= selected;
          signal.others |= signal.watch_others;
          ++signal.wakes;
          return true;
        });
      });
  for (;;) {
    // With NOTIFY set, what happens between commands is sent as it happens.
    if (notify_ && !connection_.has_input() && !co_await notify_until_input()) break;
    auto command = co_await connection_.next_command(connection_.options().idle_timeout);
    if (!command || revoked()) break;
    if (!co_await execute(*command)) break;
  }
  subscription_.reset();
}

asio::awaitable<bool> Session::execute(Command& command) {
  tagged_.clear();
  const CommandSpec* spec = find_command(command.name);
  if (command.uid && (!spec || !spec->has_uid_form)) {
    reply(command, "BAD UID cannot go with " + command.name);
  } else if (!spec) {
    reply(command, "BAD Unknown command");
  } else if (spec->needs_selection && !selected_) {
    reply(command, "BAD No mailbox selected");
  } else if (!co_await dispatch(*spec, command)) {
    co_return false;
  }
  // RFC 9051 section 7.5.1: no expunge while numbers may shift under a command; a UID
  // SEARCH, SORT or THREAD may hold message numbers too (RFC 7162 section 3.2.10.2).
  const bool holds = spec && spec->by_sequence_holds_expunges &&
                     (!command.uid || spec->verb == Verb::Search || spec->verb == Verb::Sort ||
                      spec->verb == Verb::Thread);
  co_await update(!holds);
  co_return !connection_.send_tagged(tagged_);
}

asio::awaitable<bool> Session::dispatch(const CommandSpec& spec, Command& command) {
  switch (spec.verb) {
    case Verb::Capability:
      untagged("CAPABILITY " + authenticated_capabilities());
      reply(command, "OK CAPABILITY completed");
      co_return true;
    case Verb::Noop:
    case Verb::Check:
      co_await update(true, true);
      reply(command, "OK " + command.name + " completed");
      co_return true;
    case Verb::Logout:
      untagged("BYE Logging out");
      reply(command, "OK LOGOUT completed");
      connection_.send_tagged(tagged_);
      co_await connection_.flush();
      co_return false;
    case Verb::Id:
      connection_.send(id_response());
      reply(command, "OK ID completed");
      co_return true;
    case Verb::Enable:
      enable(command);
      co_return true;
    case Verb::Namespace:
      untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
      reply(command, "OK NAMESPACE completed");
      co_return true;
    case Verb::List:
    case Verb::Lsub:
      co_await list(command, spec.verb == Verb::Lsub);
      co_return true;
    case Verb::Create:
      co_await create(command);
      co_return true;
    case Verb::Delete:
      co_await remove(command);
      co_return true;
    case Verb::Rename:
      co_await rename(command);
      co_return true;
    case Verb::Subscribe:
    case Verb::Unsubscribe:
      co_await subscribe(command, spec.verb == Verb::Subscribe);
      co_return true;
    case Verb::GetQuota:
    case Verb::GetQuotaRoot:
    case Verb::SetQuota:
      co_await quota(command);
      co_return true;
    case Verb::Status:
      co_await status(command);
      co_return true;
    case Verb::Append:
      co_await append(command);
      co_return true;
    case Verb::Select:
    case Verb::Examine:
      co_await select(command, spec.verb == Verb::Examine);
      co_return true;
    case Verb::Close:
    case Verb::Unselect:
      co_await close(command, spec.verb == Verb::Close);
      co_return true;
    case Verb::Expunge:
      co_await expunge(command);
      co_return true;
    case Verb::Fetch:
      co_await fetch(command);
      co_return true;
    case Verb::Store:
      co_await store_flags(command);
      co_return true;
    case Verb::Copy:
    case Verb::Move:
      co_await copy(command, spec.verb == Verb::Move);
      co_return true;
    case Verb::Search:
      co_await search(command);
      co_return true;
    case Verb::Sort:
      co_await sort(command);
      co_return true;
    case Verb::Thread:
      co_await thread(command);
      co_return true;
    case Verb::Idle:
      co_return co_await idle(command);
    case Verb::Notify:
      co_await notify(command);
      co_return true;
    case Verb::Compress:
      co_return co_await compress(command);
    case Verb::NotNow:
      reply(command, "BAD Already authenticated");
      co_return true;
  }
  co_return true;
}

// RFC 4978: after our OK, both directions are compressed.
asio::awaitable<bool> Session::compress(const Command& command) {
  if (command.arguments.size() != 1 || !command.arguments[0].is("DEFLATE")) {
    reply(command, "BAD COMPRESS takes DEFLATE");
  } else if (connection_.is_compressed()) {
    reply(command, "NO [COMPRESSIONACTIVE] DEFLATE is already active");
  } else {
    connection_.send_tagged(command.tag + " OK DEFLATE active\r\n");
    tagged_.clear();
    co_return co_await connection_.flush() && connection_.start_compress();
  }
  co_return true;
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
    if (!value.is_flag() || iequals(value.text, "\\Recent") || value.text == "\\*") {
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

std::variant<std::string, const char*> Session::mailbox_name(const Token& token) const {
  const auto text = token.astring();
  if (!text) return "BAD Mailbox name expected";
  std::string name;
  if (utf8_) {
    if (!is_valid_utf8(*text)) return "BAD Mailbox name is not UTF-8";
    name = std::string(*text);
  } else {
    auto decoded = decode_mutf7(*text);
    // Well-formed syntax naming no mailbox there can be: NO, as for any unknown name.
    if (!decoded) return "NO Mailbox name is not valid modified UTF-7";
    name = std::move(*decoded);
  }
  // INBOX is case-insensitive (RFC 9051 §5.1), and so is its place as a parent.
  if (iequals(name, "INBOX")) return std::string("INBOX");
  if (name.size() > 6 && iequals(std::string_view(name).substr(0, 6), "INBOX/")) {
    name.replace(0, 5, "INBOX");
  }
  return name;
}

std::optional<std::string> Session::mailbox_argument(const Command& command, const Token& token) {
  auto name = mailbox_name(token);
  if (auto* response = std::get_if<const char*>(&name)) {
    reply(command, *response);
    return std::nullopt;
  }
  return std::move(std::get<std::string>(name));
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
      enable_condstore();
    } else if (capability == "QRESYNC") {
      enable_condstore();
      qresync_ = true;
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
  auto logged_in = co_await run_preauth(connection, services.directory, services.blocking);
  if (logged_in) {
    log::info("imap: " + logged_in->account.address + " logged in from " +
              connection.stream().peer_address());
    connection.logged_in();
    Session session(connection, services, std::move(logged_in->account),
                    logged_in->credentials_as_of);
    co_await session.run();
  }
  co_await connection.flush();
  connection.close();
}

}  // namespace rampart::imap
