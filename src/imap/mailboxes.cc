// LIST, LSUB, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE and STATUS.
#include <algorithm>
#include <variant>

#include "audit/trail.h"
#include "base/ascii.h"
#include "imap/mailbox_name.h"
#include "imap/responses_internal.h"
#include "imap/session_internal.h"

namespace rampart::imap {

namespace asio = boost::asio;

namespace {

// RFC 9051 §6.3.9: "*" matches anything, "%" anything but the hierarchy separator.
bool matches(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    const char c = pattern.front();
    if (c == '*' || c == '%') {
      pattern.remove_prefix(1);
      for (std::size_t i = 0; i <= name.size(); ++i) {
        if (matches(pattern, name.substr(i))) return true;
        if (i < name.size() && c == '%' && name[i] == '/') return false;
      }
      return false;
    }
    if (name.empty() || name.front() != c) return false;
    pattern.remove_prefix(1);
    name.remove_prefix(1);
  }
  return name.empty();
}

// INBOX matches case-insensitively, also as the first level of a pattern.
std::string canonical_pattern(std::string pattern) {
  if (pattern.size() >= 5 && iequals(std::string_view(pattern).substr(0, 5), "INBOX") &&
      (pattern.size() == 5 || pattern[5] == '/')) {
    pattern.replace(0, 5, "INBOX");
  }
  return pattern;
}

// What a LIST or LSUB command asks (RFC 9051 §6.3.9, RFC 5258 LIST-EXTENDED, RFC 5819
// LIST-STATUS), or the BAD text when it cannot be read.
struct ListRequest {
  bool select_subscribed = false, select_special_use = false, recursive = false;
  bool return_subscribed = false, return_special_use = true, return_children = true;
  const Token* status = nullptr;  // RETURN (STATUS (...)): the list of items
  std::string_view reference;
  std::vector<std::string_view> patterns;
};

std::variant<ListRequest, std::string> read_list(const std::vector<Token>& arguments, bool lsub) {
  ListRequest request{.select_subscribed = lsub};
  std::size_t at = 0;
  if (!lsub && at < arguments.size() && arguments[at].kind == Token::Kind::List) {
    for (const Token& option : arguments[at].children) {
      if (option.is("SUBSCRIBED")) {
        request.select_subscribed = true;
      } else if (option.is("SPECIAL-USE")) {
        request.select_special_use = true;
      } else if (option.is("RECURSIVEMATCH")) {
        request.recursive = true;
      } else if (!option.is("REMOTE")) {
        return "Unknown LIST selection option";
      }
    }
    // RFC 5258 §3: RECURSIVEMATCH needs another selection option.
    if (request.recursive && !request.select_subscribed && !request.select_special_use) {
      return "RECURSIVEMATCH needs SUBSCRIBED";
    }
    ++at;
  }
  if (arguments.size() < at + 2) return "LIST takes a reference and a mailbox pattern";
  // list-mailbox (RFC 9051 §9): an astring that may also hold "%" and "*".
  auto pattern_of = [](const Token& token) -> std::optional<std::string_view> {
    if (token.kind == Token::Kind::List || (token.kind == Token::Kind::String && token.binary)) {
      return std::nullopt;
    }
    return std::string_view(token.text);
  };
  const auto reference = pattern_of(arguments[at]);
  if (arguments[at + 1].kind == Token::Kind::List && !lsub) {
    for (const Token& pattern : arguments[at + 1].children) {
      if (!pattern_of(pattern)) break;
      request.patterns.push_back(*pattern_of(pattern));
    }
  } else if (pattern_of(arguments[at + 1])) {
    request.patterns.push_back(*pattern_of(arguments[at + 1]));
  }
  if (!reference || request.patterns.empty()) {
    return "LIST takes a reference and a mailbox pattern";
  }
  request.reference = *reference;
  at += 2;
  if (at < arguments.size()) {
    if (lsub || !arguments[at].is("RETURN") || at + 2 != arguments.size() ||
        arguments[at + 1].kind != Token::Kind::List) {
      return "Unexpected LIST arguments";
    }
    const auto& options = arguments[at + 1].children;
    for (std::size_t i = 0; i < options.size(); ++i) {
      if (options[i].is("SUBSCRIBED")) {
        request.return_subscribed = true;
      } else if (options[i].is("CHILDREN") || options[i].is("SPECIAL-USE")) {
      } else if (options[i].is("STATUS") && i + 1 < options.size() &&
                 options[i + 1].kind == Token::Kind::List) {
        request.status = &options[++i];
      } else {
        return "Unknown LIST return option";
      }
    }
  }
  return request;
}

}  // namespace

