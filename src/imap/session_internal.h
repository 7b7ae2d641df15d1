// The authenticated and selected states (RFC 9051 §6.3-6.4): one object per logged-in
// connection. session.cc holds the command table and dispatch; the commands live in
// files by area: mailboxes.cc (LIST, CREATE, STATUS ...), selected.cc (SELECT, STORE,
// COPY, EXPUNGE, IDLE and the untagged updates), fetch.cc, search.cc (SEARCH and the
// evaluation SORT and THREAD share), sort.cc (SORT, THREAD) and append.cc.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "imap/command_parser.h"
#include "imap/connection_internal.h"
#include "imap/fetch_format.h"
#include "imap/mailbox_view.h"
#include "imap/notify_request.h"
#include "imap/recent.h"
#include "imap/session.h"
#include "imap/sort_thread.h"
#include "net/change_watch.h"
#include "net/offload.h"
#include "store/store.h"

namespace rampart::imap {

// Wakes a session in IDLE when its selected mailbox changes; read and written on the
// session's thread only (net/change_watch.h).
struct ChangeSignal : net::ChangeWatch {
  using net::ChangeWatch::ChangeWatch;
  store::MailboxId selected = 0;
  bool dirty = false;         // the selected mailbox changed since the last update
  bool watch_others = false;  // NOTIFY asks for other mailboxes' changes
  bool others = false;        // and something changed since notify_others last looked
  std::uint64_t wakes = 0;    // changes seen in all: a loop notices what came meanwhile
};

struct CommandSpec;  // session.cc: one entry per command
struct Qresync;      // selected.cc: SELECT's QRESYNC parameters

// Whether FETCH would take `items` (fetch.cc).
bool valid_fetch_items(const Token& items);

// The bounds of a small read (Session::read).
inline constexpr std::size_t kInlineMessages = 2000;
inline constexpr std::uint64_t kInlineBytes = 256 * 1024;

class Session {
 public:
  Session(Connection& connection, Services& services, store::Account account,
          std::uint64_t credentials_as_of);
  ~Session();
  boost::asio::awaitable<void> run();

 private:
  using Arguments = std::vector<Token>;
  struct Selected {
    store::Mailbox mailbox;
    bool read_only = false;
    MailboxView view;
  };

  // Store work for a command runs on the blocking pool, so that the connection's thread
  // goes on serving its other connections meanwhile.
  template <class Function>
  boost::asio::awaitable<std::invoke_result_t<Function&>> blocking(Function function);
  // A read that is `small` runs right here instead: the hop to the pool and back costs
  // more than it does (docs/imap.md, "Where commands run"). Small means it writes
  // nothing and reads at most kInlineMessages messages' metadata, one FETCH batch's
  // structures, and kInlineBytes of message bytes.
  template <class Function>
  boost::asio::awaitable<std::invoke_result_t<Function&>> read(bool small, Function function);
  // The tagged response, sent after the untagged updates once the command is done.
  void reply(const Command& command, std::string_view text) {
    tagged_ = command.tag + " " + std::string(text) + "\r\n";
  }
  void untagged(std::string_view text) { connection_.send("* " + std::string(text) + "\r\n"); }
  Encoding encoding() const { return {.utf8 = utf8_}; }
  // A mailbox name from the client, in UTF-8 with INBOX canonical, or the response for
  // a name there cannot be.
  std::variant<std::string, const char*> mailbox_name(const Token& token) const;
  // The same, replying that response; nullopt: it was sent.
  std::optional<std::string> mailbox_argument(const Command& command, const Token& token);
  // The flags of STORE or APPEND (`values` from `from` on): system flags in their
  // canonical spelling, keywords as given. Replies BAD and returns nothing for \Recent,
  // \*, NIL, a non-atom, a keyword over kMaxKeywordBytes or more than kMaxFlags.
  std::optional<std::vector<std::string>> flag_arguments(const Command& command,
                                                         const std::vector<Token>& values,
                                                         std::size_t from = 0);
  static constexpr std::size_t kMaxKeywordBytes = 128;
  static constexpr std::size_t kMaxFlags = 100;
  std::string quote_mailbox(std::string_view name) const;
  // Records an access to the account's mail in the audit trail (audit/trail.h kinds).
  void audit(const char* kind, std::string_view mailbox, std::int64_t count, std::string detail);
  // True (BYE queued) when the account's credentials changed since login.
  bool revoked();

  boost::asio::awaitable<bool> execute(Command& command);  // false: end the session
  // Runs a known command (session.cc's table); false: end the session.
  boost::asio::awaitable<bool> dispatch(const CommandSpec& spec, Command& command);
  boost::asio::awaitable<bool> compress(const Command& command);

