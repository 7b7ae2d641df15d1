// SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE, STORE, COPY, MOVE, IDLE, and the untagged
// updates that keep every session on a mailbox in step with the store.
#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

#include "audit/trail.h"
#include "base/ascii.h"
#include "filter/learning.h"
#include "imap/responses_internal.h"
#include "imap/session_internal.h"

namespace rampart::imap {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

// The QRESYNC parameters of SELECT (RFC 7162 §3.2.5).
struct Qresync {
  std::uint32_t uidvalidity = 0;
  store::ModSeq modseq = 0;
  std::optional<SequenceSet> known_uids;
};

namespace {

// Removes the mailbox's \Deleted messages that `wanted` accepts; blocking.
Result<std::vector<store::Uid>> expunge_deleted(store::MailStore& store, store::MailboxId mailbox,
                                                const std::function<bool(store::Uid)>& wanted) {
  auto snapshot = store.snapshot(mailbox);
  if (!snapshot) return tl::unexpected(snapshot.error());
  std::vector<store::Uid> deleted;
  for (const auto& message : snapshot->messages) {
    if (has_flag(message.flags, "\\Deleted") && wanted(message.uid)) deleted.push_back(message.uid);
  }
  return deleted.empty() ? std::vector<store::Uid>{} : store.expunge(mailbox, deleted);
}

std::optional<Qresync> parse_qresync(const Token& list) {
  const auto& items = list.children;
  if (items.size() < 2 || items.size() > 4 || !items[0].number() || !items[1].number() ||
      *items[0].number() == 0 || *items[0].number() > UINT32_MAX) {
    return std::nullopt;
  }
  Qresync qresync{static_cast<std::uint32_t>(*items[0].number()), *items[1].number(), {}};
  if (items.size() >= 3) {
    if (items[2].kind != Token::Kind::Atom) return std::nullopt;
    qresync.known_uids = parse_sequence_set(items[2].text);
    if (!qresync.known_uids || qresync.known_uids->saved) return std::nullopt;
  }
  // The optional sequence-match data only saves work for the server; it is checked for
  // syntax and otherwise ignored.
  if (items.size() == 4 && items[3].kind != Token::Kind::List) return std::nullopt;
  return qresync;
}

}  // namespace

std::optional<std::vector<store::Uid>> Session::message_set(const Command& command,
                                                            const Token& token) {
  auto set = token.kind == Token::Kind::Atom ? parse_sequence_set(token.text) : std::nullopt;
  auto uids = set ? selected_->view.resolve(*set, command.uid, saved_) : std::nullopt;
  if (!uids) reply(command, "BAD Invalid message set");
  return uids;
}

asio::awaitable<void> Session::update(bool expunges_allowed, bool force) {
  if (!selected_ || (!force && !signal_->dirty)) co_return;
  signal_->dirty = false;
  if (selected_muted()) co_return;
  const store::Uid newest = selected_->view.largest_uid();
  const store::MailboxId id = selected_->mailbox.id;
  const store::ModSeq since = selected_->view.modseq();
  // At most every message the session knows of has changed.
  const bool small = selected_->view.exists() <= kInlineMessages;
  auto changes = co_await read(small, [&] { return services_.store.mailbox_changes(id, since); });
  if (!selected_ || selected_->mailbox.id != id) co_return;
  MailboxView& view = selected_->view;
  if (changes) {
    claim_recent(changes->mailbox.uidnext - 1);
    connection_.send(view.apply(*changes, reporting(expunges_allowed)));
  } else if (changes.error().code == Errc::TooBig) {
    auto snapshot = co_await blocking([&] { return services_.store.snapshot(id); });
    if (!snapshot) co_return;
    claim_recent(snapshot->mailbox.uidnext - 1);
    connection_.send(view.apply(*snapshot, reporting(expunges_allowed)));
  } else if (changes.error().code == Errc::NotFound) {
    // Deleted by another session: every message is gone.
    connection_.send(
        view.apply(store::MailboxSnapshot{.mailbox = selected_->mailbox, .messages = {}},
                   reporting(expunges_allowed)));
  }
  if (view.has_unreported_expunges()) signal_->dirty = true;
  co_await notify_fetch(newest);
}

void Session::enable_condstore() {
  if (condstore_) return;
  condstore_ = true;
  // RFC 7162 section 3.1: enabled with a mailbox selected, the client learns where
  // the mailbox's MODSEQ stands.
  if (selected_) {
    untagged("OK [HIGHESTMODSEQ " + std::to_string(selected_->view.modseq()) + "] Highest");
  }
}

void Session::claim_recent(store::Uid largest) {
  if (rev2_ || !selected_) return;
  Selected& selected = *selected_;
  const store::MailboxId id = selected.mailbox.id;
  if (selected.read_only) {
    const store::Uid claimed = services_.recent.claimed(id);
    selected.view.add_recent(claimed + 1, largest);
  } else {
    const auto [first, last] = services_.recent.claim(id, largest);
    selected.view.add_recent(first, last);
  }
}

std::string Session::flags_item(store::Uid uid, const store::Flags& flags) {
  MailboxView& view = selected_->view;
  connection_.send(view.announce(flags));
  return view.flags_item(uid, flags, reporting(false));
}

asio::awaitable<void> Session::select(const Command& command, bool read_only) {
  const Arguments& arguments = command.arguments;
  if (arguments.empty() || arguments.size() > 2 ||
      (arguments.size() == 2 && arguments[1].kind != Token::Kind::List)) {
    reply(command, "BAD " + command.name + " takes a mailbox name and optional parameters");
    co_return;
  }
  std::optional<Qresync> qresync;
  if (arguments.size() == 2) {
    const auto& parameters = arguments[1].children;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      if (parameters[i].is("CONDSTORE")) {
        condstore_ = true;
      } else if (parameters[i].is("QRESYNC") && i + 1 < parameters.size() &&
                 parameters[i + 1].kind == Token::Kind::List) {
        if (!qresync_) {
          reply(command, "BAD Enable QRESYNC first");
          co_return;
        }
        qresync = parse_qresync(parameters[++i]);
        if (!qresync) {
          reply(command, "BAD Malformed QRESYNC parameters");
          co_return;
        }
      } else {
        reply(command, "BAD Unknown SELECT parameter");
        co_return;
      }
    }
  }
  auto name = mailbox_argument(command, arguments[0]);
  if (!name) co_return;
  // RFC 9051 §6.3.2: selecting deselects first, even when the new one fails.
  if (selected_) {
    selected_.reset();
    signal_->selected = 0;
    untagged("OK [CLOSED] Previous mailbox closed");
  }
  saved_.clear();  // RFC 5182 §2.1: "$" starts empty in each selected mailbox
  bool children = false;
  auto found = co_await read(true, [&]() -> Result<store::Mailbox> {
    auto mailbox = services_.store.find_mailbox(account_.id, *name);
    if (!mailbox || !rev2_) return mailbox;
    auto mailboxes = services_.store.list_mailboxes(account_.id);
    if (!mailboxes) return tl::unexpected(mailboxes.error());
    children = has_children(*mailboxes, *name);
    return mailbox;
  });
  Result<store::MailboxSnapshot> snapshot = tl::unexpected(Error{});
  if (found) {
    const bool small = found->message_count <= kInlineMessages;
    snapshot = co_await read(small, [&] { return services_.store.snapshot(found->id); });
  } else {
    snapshot = tl::unexpected(found.error());
  }
  if (!snapshot) {
    reply(command, no_for(snapshot.error().code, "No such mailbox"));
    co_return;
  }
  const store::Mailbox& mailbox = snapshot->mailbox;
  selected_.emplace(Selected{mailbox, read_only, MailboxView(*snapshot, read_only)});
  signal_->selected = mailbox.id;
  signal_->dirty = false;
  claim_recent(mailbox.uidnext - 1);