asio::awaitable<void> Session::list(const Command& command, bool lsub) {
  auto parsed = read_list(command.arguments, lsub);
  if (auto* bad = std::get_if<std::string>(&parsed)) {
    reply(command, "BAD " + *bad);
    co_return;
  }
  const ListRequest& request = std::get<ListRequest>(parsed);
  const auto& [select_subscribed, select_special_use, recursive, return_subscribed,
               return_special_use, return_children, status, reference, raw_patterns] = request;
  const char* verb = lsub ? "LSUB" : "LIST";
  // RFC 9051 §6.3.9: an empty pattern asks for the hierarchy separator.
  if (raw_patterns.size() == 1 && raw_patterns[0].empty()) {
    untagged(std::string(verb) + " (\\Noselect) \"/\" \"\"");
    reply(command, std::string("OK ") + verb + " completed");
    co_return;
  }
  std::vector<std::string> patterns;
  for (std::string_view raw : raw_patterns) {
    std::string joined = std::string(reference) + std::string(raw);
    if (!utf8_) {
      auto decoded = decode_mutf7(joined);
      if (!decoded) continue;  // matches no name a mailbox can have
      joined = std::move(*decoded);
    }
    patterns.push_back(canonical_pattern(std::move(joined)));
  }
  std::vector<std::string> orphans;  // subscribed names no mailbox has
  // As small as the account's mailbox list, which the answer holds anyway.
  auto mailboxes = co_await read(true, [&]() -> Result<std::vector<store::Mailbox>> {
    if (select_subscribed) {
      auto names = services_.store.orphan_subscriptions(account_.id);
      if (!names) return tl::unexpected(names.error());
      orphans = std::move(*names);
    }
    return services_.store.list_mailboxes(account_.id);
  });
  if (!mailboxes) {
    reply(command, no_for(mailboxes.error().code, "LIST failed"));
    co_return;
  }
  std::sort(mailboxes->begin(), mailboxes->end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  auto matched = [&](std::string_view name) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& pattern) { return matches(pattern, name); });
  };
  std::vector<const store::Mailbox*> with_status;
  for (const store::Mailbox& mailbox : *mailboxes) {
    if (!matched(mailbox.name)) continue;
    const char* role = role_attribute(mailbox.role);
    // A subscribed descendant the patterns do not reach is told of through its parent:
    // LSUB's \Noselect (RFC 3501 section 6.3.9), RECURSIVEMATCH's CHILDINFO (RFC 5258).
    const bool hidden_subscribed =
        select_subscribed && (recursive || lsub) &&
        (std::any_of(mailboxes->begin(), mailboxes->end(),
                     [&](const store::Mailbox& other) {
                       return other.subscribed && is_descendant(other.name, mailbox.name) &&
                              !matched(other.name);
                     }) ||
         std::any_of(orphans.begin(), orphans.end(), [&](const std::string& other) {
           return is_descendant(other, mailbox.name) && !matched(other);
         }));
    const bool children_subscribed = recursive && hidden_subscribed;
    if (select_subscribed && !mailbox.subscribed && !hidden_subscribed) continue;
    if (select_special_use && role == nullptr) continue;
    std::string attributes;
    auto add = [&](std::string_view attribute) {
      if (!attributes.empty()) attributes += ' ';
      attributes += attribute;
    };
    if (!lsub && return_children) {
      add(has_children(*mailboxes, mailbox.name) ? "\\HasChildren" : "\\HasNoChildren");
    }
    if (mailbox.subscribed && !lsub && (select_subscribed || return_subscribed)) {
      add("\\Subscribed");
    }
    if (role != nullptr && (return_special_use || lsub)) add(role);
    if (lsub && !mailbox.subscribed) add("\\Noselect");
    std::string line =
        std::string(verb) + " (" + attributes + ") \"/\" " + quote_mailbox(mailbox.name);
    if (children_subscribed) line += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    untagged(line);
    if (status != nullptr) with_status.push_back(&mailbox);
  }
  // RFC 5258 section 3.1: a subscribed name without a mailbox is \NonExistent.
  for (const std::string& name : orphans) {
    if (!matched(name)) continue;
    untagged(std::string(verb) + (lsub ? " () " : " (\\Subscribed \\NonExistent) ") + "\"/\" " +
             quote_mailbox(name));
  }
  for (const store::Mailbox* mailbox : with_status) {
    std::optional<store::MailboxSnapshot> snapshot;
    if (needs_messages(status->children, *mailbox)) {
      const bool small = mailbox->message_count <= kInlineMessages;
      auto taken = co_await read(small, [&] { return services_.store.snapshot(mailbox->id); });
      if (taken) snapshot = std::move(*taken);
    }
    auto items = status_items(status->children, *mailbox, snapshot ? &*snapshot : nullptr);
    if (!items) {
      reply(command, "BAD Unknown STATUS item");
      co_return;
    }
    untagged("STATUS " + quote_mailbox(mailbox->name) + " (" + *items + ")");
  }
  reply(command, std::string("OK ") + verb + " completed");
}

