#include "pop3/session.h"

#include <boost/asio/thread_pool.hpp>

#include "audit/trail.h"
#include "base/log.h"
#include "base/number_set.h"
#include "directory/directory.h"
#include "pop3/preauth_internal.h"
#include "pop3/responses_internal.h"
#include "pop3/session_internal.h"

namespace rampart::pop3 {

namespace asio = boost::asio;

namespace {

constexpr const char* kMaildropName = "INBOX";
// A blob can go between the snapshot and the read of its size (another session
// expunged its last message): the maildrop is read again, a few times at most.
constexpr int kOpenAttempts = 3;

std::string summary(const Maildrop& maildrop) {
  return std::to_string(maildrop.count()) + " messages (" + std::to_string(maildrop.octets()) +
         " octets)";
}

}  // namespace

Result<Maildrop> open_maildrop(store::MailStore& store, store::BlobStore& blobs,
                               store::AccountId account) {
  auto inbox = store.find_mailbox(account, kMaildropName);
  if (!inbox) return tl::unexpected(inbox.error());
  for (int attempt = 1;; ++attempt) {
    auto snapshot = store.snapshot(inbox->id);
    if (!snapshot) return tl::unexpected(snapshot.error());
    std::vector<std::string> blob_ids;
    blob_ids.reserve(snapshot->messages.size());
    for (const auto& meta : snapshot->messages) blob_ids.push_back(meta.blob_id);
    auto sizes = blobs.crlf_sizes(blob_ids);
    if (!sizes && sizes.error().code == Errc::NotFound && attempt < kOpenAttempts) continue;
    if (!sizes) return tl::unexpected(sizes.error());
    std::vector<Maildrop::Message> messages;
    messages.reserve(sizes->size());
    for (std::size_t i = 0; i < sizes->size(); ++i) {
      messages.push_back({.size = (*sizes)[i], .uid = snapshot->messages[i].uid});
    }
    return Maildrop(inbox->id, snapshot->mailbox.uidvalidity, std::move(messages));
  }
}

Session::Session(Connection& connection, Services& services, store::Account account,
                 std::uint64_t credentials_as_of, Maildrop maildrop, MaildropLocks::Lock lock)
    : connection_(connection),
      services_(services),
      account_(std::move(account)),
      credentials_as_of_(credentials_as_of),
      maildrop_(std::move(maildrop)),
      lock_(std::move(lock)) {}

void Session::audit(const char* kind, std::int64_t count, std::string detail) {
  services_.trail.record({.kind = kind,
                          .account = account_.address,
                          .actor = account_.address,
                          .address = connection_.stream().peer_address(),
                          .protocol = "pop3",
                          .mailbox = kMaildropName,
                          .count = count,
                          .detail = std::move(detail)});
}

bool Session::revoked() {
  if (!services_.directory.revoked_since(account_.id, credentials_as_of_)) return false;
  log::info("pop3: " + account_.address + " from " + connection_.stream().peer_address() +
            ": credentials changed, session ended");
  connection_.error("[AUTH] Credentials changed: log in again");
  return true;
}

asio::awaitable<void> Session::run() {
  audit(audit::kOpen, maildrop_.count(), "POP3 maildrop");
  const auto timeout = connection_.options().idle_timeout;
  for (;;) {
    std::optional<Command> command = co_await connection_.next_command(timeout);
    // A connection that ends without QUIT deletes nothing (RFC 1939 §6).
    if (!command || revoked()) {
      break;
    }
    const bool going_on = co_await execute(*command);
    if (!going_on) {
      break;
    }
  }
  co_await connection_.flush();
}

asio::awaitable<bool> Session::execute(const Command& command) {
  const Verb verb = command.verb;
  bool going_on = true;
  if (verb == Verb::List || verb == Verb::Uidl) {
    const bool unique_ids = verb == Verb::Uidl;
    going_on = co_await list(command, unique_ids);
  } else if (verb == Verb::Retr || verb == Verb::Top) {
    going_on = co_await retrieve(command);
  } else if (verb == Verb::Quit) {
    co_await update();
    going_on = false;
  } else {
    going_on = answer(command);
  }
  co_return going_on;
}

bool Session::answer(const Command& command) {
  switch (command.verb) {
    case Verb::Stat:
      connection_.ok(std::to_string(maildrop_.count()) + " " + std::to_string(maildrop_.octets()));
      return true;
    case Verb::Dele:
      return dele(command);
    case Verb::Noop:
      connection_.ok("");
      return true;
    case Verb::Rset:
      maildrop_.unmark_all();
      connection_.ok("Maildrop has " + summary(maildrop_));
      return true;
    case Verb::Capa:
      connection_.ok("Capability list follows");
      connection_.send(capabilities(connection_, true) + ".\r\n");
      return true;
    case Verb::List:
    case Verb::Uidl:
    case Verb::Retr:
    case Verb::Top:
    case Verb::Quit:
      return true;  // execute() runs these
    case Verb::User:
    case Verb::Pass:
    case Verb::Auth:
    case Verb::Stls:
      return refuse("Already logged in");
  }
  return true;
}

const Maildrop::Message* Session::message_argument(const Command& command, std::string& why) const {
  const std::uint32_t number = command.message.value_or(0);
  const Maildrop::Message* message = maildrop_.find(number);
  if (!message) {
    why = number >= 1 && number <= maildrop_.highest_number()
              ? "Message " + std::to_string(number) + " is deleted"
              : "No such message";
  }
  return message;
}

asio::awaitable<bool> Session::list(const Command& command, bool unique_ids) {
  auto line = [&](std::uint32_t number, const Maildrop::Message& message) {
    return std::to_string(number) + " " +
           (unique_ids ? maildrop_.unique_id(message) : std::to_string(message.size));
  };
  if (command.message) {
    std::string why;
    const Maildrop::Message* message = message_argument(command, why);
    if (!message) {
      co_return refuse(why);
    }
    connection_.ok(line(*command.message, *message));
    co_return true;
  }
  connection_.ok(unique_ids ? "Unique-ID listing follows" : summary(maildrop_));
  for (std::uint32_t number = 1; number <= maildrop_.highest_number(); ++number) {
    const Maildrop::Message* message = maildrop_.find(number);
    if (!message) {
      continue;
    }
    connection_.send(line(number, *message) + "\r\n");
    const bool written = co_await connection_.flush_when_full();
    if (!written) {
      co_return false;
    }
  }
  connection_.send(".\r\n");
  co_return true;
}

bool Session::dele(const Command& command) {
  std::string why;
  if (!message_argument(command, why)) return refuse(why);
  maildrop_.mark_deleted(*command.message);
  connection_.ok("Message " + std::to_string(*command.message) + " deleted");
  return true;
}

asio::awaitable<void> Session::update() {
  const std::vector<store::Uid> deleted = maildrop_.deleted_uids();
  if (deleted.empty()) {
    lock_.reset();
    connection_.ok("Rampart POP3 signing off");
    co_return;
  }
  // The expunge IMAP's EXPUNGE makes: the change log tells IMAP and JMAP sessions.
  const store::MailboxId mailbox = maildrop_.mailbox();
  auto expunge = [&] { return services_.store.expunge(mailbox, deleted); };
  Result<std::vector<store::Uid>> expunged = co_await blocking(expunge);
  lock_.reset();
  if (!expunged) {
    log::error("pop3: " + account_.address + ": QUIT: " + expunged.error().detail);
    connection_.error(
        error_for(expunged.error().code, "The deleted messages were not removed: try again"));
    co_return;
  }
  if (!expunged->empty()) {
    audit(audit::kExpunge, static_cast<std::int64_t>(expunged->size()),
          "QUIT: UID " + format_number_set(*expunged));
  }
  connection_.ok("Rampart POP3 signing off (" + std::to_string(deleted.size()) +
                 " messages deleted)");
}

namespace {

// After a login: the maildrop's lock, then the maildrop, then "+OK". Null (-ERR sent,
// and `closing` set when that was too many) when either cannot be had.
asio::awaitable<std::unique_ptr<Session>> start_transaction(Connection& connection,
                                                            Services& services, LoggedIn& logged_in,
                                                            bool& closing) {
  const store::Account& account = logged_in.account;
  auto lock = services.locks.try_lock(account.id);
  if (!lock) {
    // RFC 2449 §8.1.1: the client may try again once the other session is done.
    closing = connection.error("[IN-USE] The maildrop is open in another POP3 session");
    co_return nullptr;
  }
  auto open = [&] { return open_maildrop(services.store, services.blobs, account.id); };
  Result<Maildrop> maildrop = co_await net::offload(services.blocking, open);
  if (!maildrop) {
    log::error("pop3: " + account.address +
               ": cannot open the maildrop: " + maildrop.error().detail);
    closing = connection.error(error_for(maildrop.error().code, "Cannot open the maildrop"));
    co_return nullptr;
  }
  log::info("pop3: " + account.address + " logged in from " + connection.stream().peer_address());
  connection.ok("Logged in, " + summary(*maildrop));
  co_return std::make_unique<Session>(connection, services, std::move(logged_in.account),
                                      logged_in.credentials_as_of, std::move(*maildrop),
                                      std::move(*lock));
}

}  // namespace

asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                  Services& services) {
  Connection connection(std::move(socket), options,
                        services.tls ? services.tls->current() : nullptr);
  if (options.implicit_tls) {
    const std::chrono::seconds timeout{30};
    const bool started = co_await connection.stream().start_tls(timeout);
    if (!started) {
      co_return;
    }
  }
  connection.ok("Rampart POP3 ready");
  Preauth preauth(connection, services.directory, services.blocking);
  bool closing = false;
  while (!closing) {
    std::optional<LoggedIn> logged_in = co_await preauth.run();
    if (!logged_in) {
      break;
    }
    std::unique_ptr<Session> session =
        co_await start_transaction(connection, services, *logged_in, closing);
    if (session) {
      co_await session->run();
      break;
    }
  }
  co_await connection.flush();
  connection.close();
}

}  // namespace rampart::pop3