  announce_selection(*snapshot, children);
  if (qresync && qresync->uidvalidity == mailbox.uidvalidity) {
    co_await resynchronize(*qresync, *snapshot);
  }
  audit(audit::kOpen, mailbox.name, static_cast<std::int64_t>(snapshot->messages.size()),
        command.name);
  reply(command, std::string(read_only ? "OK [READ-ONLY] " : "OK [READ-WRITE] ") + command.name +
                     " completed");
}

// The untagged responses that open a selected mailbox (RFC 9051 §6.3.1, RFC 3501
// §6.3.1 for IMAP4rev1 clients, RFC 7162 HIGHESTMODSEQ).
void Session::announce_selection(const store::MailboxSnapshot& snapshot, bool children) {
  const store::Mailbox& mailbox = snapshot.mailbox;
  const MailboxView& view = selected_->view;
  std::uint32_t first_unseen = 0;
  for (std::size_t i = 0; i < snapshot.messages.size() && first_unseen == 0; ++i) {
    if (!has_flag(snapshot.messages[i].flags, "\\Seen")) first_unseen = i + 1;
  }
  connection_.send(view.flags_responses());
  untagged(std::to_string(snapshot.messages.size()) + " EXISTS");
  if (!rev2_) {
    untagged(std::to_string(view.recent()) + " RECENT");
    if (first_unseen != 0) {
      untagged("OK [UNSEEN " + std::to_string(first_unseen) + "] First unseen message");
    }
  }
  if (rev2_) {
    // RFC 9051 §6.3.2: IMAP4rev2 SELECT names the mailbox in a LIST response.
    std::string attributes = children ? "\\HasChildren" : "\\HasNoChildren";
    if (const char* role = role_attribute(mailbox.role)) attributes += std::string(" ") + role;
    untagged("LIST (" + attributes + ") \"/\" " + quote_mailbox(mailbox.name));
  }
  untagged("OK [UIDVALIDITY " + std::to_string(mailbox.uidvalidity) + "] UIDs valid");
  untagged("OK [MAILBOXID (" + mailbox_id(mailbox.id) + ")] Ok");
  untagged("OK [UIDNEXT " + std::to_string(mailbox.uidnext) + "] Predicted next UID");
  untagged("OK [HIGHESTMODSEQ " + std::to_string(mailbox.highest_modseq) + "] Highest");
}

