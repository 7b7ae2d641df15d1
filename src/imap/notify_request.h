// The arguments of NOTIFY (RFC 5465 section 8): NONE, or SET [STATUS] and event groups,
// each a mailbox filter and the events wanted there. Pure: the session turns mailbox
// names into store names and decides what to send (notify.cc).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "imap/command_parser.h"

namespace rampart::imap {

struct NotifyEvents {
  bool messages = false;       // MessageNew and MessageExpunge (one needs the other)
  bool flags = false;          // FlagChange
  bool names = false;          // MailboxName
  bool subscriptions = false;  // SubscriptionChange

  NotifyEvents& operator|=(const NotifyEvents& other) {
    messages |= other.messages;
    flags |= other.flags;
    names |= other.names;
    subscriptions |= other.subscriptions;
    return *this;
  }
  bool any() const { return messages || flags || names || subscriptions; }
};

struct NotifyGroup {
  // "inboxes" is taken as "personal", as RFC 5465 section 6.2 allows: every mailbox of
  // the account may receive mail (Sieve fileinto).
  enum class Filter { Personal, Subscribed, Subtree, Mailboxes };
  Filter filter = Filter::Personal;
  // Subtree, Mailboxes: as the client wrote them (the session makes them store names).
  std::vector<std::string> names;
  NotifyEvents events;
};

struct NotifyRequest {
  bool none = false;    // NOTIFY NONE
  bool status = false;  // SET STATUS: the initial STATUS responses
  // The "selected" or "selected-delayed" group, if any (events NONE gives one with no
  // events): message events only. `delayed` holds expunges back until a command allows
  // them; `fetch_items` is MessageNew's fetch-att list, empty when not given.
  bool has_selected = false;
  bool delayed = false;
  NotifyEvents selected;
  std::vector<Token> fetch_items;
  std::vector<NotifyGroup> groups;  // the other filters, in order
};

struct NotifyError {
  bool bad = true;  // BAD (syntax, RFC rules), else NO
  std::string text;
};

// The events this server can notify of, for NO [BADEVENT (...)].
inline constexpr const char* kNotifyEvents =
    "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange";
// Mailbox names one NOTIFY may list (then NO [NOTIFICATIONOVERFLOW]).
inline constexpr std::size_t kMaxNotifyNames = 1000;

std::variant<NotifyRequest, NotifyError> parse_notify(const std::vector<Token>& arguments);

}  // namespace rampart::imap
