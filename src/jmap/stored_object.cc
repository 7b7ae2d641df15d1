// /get and /changes for the types the store keeps as JSON objects (Identity,
// EmailSubmission), and the helpers Identity and EmailSubmission share.
#include <algorithm>
#include <boost/json.hpp>

#include "base/ascii.h"
#include "directory/directory.h"
#include "jmap/mail_internal.h"
#include "jmap/submission_internal.h"

namespace rampart::jmap {
namespace {

json::object with_id(json::object data, char prefix, std::int64_t id,
                     const std::optional<std::vector<std::string>>& properties) {
  data["id"] = object_id(prefix, id);
  if (prefix == kIdentityPrefix) data["mayDelete"] = true;
  if (!properties) return data;
  json::object out{{"id", data["id"]}};
  for (const std::string& property : *properties) {
    if (auto* value = data.if_contains(property)) out[property] = *value;
  }
  return out;
}

}  // namespace

json::object parse_data(const store::StoredObject& object) {
  boost::system::error_code error;
  json::value value = json::parse(object.data, error);
  return !error && value.is_object() ? std::move(value.get_object()) : json::object{};
}

Result<std::vector<store::StoredObject>> identities(store::Store& store, const Context& context) {
  auto list = store.list_objects(context.account, kIdentityType);
  if (!list || !list->empty()) return list;
  json::object identity{{"name", ""},     {"email", context.username}, {"replyTo", nullptr},
                        {"bcc", nullptr}, {"textSignature", ""},       {"htmlSignature", ""}};
  auto made = store.put_object(context.account, kIdentityType, 0, json::serialize(identity));
  if (!made) return tl::unexpected(made.error());
  return std::vector<store::StoredObject>{*made};
}

MethodResult get_objects(const Result<std::vector<store::StoredObject>>& objects, char prefix,
                         const json::object& arguments, Context& context, store::Store& store,
                         const std::vector<std::string>& known) {
  if (auto error = check_account(arguments, context)) return *error;
  if (!objects) return method_error(objects.error(), "/get");
  auto read = read_properties(arguments);
  if (!read) return read.error();
  const Properties& properties = *read;
  if (properties) {
    for (const auto& property : *properties) {
      if (property != "id" && std::find(known.begin(), known.end(), property) == known.end()) {
        return invalid_arguments("unknown property " + property);
      }
    }
  }
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "/get");
  json::array list, not_found;
  const json::value* ids = argument(arguments, "ids");
  if (ids) {
    if (auto error = check_id_list(*ids, context, "ids")) return *error;
  }
  if (!ids) {
    for (const auto& object : *objects) {
      list.push_back(with_id(parse_data(object), prefix, object.id, properties));
    }
  } else {
    for (const json::value& id : ids->get_array()) {
      auto number = resolve_id(prefix, id.get_string(), context);
      auto found = std::find_if(objects->begin(), objects->end(),
                                [&](const auto& object) { return number && object.id == *number; });
      if (found == objects->end()) {
        not_found.push_back(id);
      } else {
        list.push_back(with_id(parse_data(*found), prefix, found->id, properties));
      }
    }
  }
  return json::object{{"accountId", context.account_id},
                      {"state", state_string(account->modseq)},
                      {"list", std::move(list)},
                      {"notFound", std::move(not_found)}};
}

MethodResult object_changes(store::Store& store, const char* type, char prefix,
                            const json::object& arguments, Context& context) {
  auto read = read_changes_arguments(arguments, context, "sinceState");
  if (!read) return read.error();
  const auto [since, max_changes] = *read;
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "/changes");
  if (since > account->modseq) {
    return MethodError{"cannotCalculateChanges", "the state is not one this server can compare"};
  }
  auto changed = store.list_objects(context.account, type, std::max<store::ModSeq>(since, 1));
  if (!changed) return method_error(changed.error(), "/changes");
  if (since == 0) {
    // Everything is new since the beginning, tombstones of records made and gone aside.
    changed = store.list_objects(context.account, type);
    if (!changed) return method_error(changed.error(), "/changes");
  }
  std::sort(changed->begin(), changed->end(),
            [](const auto& a, const auto& b) { return a.modseq < b.modseq; });
  store::ModSeq new_state = account->modseq;
  bool more = false;
  json::array created, updated, destroyed;
  std::size_t count = 0;
  for (std::size_t i = 0; i < changed->size(); ++i) {
    const auto& object = (*changed)[i];
    if (max_changes && count == static_cast<std::size_t>(*max_changes)) {
      more = true;
      new_state = (*changed)[i - 1].modseq;
      break;
    }
    const std::string id = object_id(prefix, object.id);
    if (object.destroyed) {
      if (object.created > since) continue;
      destroyed.push_back(json::value(id));
    } else {
      (object.created > since ? created : updated).push_back(json::value(id));
    }
    ++count;
  }
  return json::object{{"accountId", context.account_id},     {"oldState", state_string(since)},
                      {"newState", state_string(new_state)}, {"hasMoreChanges", more},
                      {"created", std::move(created)},       {"updated", std::move(updated)},
                      {"destroyed", std::move(destroyed)}};
}

}  // namespace rampart::jmap
