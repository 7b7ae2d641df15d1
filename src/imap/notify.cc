// NOTIFY (RFC 5465): the events a client asks to hear of, sent between commands as
// well as during them. The selected mailbox's messages are reported by the usual
// update (selected.cc) when a "selected" group asks for them; other mailboxes are
// compared with how they were last seen, and their changes sent as STATUS (message and
// flag events) and LIST (names and subscriptions). See docs/imap.md, "NOTIFY".
#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "imap/mailbox_name.h"
#include "imap/responses_internal.h"
#include "imap/session_internal.h"

namespace rampart::imap {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

bool within(std::string_view name, std::string_view top) {
  return name == top || is_descendant(name, top);
}

const store::Mailbox* find(const std::vector<store::Mailbox>& mailboxes, store::MailboxId id) {
  auto found = std::find_if(mailboxes.begin(), mailboxes.end(),
                            [&](const store::Mailbox& mailbox) { return mailbox.id == id; });
  return found == mailboxes.end() ? nullptr : &*found;
}

}  // namespace

bool Session::selected_muted() const {
  return notify_ && !(notify_->has_selected && notify_->selected.messages);
}

NotifyEvents Session::notify_events(const store::Mailbox& mailbox) const {
  NotifyEvents events;
  if (!notify_) return events;
  for (const NotifyGroup& group : notify_->groups) {
    bool matches = false;
    switch (group.filter) {
      case NotifyGroup::Filter::Personal:
        matches = true;
        break;
      case NotifyGroup::Filter::Subscribed:
        matches = mailbox.subscribed;
        break;
      case NotifyGroup::Filter::Subtree:
      case NotifyGroup::Filter::Mailboxes:
        matches = std::any_of(group.names.begin(), group.names.end(), [&](const std::string& name) {
          return group.filter == NotifyGroup::Filter::Subtree ? within(mailbox.name, name)
                                                              : mailbox.name == name;
        });
        break;
    }
    if (matches) events |= group.events;
  }
  return events;
}

asio::awaitable<void> Session::notify(const Command& command) {
  auto parsed = parse_notify(command.arguments);
  if (auto* error = std::get_if<NotifyError>(&parsed)) {
    reply(command, (error->bad ? "BAD " : "NO ") + error->text);
    co_return;
  }
  auto& request = std::get<NotifyRequest>(parsed);
  // The names as the store has them, once: a name no mailbox can have is ignored, as
  // one no mailbox has (RFC 5465 section 6).
  for (NotifyGroup& group : request.groups) {
    std::vector<std::string> names;
    for (std::string& given : group.names) {
      auto name = mailbox_name(Token{.kind = Token::Kind::String, .text = std::move(given)});
      if (auto* text = std::get_if<std::string>(&name)) names.push_back(std::move(*text));
    }
    group.names = std::move(names);
  }
  if (!request.fetch_items.empty() &&
      !valid_fetch_items(Token{.kind = Token::Kind::List, .children = request.fetch_items})) {
    reply(command, "BAD NOTIFY: invalid fetch attribute for MessageNew");
    co_return;
  }
  if (request.none) {
    notify_.reset();
    notify_known_.clear();
    signal_->watch_others = false;
    reply(command, "OK NOTIFY completed");
    co_return;
  }
  auto mailboxes = co_await read(true, [&] { return services_.store.list_mailboxes(account_.id); });
  if (!mailboxes) {
    reply(command, no_for(mailboxes.error().code, "NOTIFY failed"));
    co_return;
  }
  const bool status = request.status;
  notify_ = std::move(request);
  notify_known_ = std::move(*mailboxes);
  signal_->watch_others = !notify_->groups.empty();
  signal_->others = false;
  // RFC 5465 section 3.1: with STATUS, where message or flag events are wanted, the
  // state to start from.
  if (status) {
    for (const store::Mailbox& mailbox : notify_known_) {
      if (selected_ && selected_->mailbox.id == mailbox.id) continue;
      const NotifyEvents events = notify_events(mailbox);
      if (!events.messages) continue;
      std::string items = "MESSAGES " + std::to_string(mailbox.message_count) + " UIDNEXT " +
                          std::to_string(mailbox.uidnext) + " UIDVALIDITY " +
                          std::to_string(mailbox.uidvalidity) + " UNSEEN " +
                          std::to_string(mailbox.unseen_count);
      if (events.flags) items += " HIGHESTMODSEQ " + std::to_string(mailbox.highest_modseq);
      untagged("STATUS " + quote_mailbox(mailbox.name) + " (" + items + ")");
    }
  }
  // And what the selected mailbox holds for the client already, as NOOP would.
  co_await update(true, true);
  reply(command, "OK NOTIFY completed");
}

