// Email/query and Email/queryChanges (RFC 8621 §4.4-4.5): the filter is
// email_filter.cc's, the sort, the window and the changes are here.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>
#include <set>

#include "base/ascii.h"
#include "jmap/email_filter_internal.h"
#include "jmap/email_format.h"
#include "jmap/email_internal.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"
#include "mime/header.h"

namespace rampart::jmap {
namespace {

struct Comparator {
  std::string property;
  bool ascending = true;
  std::string keyword;
};

std::string sort_address(const std::vector<mime::Address>& addresses) {
  for (const auto& address : addresses) {
    if (address.kind != mime::Address::Kind::Mailbox) continue;
    return lowercase(address.name.empty() ? mime::address_spec(address) : address.name);
  }
  return {};
}

// -1, 0, 1 for a before, equal to, after b under one comparator, ascending.
int compare(const Comparator& comparator, EmailView& a, EmailView& b, const ThreadIndex& threads) {
  auto order = [](auto x, auto y) { return x < y ? -1 : y < x ? 1 : 0; };
  const std::string& p = comparator.property;
  if (p == "receivedAt") return order(a.meta().internal_date, b.meta().internal_date);
  if (p == "size") return order(a.meta().size, b.meta().size);
  if (p == "hasKeyword") {
    return order(has_keyword(a.meta().flags, comparator.keyword),
                 has_keyword(b.meta().flags, comparator.keyword));
  }
  if (p == "someInThreadHaveKeyword" || p == "allInThreadHaveKeyword") {
    const bool all = p == "allInThreadHaveKeyword";
    return order(thread_keyword(threads, a.meta(), comparator.keyword, all),
                 thread_keyword(threads, b.meta(), comparator.keyword, all));
  }
  const mime::Envelope& ea = a.structure()->envelope;
  const mime::Envelope& eb = b.structure()->envelope;
  if (p == "sentAt") return order(ea.date_unix.value_or(0), eb.date_unix.value_or(0));
  if (p == "from") return order(sort_address(ea.from), sort_address(eb.from));
  if (p == "to") return order(sort_address(ea.to), sort_address(eb.to));
  if (p == "subject") return order(lowercase(ea.subject), lowercase(eb.subject));
  return 0;
}

Checked<std::vector<Comparator>> read_sort(const json::object& arguments) {
  std::vector<Comparator> out;
  const json::value* sort = argument(arguments, "sort");
  if (!sort) return std::vector<Comparator>{{"receivedAt", false, {}}};
  const json::array* list = sort->if_array();
  if (!list) return tl::unexpected(invalid_arguments("sort is a list of comparators"));
  for (const json::value& item : *list) {
    const json::object* object = item.if_object();
    const json::value* property = object ? object->if_contains("property") : nullptr;
    if (!property || !property->is_string())
      return tl::unexpected(invalid_arguments("a comparator has a property"));
    Comparator comparator{std::string(property->get_string()), true, {}};
    if (const json::value* ascending = object->if_contains("isAscending")) {
      if (!ascending->is_bool())
        return tl::unexpected(invalid_arguments("isAscending is a boolean"));
      comparator.ascending = ascending->get_bool();
    }
    if (const json::value* collation = object->if_contains("collation");
        collation && !(collation->is_string() && (collation->get_string() == "i;ascii-casemap" ||
                                                  collation->get_string() == "i;octet"))) {
      return tl::unexpected(MethodError{"unsupportedSort", "unsupported collation"});
    }
    static constexpr std::string_view kSortable[] = {"receivedAt",
                                                     "size",
                                                     "from",
                                                     "to",
                                                     "subject",
                                                     "sentAt",
                                                     "hasKeyword",
                                                     "someInThreadHaveKeyword",
                                                     "allInThreadHaveKeyword"};
    if (std::find(std::begin(kSortable), std::end(kSortable), comparator.property) ==
        std::end(kSortable)) {
      return tl::unexpected(
          MethodError{"unsupportedSort", "cannot sort by " + comparator.property});
    }
    if (comparator.property.find("Keyword") != std::string::npos) {
      const json::value* keyword = object->if_contains("keyword");
      if (!keyword || !keyword->is_string() || !valid_keyword(keyword->get_string())) {
        return tl::unexpected(invalid_arguments(comparator.property + " needs a keyword"));
      }
      comparator.keyword = std::string(keyword->get_string());
    }
    out.push_back(std::move(comparator));
  }
  return out;
}

struct QueryResult {
  std::vector<const store::MessageMeta*> ids;  // every match, sorted and collapsed
  store::ModSeq state = 0;
  bool thread_dependent = false;
};

// Runs filter, sort and collapseThreads over the whole account.
Checked<QueryResult> run_query(store::Store& store, const json::object& arguments,
                               const Context& context, std::vector<store::MessageMeta>& messages,
                               std::vector<std::unique_ptr<EmailView>>& loaded) {
  auto sort = read_sort(arguments);
  if (!sort) return tl::unexpected(sort.error());
  const auto& comparators = *sort;
  const json::value* filter = argument(arguments, "filter");
  if (filter && !filter->is_object())
    return tl::unexpected(invalid_arguments("filter is an object"));
  // The state first: anything committed later shows up as a change after it.
  auto account = store.get_account(context.account);
  if (!account) return tl::unexpected(method_error(account.error(), "Email/query"));
  // A query in one mailbox (the common case) reads that mailbox alone, unless a
  // filter or sort looks at whole threads, which may reach into other mailboxes.
  std::optional<store::MailboxId> only;
  if (filter && !filter->get_object().contains("operator")) {
    if (const json::value* in = filter->get_object().if_contains("inMailbox")) {
      only = mailbox_argument(*in, context);
      if (!only) only = 0;  // no such mailbox: nothing matches
    }
  }
  if (only && json::serialize(arguments).find("InThreadHaveKeyword") != std::string::npos) {
    only.reset();
  }
  if (only) {
    // Another account's mailbox, or none, holds nothing this query may see.
    if (*only != 0) {
      auto snapshot = store.snapshot(*only);
      if (!snapshot && snapshot.error().code != Errc::NotFound) {
        return tl::unexpected(method_error(snapshot.error(), "Email/query"));
      }
      if (snapshot && snapshot->mailbox.account == context.account) {
        messages = std::move(snapshot->messages);
      }
    }
  } else {
    auto all = store.account_messages(context.account);
    if (!all) return tl::unexpected(method_error(all.error(), "Email/query"));
    messages = std::move(*all);
  }
  ThreadIndex threads;
  for (const auto& meta : messages) threads[meta.thread].push_back(&meta);
  FilterScope scope{context, threads};
  for (const auto& meta : messages) {
    auto email = std::make_unique<EmailView>(store, meta);
    if (filter) {
      auto matched = matches_filter(filter->get_object(), *email, scope);
      if (!matched) return tl::unexpected(matched.error());
      if (!*matched) continue;
    }
    loaded.push_back(std::move(email));
  }
  std::stable_sort(loaded.begin(), loaded.end(), [&](const auto& a, const auto& b) {
    for (const Comparator& comparator : comparators) {
      const int order = compare(comparator, *a, *b, threads);
      if (order != 0) return comparator.ascending ? order < 0 : order > 0;
    }
    // Ties: newest id first, like the default order.
    return a->meta().id > b->meta().id;
  });
  QueryResult result;
  result.state = account->modseq;
  result.thread_dependent =
      scope.thread_dependent ||
      std::any_of(comparators.begin(), comparators.end(), [](const Comparator& c) {
        return c.property.find("InThread") != std::string::npos;
      });
  const bool collapse = flag_argument(arguments, "collapseThreads");
  result.thread_dependent |= collapse;
  std::set<store::ThreadId> seen_threads;
  for (const auto& email : loaded) {
    if (collapse && !seen_threads.insert(email->meta().thread).second) continue;
    result.ids.push_back(&email->meta());
  }
  return result;
}

}  // namespace

MethodResult email_query(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto position = unsigned_argument(arguments, "position");
  if (const json::value* signed_position = argument(arguments, "position");
      signed_position && signed_position->is_int64() && signed_position->get_int64() < 0) {
    position = signed_position->get_int64();  // RFC 8620 §5.5: counted from the end
  }
  if (!position) return position.error();
  const auto limit = unsigned_argument(arguments, "limit");
  if (!limit) return limit.error();
  std::vector<store::MessageMeta> messages;
  std::vector<std::unique_ptr<EmailView>> loaded;
  auto ran = run_query(store, arguments, context, messages, loaded);
  if (!ran) return ran.error();
  const QueryResult& result = *ran;
  const auto total = static_cast<std::int64_t>(result.ids.size());
  std::int64_t start = position->value_or(0);
  if (const json::value* anchor = argument(arguments, "anchor")) {
    if (!anchor->is_string()) return invalid_arguments("anchor is an id");
    auto number = resolve_id(kEmailPrefix, anchor->get_string(), context);
    auto found = std::find_if(result.ids.begin(), result.ids.end(),
                              [&](const auto* meta) { return number && meta->id == *number; });
    if (found == result.ids.end())
      return MethodError{"anchorNotFound", "the anchor is not in the results"};
    std::int64_t offset = 0;
    if (const json::value* anchor_offset = argument(arguments, "anchorOffset")) {
      if (!anchor_offset->is_int64()) return invalid_arguments("anchorOffset is an integer");
      offset = anchor_offset->get_int64();
    }
    start = std::max<std::int64_t>(0, (found - result.ids.begin()) + offset);
  } else if (start < 0) {
    start = std::max<std::int64_t>(0, total + start);
  }
  start = std::min(start, total);
  json::array ids;
  for (std::int64_t i = start;
       i < total && (!*limit || static_cast<std::int64_t>(ids.size()) < **limit); ++i) {
    ids.push_back(
        json::value(object_id(kEmailPrefix, result.ids[static_cast<std::size_t>(i)]->id)));
  }
  json::object out{{"accountId", context.account_id},
                   {"queryState", state_string(result.state)},
                   {"canCalculateChanges", !result.thread_dependent},
                   {"position", start},
                   {"ids", std::move(ids)}};
  if (flag_argument(arguments, "calculateTotal")) out["total"] = total;
  return out;
}

MethodResult email_query_changes(store::Store& store, const json::object& arguments,
                                 Context& context) {
  auto read = read_changes_arguments(arguments, context, "sinceQueryState");
  if (!read) return read.error();
  const auto [since, max_changes] = *read;
  std::vector<store::MessageMeta> messages;
  std::vector<std::unique_ptr<EmailView>> loaded;
  auto ran = run_query(store, arguments, context, messages, loaded);
  if (!ran) return ran.error();
  const QueryResult& result = *ran;
  if (result.thread_dependent) {
    return MethodError{"cannotCalculateChanges", "the query depends on other Emails in the thread"};
  }
  auto log = store.changes_since(context.account, since);
  if (!log) {
    if (log.error().code == Errc::TooBig || log.error().code == Errc::BadInput) {
      return MethodError{"cannotCalculateChanges", "the state is not one this server can compare"};
    }
    return method_error(log.error(), "Email/queryChanges");
  }
  // Every Email that changed is removed and, if it matches now, added at its place:
  // the others' filter results and sort keys depend only on themselves, so their
  // order is as before (RFC 8620 §5.6 allows removing ids that were not there).
  std::set<store::MessageId> changed;
  for (const store::Change& change : log->changes) {
    if (change.message != 0 && change.modseq <= result.state) changed.insert(change.message);
  }
  if (max_changes && changed.size() > static_cast<std::size_t>(*max_changes)) {
    return MethodError{"tooManyChanges", "more changes than maxChanges"};
  }
  json::array removed, added;
  for (store::MessageId id : changed) removed.push_back(json::value(object_id(kEmailPrefix, id)));
  for (std::size_t i = 0; i < result.ids.size(); ++i) {
    if (changed.contains(result.ids[i]->id)) {
      added.push_back(
          json::object{{"id", object_id(kEmailPrefix, result.ids[i]->id)}, {"index", i}});
    }
  }
  json::object out{{"accountId", context.account_id},
                   {"oldQueryState", state_string(since)},
                   {"newQueryState", state_string(result.state)},
                   {"removed", std::move(removed)},
                   {"added", std::move(added)}};
  if (flag_argument(arguments, "calculateTotal")) out["total"] = result.ids.size();
  return out;
}

}  // namespace rampart::jmap
