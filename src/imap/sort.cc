// SORT and THREAD (RFC 5256) over the messages a search selects.
#include "base/ascii.h"
#include "imap/responses_internal.h"
#include "imap/search_internal.h"
#include "imap/session_internal.h"
#include "imap/sort_thread.h"

namespace rampart::imap {

namespace asio = boost::asio;

asio::awaitable<void> Session::sort(const Command& command) {
  const Arguments& arguments = command.arguments;
  std::optional<std::vector<SortCriterion>> criteria;
  if (arguments.size() >= 3) criteria = parse_sort_criteria(arguments[0]);
  if (!criteria) {
    reply(command, "BAD SORT takes criteria, a charset and search keys");
    co_return;
  }
  co_await sort_or_thread(command, *criteria, std::nullopt);
}

asio::awaitable<void> Session::thread(const Command& command) {
  const Arguments& arguments = command.arguments;
  std::optional<ThreadAlgorithm> algorithm;
  if (arguments.size() >= 3 && arguments[0].kind == Token::Kind::Atom) {
    algorithm = parse_thread_algorithm(arguments[0].text);
  }
  if (!algorithm) {
    reply(command, "BAD THREAD takes an algorithm, a charset and search keys");
    co_return;
  }
  const std::vector<SortCriterion> none;
  co_await sort_or_thread(command, none, algorithm);
}

asio::awaitable<void> Session::sort_or_thread(const Command& command,
                                              const std::vector<SortCriterion>& criteria,
                                              std::optional<ThreadAlgorithm> algorithm) {
  const Arguments& arguments = command.arguments;
  const auto charset = arguments[1].astring();
  if (!charset || !supported_charset(uppercase(*charset))) {
    reply(command, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    co_return;
  }
  SearchError error;
  const Arguments keys(arguments.begin() + 2, arguments.end());
  auto program = parse_search(keys, error);
  if (!program || program->result.requested || !program->charset.empty()) {
    reply(command, "BAD " + (program ? std::string("Unexpected RETURN or CHARSET") : error.text));
    co_return;
  }
  const store::MailboxId id = selected_->mailbox.id;
  auto found = co_await blocking([&] {
    return evaluate(services_.store, services_.blobs, id, selected_->view, program->key, saved_,
                    true);
  });
  if (!found) {
    reply(command, no_for(found.error().code, command.name + " failed"));
    co_return;
  }
  std::vector<SortItem> items;
  for (const Match& match : *found) {
    items.push_back({.number = command.uid ? match.uid : match.msn,
                     .internal_date = match.internal_date,
                     .size = match.size,
                     .envelope = &*match.envelope});
  }
  if (algorithm) {
    const std::string threads = thread_items(items, *algorithm);
    untagged(threads.empty() ? "THREAD" : "THREAD " + threads);
  } else {
    std::string line = "SORT";
    for (std::uint32_t number : sort_items(std::move(items), criteria)) {
      line += " " + std::to_string(number);
    }
    untagged(line);
  }
  reply(command, "OK " + command.name + " completed");
}

}  // namespace rampart::imap
