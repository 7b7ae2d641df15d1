// Thread/get and Thread/changes (RFC 8621 §3): a thread's Emails oldest first; the
// store threads messages by Message-ID, In-Reply-To and References (docs/store.md).
#include <algorithm>
#include <map>

#include "jmap/email_internal.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"

namespace rampart::jmap {

MethodResult thread_get(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "Thread/get");
  const json::value* ids = argument(arguments, "ids");
  if (!ids) return MethodError{"requestTooLarge", "Thread/get needs ids"};
  if (auto error = check_id_list(*ids, context, "ids")) return *error;
  std::vector<store::ThreadId> numbers;
  for (const json::value& id : ids->get_array()) {
    if (auto number = resolve_id(kThreadPrefix, id.get_string(), context))
      numbers.push_back(*number);
  }
  auto messages = store.thread_messages(context.account, numbers);
  if (!messages) return method_error(messages.error(), "Thread/get");
  std::map<store::ThreadId, std::vector<const store::MessageMeta*>> threads;
  for (const auto& meta : *messages) threads[meta.thread].push_back(&meta);
  json::array list, not_found;
  for (const json::value& id : ids->get_array()) {
    auto number = resolve_id(kThreadPrefix, id.get_string(), context);
    auto found = number ? threads.find(*number) : threads.end();
    if (found == threads.end()) {
      not_found.push_back(id);
      continue;
    }
    auto members = found->second;
    std::stable_sort(members.begin(), members.end(), [](const auto* a, const auto* b) {
      return a->internal_date != b->internal_date ? a->internal_date < b->internal_date
                                                  : a->id < b->id;
    });
    json::array email_ids;
    for (const auto* meta : members)
      email_ids.push_back(json::value(object_id(kEmailPrefix, meta->id)));
    list.push_back(json::object{{"id", id}, {"emailIds", std::move(email_ids)}});
  }
  return json::object{{"accountId", context.account_id},
                      {"state", state_string(account->modseq)},
                      {"list", std::move(list)},
                      {"notFound", std::move(not_found)}};
}

MethodResult thread_changes(store::Store& store, const json::object& arguments, Context& context) {
  auto result = changes_response(
      store, arguments, context, kThreadPrefix,
      [](const store::Change& change) -> std::optional<Touched> {
        if (change.message == 0 || change.thread == 0) return std::nullopt;
        return Touched{change.thread, change.kind == store::ChangeKind::MessageCreated &&
                                          change.message == change.thread};
      },
      [&](const std::vector<std::int64_t>& ids) -> Result<std::set<std::int64_t>> {
        auto found = store.thread_messages(context.account, ids);
        if (!found) return tl::unexpected(found.error());
        std::set<std::int64_t> out;
        for (const auto& meta : *found) out.insert(meta.thread);
        return out;
      });
  if (!result) return result.error();
  return std::move(*result);
}

}  // namespace rampart::jmap