// RFC 7162 §3.2.5.1: what was expunged since the client's MODSEQ (VANISHED
// (EARLIER)), then the flags of what changed since.
asio::awaitable<void> Session::resynchronize(const Qresync& qresync,
                                             const store::MailboxSnapshot& snapshot) {
  const store::Mailbox& mailbox = snapshot.mailbox;
  const MailboxView& view = selected_->view;
  auto known = [&](store::Uid uid) {
    return !qresync.known_uids || qresync.known_uids->contains(uid, mailbox.uidnext);
  };
  const bool small = snapshot.messages.size() <= kInlineMessages;
  auto changes = co_await read(
      small, [&] { return services_.store.mailbox_changes(mailbox.id, qresync.modseq); });
  std::vector<store::Uid> vanished;
  if (changes) {
    for (store::Uid uid : changes->removed) {
      if (known(uid) && !view.msn_of(uid)) vanished.push_back(uid);
    }
  } else if (qresync.known_uids) {
    // The log does not reach back: every known UID that is gone.
    for (const auto& range : qresync.known_uids->resolve(mailbox.uidnext)) {
      for (store::Uid uid = range.first; uid <= range.last && uid < mailbox.uidnext; ++uid) {
        if (!view.msn_of(uid)) vanished.push_back(uid);
      }
    }
  }
  if (!vanished.empty()) untagged("VANISHED (EARLIER) " + format_number_set(std::move(vanished)));
  for (const auto& message : snapshot.messages) {
    if (message.modseq <= qresync.modseq || !known(message.uid)) continue;
    untagged(std::to_string(*view.msn_of(message.uid)) + " FETCH (UID " +
             std::to_string(message.uid) + " " + flags_item(message.uid, message.flags) +
             " MODSEQ (" + std::to_string(message.modseq) + "))");
  }
}