asio::awaitable<void> Session::notify_others() {
  if (!notify_ || !signal_->others) co_return;
  signal_->others = false;
  auto mailboxes = co_await read(true, [&] { return services_.store.list_mailboxes(account_.id); });
  if (!mailboxes) co_return;
  std::vector<store::Mailbox>& now = *mailboxes;
  std::vector<store::Mailbox>& before = notify_known_;
  auto list = [&](const store::Mailbox& mailbox, std::string_view extra) {
    std::string attributes = has_children(now, mailbox.name) ? "\\HasChildren" : "\\HasNoChildren";
    if (mailbox.subscribed) attributes += " \\Subscribed";
    untagged("LIST (" + attributes + ") \"/\" " + quote_mailbox(mailbox.name) + std::string(extra));
  };
  // Renamed: the mailbox itself is told of, its children (renamed with it) are not
  // (RFC 5465 section 5.4).
  std::vector<std::string> renamed_from;
  for (const store::Mailbox& mailbox : now) {
    const store::Mailbox* old = find(before, mailbox.id);
    if (old && old->name != mailbox.name) renamed_from.push_back(old->name);
  }
  for (const store::Mailbox& mailbox : now) {
    const store::Mailbox* old = find(before, mailbox.id);
    NotifyEvents events = notify_events(mailbox);
    if (old) events |= notify_events(*old);
    if (!old) {
      if (events.names) list(mailbox, "");
      continue;
    }
    if (old->name != mailbox.name && events.names) {
      const bool child = std::any_of(
          renamed_from.begin(), renamed_from.end(),
          [&](const std::string& top) { return old->name != top && within(old->name, top); });
      if (!child) {
        std::string oldname;
        append_string(oldname, utf8_ ? old->name : encode_mutf7(old->name), encoding());
        list(mailbox, " (\"OLDNAME\" (" + oldname + "))");
      }
    } else if (old->subscribed != mailbox.subscribed && events.subscriptions) {
      list(mailbox, "");
    }
    // The selected mailbox's messages are the "selected" group's (section 6.1).
    if (selected_ && selected_->mailbox.id == mailbox.id) continue;
    const bool messages =
        old->uidnext != mailbox.uidnext || old->message_count != mailbox.message_count;
    const bool flags = old->highest_modseq != mailbox.highest_modseq;
    std::string items;
    if (events.messages && messages) {
      items = "MESSAGES " + std::to_string(mailbox.message_count) + " UIDNEXT " +
              std::to_string(mailbox.uidnext) + " UNSEEN " + std::to_string(mailbox.unseen_count);
      if (condstore_) items += " HIGHESTMODSEQ " + std::to_string(mailbox.highest_modseq);
    } else if (events.flags && flags && (condstore_ || old->unseen_count != mailbox.unseen_count)) {
      // Section 5.2: HIGHESTMODSEQ and UIDVALIDITY with CONDSTORE; UNSEEN may come too.
      items = "UNSEEN " + std::to_string(mailbox.unseen_count);
      if (condstore_) {
        items += " UIDVALIDITY " + std::to_string(mailbox.uidvalidity) + " HIGHESTMODSEQ " +
                 std::to_string(mailbox.highest_modseq);
      }
    }
    if (!items.empty()) untagged("STATUS " + quote_mailbox(mailbox.name) + " (" + items + ")");
  }
  for (const store::Mailbox& old : before) {
    if (find(now, old.id) == nullptr && notify_events(old).names) {
      untagged("LIST (\\NonExistent) \"/\" " + quote_mailbox(old.name));
    }
  }
  notify_known_ = std::move(now);
}

asio::awaitable<bool> Session::notify_until_input() {
  const auto timeout = connection_.options().idle_timeout;
  for (;;) {
    if (revoked()) co_return false;
    const std::uint64_t seen = signal_->wakes;
    // "selected" sends expunges at once; "selected-delayed" keeps them for a command
    // that allows them (RFC 5465 section 5.1).
    co_await update(!notify_->delayed, signal_->dirty);
    co_await notify_others();
    if (!co_await connection_.flush()) co_return false;
    if (connection_.has_input()) co_return true;
    if (signal_->wakes != seen) continue;  // a change came while this one was sent
    auto woken = co_await (connection_.read_more(timeout) || signal_->wait());
    if (woken.index() == 0 && !std::get<0>(woken)) co_return false;  // EOF or timeout
    if (connection_.has_input()) co_return true;
  }
}

asio::awaitable<void> Session::notify_fetch(store::Uid after) {
  if (!notify_ || notify_->fetch_items.empty() || !selected_) co_return;
  const store::Uid newest = selected_->view.largest_uid();
  if (newest <= after) co_return;
  // As UID FETCH would answer it; its tagged reply is not the client's to see.
  const Command fetch_command{
      .tag = "*",
      .name = "FETCH",
      .uid = true,
      .arguments = {Token{.kind = Token::Kind::Atom,
                          .text = std::to_string(after + 1) + ":" + std::to_string(newest)},
                    Token{.kind = Token::Kind::List, .children = notify_->fetch_items}}};
  std::string tagged = std::move(tagged_);
  co_await fetch(fetch_command);
  tagged_ = std::move(tagged);
}

}  // namespace rampart::imap
