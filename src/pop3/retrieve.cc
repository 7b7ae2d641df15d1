// RETR and TOP (RFC 1939 §5, §7): the message's bytes from the store, sent through the
// MessageWriter a flush at a time, so the server holds the stored bytes and one
// output buffer, never a second copy of the message. Each is a read of that message
// in the audit trail, as IMAP FETCH of a body is.
#include "audit/trail.h"
#include "base/log.h"
#include "pop3/message_writer.h"
#include "pop3/responses_internal.h"
#include "pop3/session_internal.h"

namespace rampart::pop3 {

namespace asio = boost::asio;

asio::awaitable<bool> Session::retrieve(const Command& command) {
  std::string why;
  const Maildrop::Message* message = message_argument(command, why);
  if (!message) {
    co_return refuse(why);
  }
  const std::uint32_t number = *command.message;
  const store::Uid uid = message->uid;
  const store::MailboxId mailbox = maildrop_.mailbox();
  // The message as it is now: another session may have expunged it since login.
  auto read = [&]() -> Result<std::string> {
    auto metas = services_.store.get_messages(mailbox, {uid});
    if (!metas) return tl::unexpected(metas.error());
    if (metas->empty()) return fail(Errc::NotFound, "expunged");
    return services_.blobs.read_blob(metas->front().blob_id);
  };
  Result<std::string> bytes = co_await blocking(read);
  if (!bytes) {
    if (bytes.error().code == Errc::NotFound) {
      co_return refuse("Message " + std::to_string(number) + " was removed by another session");
    }
    log::error("pop3: " + account_.address + ": RETR UID " + std::to_string(uid) + ": " +
               bytes.error().detail);
    co_return refuse(
        error_for(bytes.error().code, "Cannot read message " + std::to_string(number)));
  }
  const bool top = command.verb == Verb::Top;
  audit(audit::kRead, 1,
        top ? "TOP UID " + std::to_string(uid) + " (header and " + std::to_string(command.lines) +
                  " body lines)"
            : "RETR UID " + std::to_string(uid) + " with content");
  connection_.ok(top ? std::string("Top of message follows")
                     : std::to_string(message->size) + " octets");
  MessageWriter writer(*bytes, top ? std::optional<std::uint64_t>(command.lines) : std::nullopt);
  while (writer.write(connection_.output(), Connection::kFlushBytes)) {
    const bool written = co_await connection_.flush();
    if (!written) {
      co_return false;
    }
  }
  co_return true;
}

}  // namespace rampart::pop3