asio::awaitable<void> Session::close(const Command& command, bool expunge) {
  if (!command.arguments.empty()) {
    reply(command, "BAD " + command.name + " takes no arguments");
    co_return;
  }
  if (expunge && !selected_->read_only) {
    // RFC 9051 §6.4.1: CLOSE removes \Deleted messages without EXPUNGE responses.
    const store::MailboxId id = selected_->mailbox.id;
    auto expunged = co_await blocking(
        [&] { return expunge_deleted(services_.store, id, [](store::Uid) { return true; }); });
    if (expunged && !expunged->empty()) {
      audit(audit::kExpunge, selected_->mailbox.name, static_cast<std::int64_t>(expunged->size()),
            "CLOSE: UID " + format_number_set(*expunged));
    }
  }
  selected_.reset();
  signal_->selected = 0;
  reply(command, "OK " + command.name + " completed");
}

asio::awaitable<void> Session::expunge(const Command& command) {
  if (command.arguments.size() != (command.uid ? 1u : 0u)) {
    reply(command,
          command.uid ? "BAD UID EXPUNGE takes a UID set" : "BAD EXPUNGE takes no arguments");
    co_return;
  }
  std::optional<std::vector<store::Uid>> only;
  if (command.uid) {
    only = message_set(command, command.arguments[0]);
    if (!only) co_return;
  }
  if (selected_->read_only) {
    reply(command, "NO [READ-ONLY] Mailbox is read-only");
    co_return;
  }
  const store::MailboxId id = selected_->mailbox.id;
  const MailboxView& view = selected_->view;
  auto expunged = co_await blocking([&] {
    return expunge_deleted(services_.store, id, [&](store::Uid uid) {
      // Only what this client has seen: a message that arrived since is not its to remove.
      return view.msn_of(uid) && (!only || std::binary_search(only->begin(), only->end(), uid));
    });
  });
  if (!expunged) {
    reply(command, no_for(expunged.error().code, "EXPUNGE failed"));
    co_return;
  }
  if (!expunged->empty()) {
    audit(audit::kExpunge, selected_->mailbox.name, static_cast<std::int64_t>(expunged->size()),
          command.name + ": UID " + format_number_set(*expunged));
  }
  co_await update(true, true);
  reply(command, "OK EXPUNGE completed");
}

