#include "imap/notify_request.h"

#include <optional>

namespace rampart::imap {

namespace {

using Result = std::variant<NotifyRequest, NotifyError>;

NotifyError bad(std::string text) { return {.bad = true, .text = std::move(text)}; }

struct ParsedEvents {
  NotifyEvents events;
  bool message_new = false, message_expunge = false;
  bool unsupported = false;
  std::vector<Token> fetch_items;
};

// events = "(" event *(SP event) ")" / "NONE"; nullopt: BAD text in `error`.
std::optional<ParsedEvents> parse_events(const Token& token, bool selected, std::string& error) {
  ParsedEvents out;
  if (token.is("NONE")) return out;
  if (token.kind != Token::Kind::List || token.children.empty()) {
    error = "NOTIFY: events are a list or NONE";
    return std::nullopt;
  }
  const std::vector<Token>& events = token.children;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Token& event = events[i];
    if (event.kind != Token::Kind::Atom) {
      error = "NOTIFY: an event is an atom";
      return std::nullopt;
    }
    if (event.is("MessageNew")) {
      out.message_new = true;
      if (i + 1 < events.size() && events[i + 1].kind == Token::Kind::List) {
        // RFC 5465 section 5.1: fetch attributes only for the selected mailbox.
        if (!selected || events[i + 1].children.empty()) {
          error = "NOTIFY: MessageNew takes fetch attributes only for the selected mailbox";
          return std::nullopt;
        }
        out.fetch_items = events[++i].children;
      }
    } else if (event.is("MessageExpunge")) {
      out.message_expunge = true;
    } else if (event.is("FlagChange")) {
      out.events.flags = true;
    } else if (event.is("MailboxName")) {
      out.events.names = true;
    } else if (event.is("SubscriptionChange")) {
      out.events.subscriptions = true;
    } else {
      // AnnotationChange, the METADATA events and any other atom (event-ext).
      out.unsupported = true;
    }
  }
  // RFC 5465 section 5: MessageNew and MessageExpunge go together, and FlagChange needs
  // both.
  if (out.message_new != out.message_expunge) {
    error = "NOTIFY: MessageNew and MessageExpunge go together";
    return std::nullopt;
  }
  out.events.messages = out.message_new;
  if (out.events.flags && !out.events.messages) {
    error = "NOTIFY: FlagChange needs MessageNew and MessageExpunge";
    return std::nullopt;
  }
  // Section 6.1: only message events for the selected mailbox.
  if (selected && (out.events.names || out.events.subscriptions)) {
    error = "NOTIFY: only message events for the selected mailbox";
    return std::nullopt;
  }
  return out;
}

}  // namespace

Result parse_notify(const std::vector<Token>& arguments) {
  NotifyRequest request;
  if (arguments.size() == 1 && arguments[0].is("NONE")) {
    request.none = true;
    return request;
  }
  if (arguments.empty() || !arguments[0].is("SET")) return bad("NOTIFY takes SET or NONE");
  std::size_t next = 1;
  if (next < arguments.size() && arguments[next].is("STATUS")) {
    request.status = true;
    ++next;
  }
  if (next == arguments.size()) return bad("NOTIFY SET needs at least one event group");
  bool unsupported = false;
  std::size_t names = 0;
  for (; next < arguments.size(); ++next) {
    const Token& group = arguments[next];
    if (group.kind != Token::Kind::List || group.children.size() < 2 ||
        group.children[0].kind != Token::Kind::Atom) {
      return bad("NOTIFY: an event group is (filter events)");
    }
    const Token& filter = group.children[0];
    const bool selected = filter.is("selected") || filter.is("selected-delayed");
    const bool named = filter.is("subtree") || filter.is("mailboxes");
    if (group.children.size() != (named ? 3u : 2u)) {
      return bad("NOTIFY: an event group is (filter events)");
    }
    std::string error;
    auto events = parse_events(group.children.back(), selected, error);
    if (!events) return bad(error);
    unsupported |= events->unsupported;
    if (selected) {
      if (request.has_selected) return bad("NOTIFY: one selected filter at most");
      request.has_selected = true;
      request.delayed = filter.is("selected-delayed");
      request.selected = events->events;
      request.fetch_items = std::move(events->fetch_items);
      continue;
    }
    NotifyGroup out{.filter = NotifyGroup::Filter::Personal, .names = {}, .events = events->events};
    if (filter.is("inboxes") || filter.is("personal")) {
      out.filter = NotifyGroup::Filter::Personal;
    } else if (filter.is("subscribed")) {
      out.filter = NotifyGroup::Filter::Subscribed;
    } else if (named) {
      out.filter =
          filter.is("subtree") ? NotifyGroup::Filter::Subtree : NotifyGroup::Filter::Mailboxes;
      const Token& given = group.children[1];
      const std::vector<Token> one{given};
      const std::vector<Token>& tokens = given.kind == Token::Kind::List ? given.children : one;
      if (tokens.empty()) return bad("NOTIFY: " + filter.text + " needs a mailbox");
      for (const Token& name : tokens) {
        const auto text = name.astring();
        if (!text) return bad("NOTIFY: a mailbox name is an astring");
        out.names.emplace_back(*text);
      }
      names += out.names.size();
    } else {
      return bad("NOTIFY: unknown filter " + filter.text);
    }
    request.groups.push_back(std::move(out));
  }
  if (unsupported) {
    return NotifyError{.bad = false,
                       .text = std::string("[BADEVENT (") + kNotifyEvents + ")] Unsupported event"};
  }
  if (names > kMaxNotifyNames) {
    return NotifyError{.bad = false, .text = "[NOTIFICATIONOVERFLOW] Too many mailboxes"};
  }
  return request;
}

}  // namespace rampart::imap
