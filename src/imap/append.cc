// APPEND with MULTIAPPEND (RFC 3502: all messages or none), UIDPLUS's APPENDUID
// (RFC 4315), literal8 (RFC 3516) and UTF8=ACCEPT's UTF8 (...) form (RFC 6855).
#include "audit/trail.h"
#include "base/log.h"
#include "delivery/delivery.h"
#include "imap/responses_internal.h"
#include "imap/session_internal.h"

namespace rampart::imap {

namespace asio = boost::asio;

asio::awaitable<void> Session::append(const Command& command) {
  const Arguments& arguments = command.arguments;
  if (arguments.size() < 2) {
    reply(command, "BAD APPEND takes a mailbox and a message");
    co_return;
  }
  auto name = mailbox_argument(command, arguments[0]);
  if (!name) co_return;
  std::vector<store::NewMessage> messages;
  for (std::size_t at = 1; at < arguments.size();) {
    store::NewMessage message;
    if (arguments[at].kind == Token::Kind::List) {
      auto flags = flag_arguments(command, arguments[at].children);
      if (!flags) co_return;
      message.flags = std::move(*flags);
      ++at;
    }
    if (at < arguments.size() && arguments[at].kind == Token::Kind::String &&
        !arguments[at].literal) {
      auto date = parse_date_time(arguments[at].text);
      if (!date) {
        reply(command, "BAD Invalid date-time");
        co_return;
      }
      message.internal_date = *date;
      ++at;
    }
    const Token* literal = at < arguments.size() ? &arguments[at] : nullptr;
    // RFC 6855 §4: UTF8 (~{n}...) carries a message with UTF-8 headers.
    if (literal && literal->is("UTF8") && at + 1 < arguments.size() &&
        arguments[at + 1].kind == Token::Kind::List && arguments[at + 1].children.size() == 1) {
      literal = &arguments[++at].children[0];
    }
    if (!literal || literal->kind != Token::Kind::String || !literal->literal) {
      reply(command, "BAD APPEND expects the message as a literal");
      co_return;
    }
    if (literal->text.empty()) {
      reply(command, "NO [CANNOT] Refusing an empty message");
      co_return;
    }
    message.raw = literal->text;
    messages.push_back(std::move(message));
    ++at;
  }
  struct Appended {
    store::MailboxId mailbox = 0;
    std::uint32_t uidvalidity = 0;
    std::vector<store::Appended> appended;
  };
  auto appended = co_await blocking([&]() -> Result<Appended> {
    auto mailbox = services_.store.find_mailbox(account_.id, *name);
    if (!mailbox) return tl::unexpected(mailbox.error());
    for (auto& message : messages) {
      message = delivery::prepare_message(std::move(message.raw), std::move(message.flags),
                                          message.internal_date);
    }
    auto added = services_.store.append_messages(mailbox->id, messages);
    if (!added) return tl::unexpected(added.error());
    return Appended{mailbox->id, mailbox->uidvalidity, std::move(*added)};
  });
  if (!appended) {
    const Errc code = appended.error().code;
    if (code == Errc::Internal) log::error("imap: APPEND: " + appended.error().detail);
    reply(command, code == Errc::NotFound   ? "NO [TRYCREATE] No such mailbox"
                   : code == Errc::BadInput ? "BAD Invalid flag"
                                            : no_for(code, "APPEND failed"));
    co_return;
  }
  std::vector<std::uint32_t> uids;
  for (const auto& message : appended->appended) uids.push_back(message.uid);
  const std::string uid_set = format_number_set(std::move(uids));
  audit(audit::kChange, *name, static_cast<std::int64_t>(appended->appended.size()),
        "APPEND UID " + uid_set);
  // RFC 9051 section 6.3.12: appended to the selected mailbox, the client hears EXISTS
  // now, so the UIDs APPENDUID names are ones its next UID command can reach.
  if (selected_ && selected_->mailbox.id == appended->mailbox) co_await update(true, true);
  reply(command, "OK [APPENDUID " + std::to_string(appended->uidvalidity) + " " + uid_set +
                     "] APPEND completed");
}

}  // namespace rampart::imap