asio::awaitable<void> Session::store_flags(const Command& command) {
  const Arguments& arguments = command.arguments;
  if (arguments.size() < 3) {
    reply(command, "BAD STORE takes a message set, an item and flags");
    co_return;
  }
  auto uids = message_set(command, arguments[0]);
  if (!uids) co_return;
  store::FlagChange change;
  std::size_t at = 1;
  if (arguments[at].kind == Token::Kind::List) {
    const auto& modifier = arguments[at].children;
    if (modifier.size() != 2 || !modifier[0].is("UNCHANGEDSINCE") || !modifier[1].number()) {
      reply(command, "BAD Unknown STORE modifier");
      co_return;
    }
    change.unchanged_since = *modifier[1].number();
    enable_condstore();
    ++at;
  }
  std::string item = at < arguments.size() ? uppercase(arguments[at].text) : std::string();
  const bool silent = item.size() > 7 && item.ends_with(".SILENT");
  if (silent) item.resize(item.size() - 7);
  if (item == "FLAGS") {
    change.operation = store::FlagOperation::Replace;
  } else if (item == "+FLAGS") {
    change.operation = store::FlagOperation::Add;
  } else if (item == "-FLAGS") {
    change.operation = store::FlagOperation::Remove;
  } else {
    reply(command, "BAD STORE item must be FLAGS, +FLAGS or -FLAGS");
    co_return;
  }
  ++at;
  const bool listed = at + 1 == arguments.size() && arguments[at].kind == Token::Kind::List;
  const Arguments& values = listed ? arguments[at].children : arguments;
  auto flags = flag_arguments(command, values, listed ? 0 : at);
  if (!flags) co_return;
  change.flags = std::move(*flags);
  if (selected_->read_only) {
    reply(command, "NO [READ-ONLY] Mailbox is read-only");
    co_return;
  }
  const store::MailboxId id = selected_->mailbox.id;
  auto stored = co_await blocking([&] { return services_.store.change_flags(id, *uids, change); });
  if (!stored) {
    reply(command, stored.error().code == Errc::BadInput
                       ? "BAD Invalid flag"
                       : no_for(stored.error().code, "STORE failed"));
    co_return;
  }
  if (!stored->changed.empty()) {
    std::vector<std::uint32_t> changed;
    for (const auto& message : stored->changed) changed.push_back(message.uid);
    audit(audit::kChange, selected_->mailbox.name,
          static_cast<std::int64_t>(stored->changed.size()),
          "STORE " + item + " " + format_flags(change.flags) + " UID " +
              format_number_set(std::move(changed)));
  }
  MailboxView& view = selected_->view;
  auto report = [&](const store::MessageMeta& message, bool with_flags) {
    const auto msn = view.msn_of(message.uid);
    if (!msn) return;
    std::string line = std::to_string(*msn) + " FETCH (";
    if (with_flags) line += flags_item(message.uid, message.flags);
    // RFC 7162 section 3.2.4: with QRESYNC on, every FETCH response carries the UID.
    const bool with_uid = command.uid || qresync_;
    if (with_uid) line += std::string(with_flags ? " " : "") + "UID " + std::to_string(message.uid);
    if (condstore_) {
      line += std::string(with_flags || with_uid ? " " : "") + "MODSEQ (" +
              std::to_string(message.modseq) + ")";
    }
    if (line.back() != '(') untagged(line + ")");
  };
  for (const auto& message : stored->changed) {
    view.note_reported(message.uid, message.modseq);
    report(message, !silent);
  }
  // Already so: their flags (RFC 9051 section 6.4.6), and with UNCHANGEDSINCE their
  // MODSEQ even when .SILENT (RFC 7162 section 3.1.3).
  if (!silent || change.unchanged_since) {
    for (const auto& message : stored->unchanged) report(message, !silent);
  }
  if (!stored->conflicts.empty()) {
    std::vector<std::uint32_t> numbers;
    for (store::Uid uid : stored->conflicts) {
      if (command.uid) {
        numbers.push_back(uid);
      } else if (auto msn = view.msn_of(uid)) {
        numbers.push_back(*msn);
      }
    }
    reply(command,
          "OK [MODIFIED " + format_number_set(std::move(numbers)) + "] Conditional STORE failed");
    co_return;
  }
  reply(command, "OK STORE completed");
}