  // mailboxes.cc
  boost::asio::awaitable<void> list(const Command& command, bool lsub);
  boost::asio::awaitable<void> create(const Command& command);
  boost::asio::awaitable<void> remove(const Command& command);
  boost::asio::awaitable<void> rename(const Command& command);
  boost::asio::awaitable<void> subscribe(const Command& command, bool subscribed);
  boost::asio::awaitable<void> status(const Command& command);
  // Whether STATUS `items` of `mailbox` are counted over its messages (DELETED, and
  // RECENT when only some were claimed) rather than read off its row.
  bool needs_messages(const Arguments& items, const store::Mailbox& mailbox) const;
  std::optional<std::string> status_items(const Arguments& items, const store::Mailbox& mailbox,
                                          const store::MailboxSnapshot* snapshot);
  void enable(const Command& command);
  boost::asio::awaitable<void> quota(const Command& command);

  // selected.cc
  boost::asio::awaitable<void> select(const Command& command, bool read_only);
  void announce_selection(const store::MailboxSnapshot& snapshot, bool children);
  boost::asio::awaitable<void> resynchronize(const Qresync& qresync,
                                             const store::MailboxSnapshot& snapshot);
  boost::asio::awaitable<void> close(const Command& command, bool expunge);
  boost::asio::awaitable<void> expunge(const Command& command);
  boost::asio::awaitable<void> store_flags(const Command& command);
  boost::asio::awaitable<void> copy(const Command& command, bool move);
  boost::asio::awaitable<bool> idle(const Command& command);
  // Sends the untagged responses for what changed in the selected mailbox.
  boost::asio::awaitable<void> update(bool expunges_allowed, bool force = false);
  MailboxView::Reporting reporting(bool expunges_allowed) const {
    return {.expunges_allowed = expunges_allowed,
            .qresync = qresync_,
            .condstore = condstore_,
            .recent = !rev2_};
  }
  // A CONDSTORE-enabling command (RFC 7162 section 3.1) was given.
  void enable_condstore();
  // An IMAP4rev1 session told of the selected mailbox's messages up to `largest` takes
  // those no session has been told of as \Recent (EXAMINE: without claiming them).
  void claim_recent(store::Uid largest);
  // The untagged FLAGS responses for a new keyword, then "FLAGS (...)" of one message.
  std::string flags_item(store::Uid uid, const store::Flags& flags);
  std::optional<std::vector<store::Uid>> message_set(const Command& command, const Token& token);

  // fetch.cc
  boost::asio::awaitable<void> fetch(const Command& command);

  // search.cc
  boost::asio::awaitable<void> search(const Command& command);
  boost::asio::awaitable<void> sort(const Command& command);
  boost::asio::awaitable<void> thread(const Command& command);
  boost::asio::awaitable<void> sort_or_thread(const Command& command,
                                              const std::vector<SortCriterion>& criteria,
                                              std::optional<ThreadAlgorithm> algorithm);

  // append.cc
  boost::asio::awaitable<void> append(const Command& command);

  // notify.cc (RFC 5465)
  boost::asio::awaitable<void> notify(const Command& command);
  // With NOTIFY set, between commands: sends what happens until the client sends
  // something; false when the connection ends.
  boost::asio::awaitable<bool> notify_until_input();
  // The LIST and STATUS responses for what changed in mailboxes NOTIFY watches (other
  // than the selected one's messages) since the last call.
  boost::asio::awaitable<void> notify_others();
  // The events NOTIFY asked for in `mailbox` by its groups other than "selected".
  NotifyEvents notify_events(const store::Mailbox& mailbox) const;
  // Whether NOTIFY leaves the selected mailbox's message events out (RFC 5465 section
  // 6.1: no "selected" group is "selected NONE").
  bool selected_muted() const;
  // MessageNew's fetch attributes for the messages after `after`, up to the newest.
  boost::asio::awaitable<void> notify_fetch(store::Uid after);

  Connection& connection_;
  Services& services_;
  const store::Account account_;
  // The directory's credential clock before the login was checked: once the account's
  // credentials change after it (password changed, app password or account removed)
  // the session ends before its next command.
  const std::uint64_t credentials_as_of_;
  std::shared_ptr<ChangeSignal> signal_;
  std::unique_ptr<store::ChangeBus::Subscription> subscription_;
  std::optional<Selected> selected_;
  std::string tagged_;
  std::vector<store::Uid> saved_;  // SEARCHRES "$" (RFC 5182)
  // NOTIFY's settings, and the mailboxes as notify_others last saw them.
  std::optional<NotifyRequest> notify_;
  std::vector<store::Mailbox> notify_known_;
  bool utf8_ = false;  // UTF8=ACCEPT or IMAP4rev2 enabled
  bool rev2_ = false;  // IMAP4rev2 enabled
  bool condstore_ = false;
  bool qresync_ = false;
};

template <class Function>
boost::asio::awaitable<std::invoke_result_t<Function&>> Session::blocking(Function function) {
  co_return co_await net::offload(services_.blocking, std::move(function));
}

template <class Function>
boost::asio::awaitable<std::invoke_result_t<Function&>> Session::read(bool small,
                                                                      Function function) {
  if (small) co_return function();
  co_return co_await net::offload(services_.blocking, std::move(function));
}

}  // namespace rampart::imap