bool Session::needs_messages(const Arguments& items, const store::Mailbox& mailbox) const {
  return std::any_of(items.begin(), items.end(), [&](const Token& item) {
    if (item.is("DELETED")) return true;
    if (!item.is("RECENT")) return false;
    const store::Uid claimed = services_.recent.claimed(mailbox.id);
    return claimed != 0 && claimed + 1 < mailbox.uidnext;
  });
}

std::optional<std::string> Session::status_items(const Arguments& items,
                                                 const store::Mailbox& mailbox,
                                                 const store::MailboxSnapshot* snapshot) {
  std::string out;
  for (const Token& item : items) {
    std::uint64_t value = 0;
    if (item.is("MESSAGES")) {
      value = mailbox.message_count;
    } else if (item.is("UIDNEXT")) {
      value = mailbox.uidnext;
    } else if (item.is("UIDVALIDITY")) {
      value = mailbox.uidvalidity;
    } else if (item.is("UNSEEN")) {
      value = mailbox.unseen_count;
    } else if (item.is("MAILBOXID")) {
      if (!out.empty()) out += ' ';
      out += "MAILBOXID (" + mailbox_id(mailbox.id) + ")";  // RFC 8474 section 4
      continue;
    } else if (item.is("SIZE")) {
      value = mailbox.total_size;
    } else if (item.is("RECENT")) {
      // The messages no session has been told of (RFC 3501 section 2.3.2); IMAP4rev2
      // dropped \Recent, and a client that asks gets the same count. Counted over the
      // messages only when some but not all were claimed (needs_messages).
      const store::Uid claimed = services_.recent.claimed(mailbox.id);
      if (claimed == 0) {
        value = mailbox.message_count;
      } else if (claimed + 1 < mailbox.uidnext && snapshot != nullptr) {
        value = std::count_if(snapshot->messages.begin(), snapshot->messages.end(),
                              [&](auto& m) { return m.uid > claimed; });
      }
    } else if (item.is("HIGHESTMODSEQ")) {
      value = mailbox.highest_modseq;
      enable_condstore();
    } else if (item.is("DELETED") && snapshot != nullptr) {
      value = std::count_if(snapshot->messages.begin(), snapshot->messages.end(),
                            [](auto& m) { return has_flag(m.flags, "\\Deleted"); });
    } else {
      return std::nullopt;
    }
    if (!out.empty()) out += ' ';
    out += uppercase(item.text) + " " + std::to_string(value);
  }
  return out;
}

