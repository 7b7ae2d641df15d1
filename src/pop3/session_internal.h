// The TRANSACTION and UPDATE states (RFC 1939 §5-6, §7): one object per logged-in
// connection, holding its maildrop and the maildrop's lock. session.cc holds the
// commands that list and mark; retrieve.cc RETR and TOP; session.cc also runs the
// connection from greeting to QUIT (run_session).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "net/offload.h"
#include "pop3/connection_internal.h"
#include "pop3/maildrop.h"
#include "pop3/maildrop_locks.h"
#include "pop3/session.h"
#include "store/store.h"

namespace rampart::pop3 {

// The account's INBOX as a maildrop: its messages now, with the octets RETR sends of
// each. Blocking: call it on the blocking pool.
Result<Maildrop> open_maildrop(store::MailStore& store, store::BlobStore& blobs,
                               store::AccountId account);

class Session {
 public:
  Session(Connection& connection, Services& services, store::Account account,
          std::uint64_t credentials_as_of, Maildrop maildrop, MaildropLocks::Lock lock);
  boost::asio::awaitable<void> run();

 private:
  template <class Function>
  boost::asio::awaitable<std::invoke_result_t<Function&>> blocking(Function function) {
    std::invoke_result_t<Function&> result = co_await net::offload(services_.blocking, function);
    co_return std::move(result);
  }
  // "-ERR text"; false when that was too many in a row (end the session).
  bool refuse(std::string_view text) { return !connection_.error(text); }
  // Records an access to the maildrop in the audit trail (audit/trail.h kinds).
  void audit(const char* kind, std::int64_t count, std::string detail);
  // True ("-ERR" queued) when the account's credentials changed since login.
  bool revoked();

  boost::asio::awaitable<bool> execute(const Command& command);  // false: end the session
  // The commands that wait for nothing; false: end the session.
  bool answer(const Command& command);
  // The message a command names; null when there is none or it is marked deleted, with
  // `why` set to the -ERR text.
  const Maildrop::Message* message_argument(const Command& command, std::string& why) const;
  // LIST and UIDL, one message or all of them.
  boost::asio::awaitable<bool> list(const Command& command, bool unique_ids);
  bool dele(const Command& command);
  // QUIT: the UPDATE state, deleted messages expunged.
  boost::asio::awaitable<void> update();

  // retrieve.cc: RETR and TOP.
  boost::asio::awaitable<bool> retrieve(const Command& command);

  Connection& connection_;
  Services& services_;
  const store::Account account_;
  // The directory's credential clock before the login was checked: once the account's
  // credentials change after it, the session ends before its next command.
  const std::uint64_t credentials_as_of_;
  Maildrop maildrop_;
  // Released when the session ends, however it ends; at QUIT before the reply (RFC 1939
  // section 6), so a client that has the +OK may log in again at once.
  std::optional<MaildropLocks::Lock> lock_;
};

}  // namespace rampart::pop3