asio::awaitable<void> Session::copy(const Command& command, bool move) {
  if (command.arguments.size() != 2) {
    reply(command, "BAD " + command.name + " takes a message set and a mailbox");
    co_return;
  }
  auto uids = message_set(command, command.arguments[0]);
  if (!uids) co_return;
  auto name = mailbox_argument(command, command.arguments[1]);
  if (!name) co_return;
  if (move && selected_->read_only) {
    reply(command, "NO [READ-ONLY] Mailbox is read-only");
    co_return;
  }
  const store::MailboxId from = selected_->mailbox.id;
  struct Copied {
    store::MailboxId target = 0;
    std::uint32_t uidvalidity = 0;
    std::vector<store::Appended> appended;
    filter::Lesson lesson = filter::Lesson::None;
    std::vector<std::string> blob_ids;  // for the lesson
  };
  const store::Role from_role = selected_->mailbox.role;
  auto copied = co_await blocking([&]() -> Result<Copied> {
    auto target = services_.store.find_mailbox(account_.id, *name);
    if (!target) return tl::unexpected(target.error());
    Copied out{target->id, target->uidvalidity, {}, filter::Lesson::None, {}};
    // Filed into or out of Junk: the spam filter learns from it (filter/learning.h).
    if (services_.learner) out.lesson = filter::lesson_for(from_role, target->role);
    if (out.lesson != filter::Lesson::None) {
      auto messages = services_.store.get_messages(from, *uids);
      if (messages) {
        for (const store::MessageMeta& message : *messages) out.blob_ids.push_back(message.blob_id);
      }
    }
    auto appended = move ? services_.store.move_messages(from, *uids, target->id)
                         : services_.store.copy_messages(from, *uids, target->id);
    if (!appended) return tl::unexpected(appended.error());
    out.appended = std::move(*appended);
    return out;
  });
  if (!copied) {
    reply(command, copied.error().code == Errc::NotFound
                       ? "NO [TRYCREATE] No such mailbox"
                       : no_for(copied.error().code, command.name + " failed"));
    co_return;
  }
  if (!copied->appended.empty() && copied->lesson != filter::Lesson::None) {
    services_.learner->learn(copied->lesson, std::move(copied->blob_ids));
  }
  if (!copied->appended.empty()) {
    std::vector<std::uint32_t> sources;
    for (const auto& appended : copied->appended) sources.push_back(appended.source_uid);
    audit(audit::kChange, selected_->mailbox.name,
          static_cast<std::int64_t>(copied->appended.size()),
          command.name + " UID " + format_number_set(std::move(sources)) + " to " + *name);
  }
  std::string code;
  if (!copied->appended.empty()) {
    // RFC 4315 §3: source and destination UIDs pair up in order.
    std::string sources, targets;
    for (const auto& appended : copied->appended) {
      sources += (sources.empty() ? "" : ",") + std::to_string(appended.source_uid);
      targets += (targets.empty() ? "" : ",") + std::to_string(appended.uid);
    }
    code = "[COPYUID " + std::to_string(copied->uidvalidity) + " " + sources + " " + targets + "] ";
  }
  if (move) {
    if (!code.empty()) untagged("OK " + code + "Moved");
    co_await update(true, true);
    // RFC 6851 section 4.4: with QRESYNC, where MODSEQ stands after the move.
    const bool moved = !copied->appended.empty() && qresync_ && selected_;
    reply(command, moved ? "OK [HIGHESTMODSEQ " + std::to_string(selected_->view.modseq()) +
                               "] MOVE completed"
                         : std::string("OK MOVE completed"));
  } else {
    // Copied into the selected mailbox: EXISTS now, as after APPEND (append.cc).
    if (copied->target == selected_->mailbox.id) co_await update(true, true);
    reply(command, "OK " + code + "COPY completed");
  }
}

asio::awaitable<bool> Session::idle(const Command& command) {
  if (!command.arguments.empty()) {
    reply(command, "BAD IDLE takes no arguments");
    co_return true;
  }
  connection_.send("+ idling\r\n");
  const auto timeout = connection_.options().idle_timeout;
  for (;;) {
    if (revoked()) co_return false;
    co_await update(true, signal_->dirty);
    co_await notify_others();  // RFC 5465 section 4: IDLE sends what NOTIFY asked for
    if (!co_await connection_.flush()) co_return false;
    if (connection_.has_input()) break;
    if (signal_->dirty || signal_->others) continue;
    auto woken = co_await (connection_.read_more(timeout) || signal_->wait());
    if (woken.index() == 0 && !std::get<0>(woken)) co_return false;  // EOF or timeout
    if (connection_.has_input()) break;
  }
  auto line = co_await connection_.read_line(timeout);
  if (!line) co_return false;
  reply(command, iequals(*line, "DONE") ? "OK IDLE terminated" : "BAD Expected DONE");
  co_return true;
}

}  // namespace rampart::imap