asio::awaitable<void> Session::status(const Command& command) {
  const Arguments& arguments = command.arguments;
  if (arguments.size() != 2 || arguments[1].kind != Token::Kind::List ||
      arguments[1].children.empty()) {
    reply(command, "BAD STATUS takes a mailbox and a list of items");
    co_return;
  }
  auto name = mailbox_argument(command, arguments[0]);
  if (!name) co_return;
  auto mailbox =
      co_await read(true, [&] { return services_.store.find_mailbox(account_.id, *name); });
  Result<store::MailboxSnapshot> found = tl::unexpected(Error{});
  if (!mailbox) {
    found = tl::unexpected(mailbox.error());
  } else if (needs_messages(arguments[1].children, *mailbox)) {
    const bool small = mailbox->message_count <= kInlineMessages;
    found = co_await read(small, [&] { return services_.store.snapshot(mailbox->id); });
  } else {
    found = store::MailboxSnapshot{.mailbox = std::move(*mailbox), .messages = {}};
  }
  if (!found) {
    reply(command, no_for(found.error().code, "No such mailbox"));
    co_return;
  }
  auto items = status_items(arguments[1].children, found->mailbox, &*found);
  if (!items) {
    reply(command, "BAD Unknown STATUS item");
    co_return;
  }
  untagged("STATUS " + quote_mailbox(found->mailbox.name) + " (" + *items + ")");
  reply(command, "OK STATUS completed");
}

// RFC 9208: one quota root, "", for the whole account, with the STORAGE resource in
// units of 1024 bytes. An account without a limit has no quota root at all.
asio::awaitable<void> Session::quota(const Command& command) {
  const Arguments& arguments = command.arguments;
  if (command.name == "SETQUOTA") {
    reply(command, "NO [NOPERM] Quotas are set by the administrator");
    co_return;
  }
  if (arguments.size() != 1 || !arguments[0].astring()) {
    reply(command, "BAD " + command.name + " takes one argument");
    co_return;
  }
  std::optional<std::string> name;
  if (command.name == "GETQUOTAROOT") {
    name = mailbox_argument(command, arguments[0]);
    if (!name) co_return;
  }
  struct Quota {
    store::Account account;
    store::Usage usage;
  };
  auto found = co_await blocking([&]() -> Result<Quota> {
    if (name) {
      auto mailbox = services_.store.find_mailbox(account_.id, *name);
      if (!mailbox) return tl::unexpected(mailbox.error());
    }
    auto account = services_.accounts.get_account(account_.id);
    if (!account) return tl::unexpected(account.error());
    auto usage = services_.accounts.usage(account_.id);
    if (!usage) return tl::unexpected(usage.error());
    return Quota{std::move(*account), *usage};
  });
  if (!found) {
    reply(command, no_for(found.error().code, command.name + " failed"));
    co_return;
  }
  const bool limited = found->account.quota_bytes != 0;
  if (name) untagged("QUOTAROOT " + quote_mailbox(*name) + (limited ? " \"\"" : ""));
  if (!limited || (!name && !arguments[0].astring()->empty())) {
    if (!name) {
      reply(command, "NO [NONEXISTENT] No such quota root");
      co_return;
    }
  } else {
    untagged("QUOTA \"\" (STORAGE " + std::to_string((found->usage.bytes + 1023) / 1024) + " " +
             std::to_string(found->account.quota_bytes / 1024) + ")");
  }
  reply(command, "OK " + command.name + " completed");
}

asio::awaitable<void> Session::create(const Command& command) {
  if (command.arguments.size() != 1) {
    reply(command, "BAD CREATE takes a mailbox name");
    co_return;
  }
  auto name = mailbox_argument(command, command.arguments[0]);
  if (!name) co_return;
  // RFC 9051 §6.3.4: a trailing separator says the name will have children.
  while (!name->empty() && name->back() == '/') name->pop_back();
  auto created = co_await blocking(
      [&] { return services_.store.create_mailbox(account_.id, *name, store::Role::None); });
  if (!created) {
    reply(command, no_for(created.error().code, "CREATE failed"));
    co_return;
  }
  audit(audit::kChange, *name, 0, "CREATE mailbox");
  reply(command, "OK [MAILBOXID (" + mailbox_id(created->id) + ")] CREATE completed");
}

asio::awaitable<void> Session::remove(const Command& command) {
  if (command.arguments.size() != 1) {
    reply(command, "BAD DELETE takes a mailbox name");
    co_return;
  }
  auto name = mailbox_argument(command, command.arguments[0]);
  if (!name) co_return;
  if (*name == "INBOX") {
    reply(command, "NO [CANNOT] INBOX cannot be deleted");
    co_return;
  }
  std::uint32_t messages = 0;
  auto removed = co_await blocking([&]() -> Result<store::MailboxId> {
    auto mailboxes = services_.store.list_mailboxes(account_.id);
    if (!mailboxes) return tl::unexpected(mailboxes.error());
    auto it = std::find_if(mailboxes->begin(), mailboxes->end(),
                           [&](const store::Mailbox& mailbox) { return mailbox.name == *name; });
    if (it == mailboxes->end()) return fail(Errc::NotFound);
    // Children would be left without a parent to list them under: Dovecot refuses too.
    if (has_children(*mailboxes, *name)) return fail(Errc::Exists);
    messages = it->message_count;
    auto deleted = services_.store.delete_mailbox(it->id);
    if (!deleted) return tl::unexpected(deleted.error());
    return it->id;
  });
  if (!removed) {
    reply(command, removed.error().code == Errc::Exists
                       ? "NO [INUSE] Delete the mailbox's children first"
                       : no_for(removed.error().code, "DELETE failed"));
    co_return;
  }
  // Deleting a mailbox deletes its messages: it counts towards mass deletion.
  audit(audit::kExpunge, *name, messages, "DELETE mailbox");
  if (selected_ && selected_->mailbox.id == *removed) {
    selected_.reset();
    signal_->selected = 0;
    untagged("OK [CLOSED] Mailbox deleted");
  }
  reply(command, "OK DELETE completed");
}

asio::awaitable<void> Session::rename(const Command& command) {
  if (command.arguments.size() != 2) {
    reply(command, "BAD RENAME takes two mailbox names");
    co_return;
  }
  auto from = mailbox_argument(command, command.arguments[0]);
  if (!from) co_return;
  auto to = mailbox_argument(command, command.arguments[1]);
  if (!to) co_return;
  while (!to->empty() && to->back() == '/') to->pop_back();
  if (*from == "INBOX") {
    reply(command, "NO [CANNOT] Renaming INBOX is not supported");
    co_return;
  }
  auto renamed = co_await blocking([&]() -> Result<void> {
    auto mailbox = services_.store.find_mailbox(account_.id, *from);
    if (!mailbox) return tl::unexpected(mailbox.error());
    return services_.store.rename_mailbox(mailbox->id, *to);
  });
  if (!renamed) {
    reply(command, no_for(renamed.error().code, "RENAME failed"));
    co_return;
  }
  audit(audit::kChange, *from, 0, "RENAME mailbox to " + *to);
  reply(command, "OK RENAME completed");
}

asio::awaitable<void> Session::subscribe(const Command& command, bool subscribed) {
  if (command.arguments.size() != 1) {
    reply(command, "BAD " + command.name + " takes a mailbox name");
    co_return;
  }
  auto name = mailbox_argument(command, command.arguments[0]);
  if (!name) co_return;
  // RFC 3501 section 6.3.6: a name may be subscribed whether or not a mailbox has it.
  auto done = co_await blocking(
      [&] { return services_.store.subscribe_name(account_.id, *name, subscribed); });
  if (!done) {
    reply(command, no_for(done.error().code, command.name + " failed"));
    co_return;
  }
  reply(command, "OK " + command.name + " completed");
}

}  // namespace rampart::imap
