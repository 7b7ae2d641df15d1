// Mailbox/get, /changes, /query, /queryChanges and /set (RFC 8621 §2).
#include <algorithm>
#include <map>
#include <set>

#include "audit/trail.h"
#include "base/ascii.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"

namespace rampart::jmap {
namespace {

constexpr std::string_view kRoles[] = {"", "inbox", "drafts", "sent", "trash", "junk", "archive"};

std::string_view role_name(store::Role role) { return kRoles[static_cast<int>(role)]; }

std::optional<store::Role> parse_role(std::string_view name) {
  for (std::size_t i = 1; i < std::size(kRoles); ++i) {
    if (kRoles[i] == name) return static_cast<store::Role>(i);
  }
  return std::nullopt;
}

std::string_view leaf_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view parent_path(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

const std::vector<std::string>& all_properties() {
  static const std::vector<std::string> kAll = {
      "id",           "name",         "parentId",      "role",     "sortOrder",   "totalEmails",
      "unreadEmails", "totalThreads", "unreadThreads", "myRights", "isSubscribed"};
  return kAll;
}

struct ThreadCounts {
  std::uint32_t total = 0, unread = 0;
};

// Threads with a message in each mailbox, and those with an unread one there.
Result<std::map<store::MailboxId, ThreadCounts>> thread_counts(store::Store& store,
                                                               store::AccountId account) {
  auto messages = store.account_messages(account);
  if (!messages) return tl::unexpected(messages.error());
  std::map<store::MailboxId, std::set<store::ThreadId>> all, unread;
  for (const auto& message : *messages) {
    all[message.mailbox].insert(message.thread);
    if (!std::binary_search(message.flags.begin(), message.flags.end(), "\\Seen")) {
      unread[message.mailbox].insert(message.thread);
    }
  }
  std::map<store::MailboxId, ThreadCounts> out;
  for (const auto& [mailbox, threads] : all) {
    out[mailbox] = {static_cast<std::uint32_t>(threads.size()),
                    static_cast<std::uint32_t>(unread[mailbox].size())};
  }
  return out;
}

json::object mailbox_object(const store::Mailbox& mailbox,
                            const std::map<std::string, store::MailboxId, std::less<>>& by_name,
                            const std::vector<std::string>& properties,
                            const std::map<store::MailboxId, ThreadCounts>& threads) {
  json::object out;
  for (const std::string& property : properties) {
    if (property == "id") {
      out[property] = object_id(kMailboxPrefix, mailbox.id);
    } else if (property == "name") {
      out[property] = leaf_name(mailbox.name);
    } else if (property == "parentId") {
      auto parent = by_name.find(parent_path(mailbox.name));
      out[property] = parent == by_name.end()
                          ? json::value(nullptr)
                          : json::value(object_id(kMailboxPrefix, parent->second));
    } else if (property == "role") {
      out[property] = mailbox.role == store::Role::None ? json::value(nullptr)
                                                        : json::value(role_name(mailbox.role));
    } else if (property == "sortOrder") {
      out[property] = mailbox.role == store::Role::Inbox ? 0 : static_cast<int>(mailbox.role) + 1;
    } else if (property == "totalEmails") {
      out[property] = mailbox.message_count;
    } else if (property == "unreadEmails") {
      out[property] = mailbox.unseen_count;
    } else if (property == "totalThreads" || property == "unreadThreads") {
      auto counts = threads.find(mailbox.id);
      const ThreadCounts found = counts == threads.end() ? ThreadCounts{} : counts->second;
      out[property] = property == "totalThreads" ? found.total : found.unread;
    } else if (property == "myRights") {
      json::object rights;
      for (const char* right :
           {"mayReadItems", "mayAddItems", "mayRemoveItems", "maySetSeen", "maySetKeywords",
            "mayCreateChild", "mayRename", "mayDelete", "maySubmit"}) {
        rights[right] = true;
      }
      if (mailbox.role == store::Role::Inbox)
        rights["mayRename"] = false, rights["mayDelete"] = false;
      out[property] = std::move(rights);
    } else if (property == "isSubscribed") {
      out[property] = mailbox.subscribed;
    }
  }
  return out;
}

struct AccountMailboxes {
  std::vector<store::Mailbox> list;
  std::map<std::string, store::MailboxId, std::less<>> by_name;
  std::map<store::MailboxId, const store::Mailbox*> by_id;
};

Result<AccountMailboxes> load_mailboxes(store::Store& store, store::AccountId account) {
  auto list = store.list_mailboxes(account);
  if (!list) return tl::unexpected(list.error());
  AccountMailboxes out{.list = std::move(*list), .by_name = {}, .by_id = {}};
  for (const auto& mailbox : out.list) {
    out.by_name[mailbox.name] = mailbox.id;
    out.by_id[mailbox.id] = &mailbox;
  }
  return out;
}

MethodResult mailbox_get(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto properties = read_properties(arguments);
  if (!properties) return properties.error();
  std::vector<std::string> wanted = properties->value_or(all_properties());
  for (const auto& property : wanted) {
    if (std::find(all_properties().begin(), all_properties().end(), property) ==
        all_properties().end()) {
      return invalid_arguments("unknown property " + property);
    }
  }
  if (std::find(wanted.begin(), wanted.end(), "id") == wanted.end())
    wanted.insert(wanted.begin(), "id");
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "Mailbox/get");
  auto mailboxes = load_mailboxes(store, context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Mailbox/get");
  std::map<store::MailboxId, ThreadCounts> threads;
  if (std::find_if(wanted.begin(), wanted.end(), [](const std::string& property) {
        return property == "totalThreads" || property == "unreadThreads";
      }) != wanted.end()) {
    auto counts = thread_counts(store, context.account);
    if (!counts) return method_error(counts.error(), "Mailbox/get");
    threads = std::move(*counts);
  }
  json::array list, not_found;
  const json::value* ids = argument(arguments, "ids");
  if (!ids) {
    for (const auto& mailbox : mailboxes->list) {
      list.push_back(mailbox_object(mailbox, mailboxes->by_name, wanted, threads));
    }
  } else {
    if (auto error = check_id_list(*ids, context, "ids")) return *error;
    for (const json::value& id : ids->get_array()) {
      auto number = resolve_id(kMailboxPrefix, id.get_string(), context);
      auto found = number ? mailboxes->by_id.find(*number) : mailboxes->by_id.end();
      if (found == mailboxes->by_id.end()) {
        not_found.push_back(id);
      } else {
        list.push_back(mailbox_object(*found->second, mailboxes->by_name, wanted, threads));
      }
    }
  }
  return json::object{{"accountId", context.account_id},
                      {"state", state_string(account->modseq)},
                      {"list", std::move(list)},
                      {"notFound", std::move(not_found)}};
}

MethodResult mailbox_changes(store::Store& store, const json::object& arguments, Context& context) {
  auto result = changes_response(
      store, arguments, context, kMailboxPrefix,
      [](const store::Change& change) -> std::optional<Touched> {
        if (change.message != 0) return std::nullopt;
        return Touched{change.mailbox, change.kind == store::ChangeKind::MailboxCreated};
      },
      [&](const std::vector<std::int64_t>&) -> Result<std::set<std::int64_t>> {
        auto mailboxes = store.list_mailboxes(context.account);
        if (!mailboxes) return tl::unexpected(mailboxes.error());
        std::set<std::int64_t> out;
        for (const auto& mailbox : *mailboxes) out.insert(mailbox.id);
        return out;
      });
  if (!result) return result.error();
  // Renames and counts are not told apart in the log: every property may have changed.
  (*result)["updatedProperties"] = nullptr;
  return std::move(*result);
}

// One FilterCondition or FilterOperator against one mailbox.
// unsupportedFilter for a filter this server cannot apply.
Checked<bool> mailbox_matches(const json::object& filter, const store::Mailbox& mailbox,
                              const AccountMailboxes& mailboxes) {
  if (const json::value* op = filter.if_contains("operator")) {
    const json::value* conditions = filter.if_contains("conditions");
    if (!op->is_string() || !conditions || !conditions->is_array()) {
      return reject("unsupportedFilter", "a FilterOperator has an operator and conditions");
    }
    const std::string_view name = op->get_string();
    if (name != "AND" && name != "OR" && name != "NOT") {
      return reject("unsupportedFilter", "operator is AND, OR or NOT");
    }
    bool any = false, all = true;
    for (const json::value& condition : conditions->get_array()) {
      if (!condition.is_object()) {
        return reject("unsupportedFilter", "conditions are filters");
      }
      auto matched = mailbox_matches(condition.get_object(), mailbox, mailboxes);
      if (!matched) return matched;
      any |= *matched;
      all &= *matched;
    }
    return name == "AND" ? all : name == "OR" ? any : !any;
  }
  for (const auto& [key, value] : filter) {
    if (key == "parentId") {
      auto parent = mailboxes.by_name.find(parent_path(mailbox.name));
      const bool top = parent == mailboxes.by_name.end();
      if (value.is_null()) {
        if (!top) return false;
      } else if (!value.is_string()) {
        return reject("unsupportedFilter", "parentId is an id or null");
      } else if (top || value.get_string() != object_id(kMailboxPrefix, parent->second)) {
        return false;
      }
    } else if (key == "name") {
      if (!value.is_string()) {
        return reject("unsupportedFilter", "name is a string");
      }
      if (lowercase(leaf_name(mailbox.name)).find(lowercase(value.get_string())) ==
          std::string::npos) {
        return false;
      }
    } else if (key == "role") {
      if (value.is_null()) {
        if (mailbox.role != store::Role::None) return false;
      } else if (!value.is_string()) {
        return reject("unsupportedFilter", "role is a string or null");
      } else if (role_name(mailbox.role) != value.get_string() ||
                 mailbox.role == store::Role::None) {
        return false;
      }
    } else if (key == "hasAnyRole" || key == "isSubscribed") {
      if (!value.is_bool()) {
        return reject("unsupportedFilter", std::string(key) + " is a boolean");
      }
      const bool actual =
          key == "hasAnyRole" ? mailbox.role != store::Role::None : mailbox.subscribed;
      if (actual != value.get_bool()) return false;
    } else {
      return reject("unsupportedFilter", "unsupported filter " + std::string(key));
    }
  }
  return true;
}

MethodResult mailbox_query(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "Mailbox/query");
  auto mailboxes = load_mailboxes(store, context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Mailbox/query");
  std::vector<const store::Mailbox*> matched;
  const json::value* filter = argument(arguments, "filter");
  if (filter && !filter->is_object()) return invalid_arguments("filter is an object");
  for (const auto& mailbox : mailboxes->list) {
    auto matches =
        filter ? mailbox_matches(filter->get_object(), mailbox, *mailboxes) : Checked<bool>(true);
    if (!matches) return matches.error();
    if (*matches) matched.push_back(&mailbox);
  }
  // The store lists by full name, which is tree order: parents before their children.
  if (const json::value* sort = argument(arguments, "sort")) {
    const json::array* comparators = sort->if_array();
    if (!comparators) return invalid_arguments("sort is a list of comparators");
    for (auto it = comparators->rbegin(); it != comparators->rend(); ++it) {
      const json::object* comparator = it->if_object();
      const json::value* property = comparator ? comparator->if_contains("property") : nullptr;
      if (!property || !property->is_string())
        return invalid_arguments("a comparator has a property");
      const json::value* ascending = comparator->if_contains("isAscending");
      const bool up = !ascending || !ascending->is_bool() || ascending->get_bool();
      const std::string_view name = property->get_string();
      if (name != "name" && name != "sortOrder") {
        return MethodError{"unsupportedSort", "cannot sort mailboxes by " + std::string(name)};
      }
      std::stable_sort(matched.begin(), matched.end(),
                       [&](const store::Mailbox* a, const store::Mailbox* b) {
                         auto key = [&](const store::Mailbox* m) {
                           return name == "name" ? std::string(leaf_name(m->name))
                                                 : std::to_string(static_cast<int>(m->role));
                         };
                         return up ? key(a) < key(b) : key(b) < key(a);
                       });
    }
  }
  std::vector<std::int64_t> ids;
  for (const store::Mailbox* mailbox : matched) ids.push_back(mailbox->id);
  return query_answer(arguments, context, account->modseq, kMailboxPrefix, ids);
}

// The full name a create or update asks for: its parent's name, "/", its own.
std::variant<std::string, json::object> requested_name(const json::object& object,
                                                       const AccountMailboxes& mailboxes,
                                                       const Context& context,
                                                       std::string_view current) {
  std::string leaf(leaf_name(current));
  std::string parent(parent_path(current));
  if (const json::value* name = object.if_contains("name")) {
    if (!name->is_string() || name->get_string().empty() || name->get_string().size() > 255 ||
        std::string_view(name->get_string()).find('/') != std::string_view::npos) {
      return set_error("invalidProperties", "a name is 1-255 characters without '/'", {"name"});
    }
    leaf = std::string(name->get_string());
  }
  if (const json::value* parent_id = object.if_contains("parentId")) {
    if (parent_id->is_null()) {
      parent.clear();
    } else {
      auto number = parent_id->is_string()
                        ? resolve_id(kMailboxPrefix, parent_id->get_string(), context)
                        : std::nullopt;
      auto found = number ? mailboxes.by_id.find(*number) : mailboxes.by_id.end();
      if (found == mailboxes.by_id.end()) {
        return set_error("invalidProperties", "no such parent", {"parentId"});
      }
      parent = found->second->name;
    }
  }
  if (leaf.empty()) return set_error("invalidProperties", "name is required", {"name"});
  return parent.empty() ? leaf : parent + "/" + leaf;
}

// Properties a client may set, and the server-set ones it may only repeat.
std::optional<json::object> check_settable(const json::object& object) {
  for (const auto& [key, value] : object) {
    if (key == "name" || key == "parentId" || key == "isSubscribed") continue;
    // Roles are fixed by the server; the value a mailbox already has may be repeated.
    if (key == "role") continue;
    return set_error("invalidProperties", "cannot set " + std::string(key), {std::string(key)});
  }
  if (const json::value* subscribed = object.if_contains("isSubscribed");
      subscribed && !subscribed->is_bool()) {
    return set_error("invalidProperties", "isSubscribed is a boolean", {"isSubscribed"});
  }
  return std::nullopt;
}

// Mailbox/set create of one Mailbox, into `out`; a method error if the store fails.
std::optional<MethodError> create_mailbox(store::Store& store, std::string_view creation_id,
                                          const json::value& value, Context& context,
                                          SetOutcome& out) {
  auto mailboxes = load_mailboxes(store, context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Mailbox/set");
  const json::object* object = value.if_object();
  if (!object) {
    out.not_created[creation_id] = set_error("invalidProperties", "a Mailbox is an object");
    return std::nullopt;
  }
  if (auto refused = check_settable(*object)) {
    out.not_created[creation_id] = std::move(*refused);
    return std::nullopt;
  }
  if (const json::value* role = object->if_contains("role"); role && !role->is_null()) {
    out.not_created[creation_id] = set_error("invalidProperties", "roles are fixed", {"role"});
    return std::nullopt;
  }
  auto name = requested_name(*object, *mailboxes, context, "");
  if (auto* refused = std::get_if<json::object>(&name)) {
    out.not_created[creation_id] = std::move(*refused);
    return std::nullopt;
  }
  auto made = store.create_mailbox(context.account, std::get<std::string>(name));
  if (!made && made.error().code == Errc::TooBig) {
    // RFC 8620 section 5.3: a limit on the number of objects is overQuota.
    out.not_created[creation_id] =
        set_error("overQuota", "the account has as many mailboxes as allowed");
    return std::nullopt;
  }
  if (!made) {
    out.not_created[creation_id] = set_error_for(made.error(), "Mailbox/set create", {"name"});
    return std::nullopt;
  }
  if (const json::value* subscribed = object->if_contains("isSubscribed");
      subscribed && subscribed->get_bool()) {
    if (auto done = store.set_subscribed(made->id, true); !done) {
      return method_error(done.error(), "Mailbox/set");
    }
  }
  audit_mailbox(context, audit::kChange, made->name, "Mailbox/set create");
  const std::string id = object_id(kMailboxPrefix, made->id);
  context.created_ids[std::string(creation_id)] = id;
  out.created[creation_id] = json::object{
      {"id", id},           {"totalEmails", 0}, {"unreadEmails", 0}, {"totalThreads", 0},
      {"unreadThreads", 0}, {"sortOrder", 1},   {"role", nullptr}};
  return std::nullopt;
}

// Mailbox/set update of one Mailbox: rename or move, isSubscribed; roles are fixed.
std::optional<MethodError> update_mailbox(store::Store& store, std::string_view id,
                                          const json::value& value, const Context& context,
                                          SetOutcome& out) {
  auto mailboxes = load_mailboxes(store, context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Mailbox/set");
  auto number = resolve_id(kMailboxPrefix, id, context);
  auto found = number ? mailboxes->by_id.find(*number) : mailboxes->by_id.end();
  if (found == mailboxes->by_id.end()) {
    out.not_updated[id] = set_error("notFound");
    return std::nullopt;
  }
  const store::Mailbox& mailbox = *found->second;
  const json::object* object = value.if_object();
  if (!object) {
    out.not_updated[id] = set_error("invalidPatch", "a patch is an object");
    return std::nullopt;
  }
  if (auto refused = check_settable(*object)) {
    out.not_updated[id] = std::move(*refused);
    return std::nullopt;
  }
  if (const json::value* role = object->if_contains("role");
      role &&
      !(role->is_null() ? mailbox.role == store::Role::None
                        : role->is_string() && parse_role(role->get_string()) == mailbox.role)) {
    out.not_updated[id] = set_error("invalidProperties", "roles are fixed", {"role"});
    return std::nullopt;
  }
  if (object->contains("name") || object->contains("parentId")) {
    auto name = requested_name(*object, *mailboxes, context, mailbox.name);
    if (auto* refused = std::get_if<json::object>(&name)) {
      out.not_updated[id] = std::move(*refused);
      return std::nullopt;
    }
    const std::string& full = std::get<std::string>(name);
    if (full != mailbox.name) {
      if (mailbox.role == store::Role::Inbox) {
        out.not_updated[id] = set_error("forbidden", "the inbox cannot be renamed or moved");
        return std::nullopt;
      }
      if (auto renamed = store.rename_mailbox(mailbox.id, full); !renamed) {
        out.not_updated[id] = set_error_for(renamed.error(), "Mailbox/set rename", {"name"});
        return std::nullopt;
      }
      audit_mailbox(context, audit::kChange, mailbox.name, "Mailbox/set rename to " + full);
    }
  }
  if (const json::value* subscribed = object->if_contains("isSubscribed")) {
    if (auto done = store.set_subscribed(mailbox.id, subscribed->get_bool()); !done) {
      out.not_updated[id] = set_error_for(done.error(), "Mailbox/set subscribe", {"isSubscribed"});
      return std::nullopt;
    }
  }
  out.updated[id] = nullptr;
  return std::nullopt;
}

// Mailbox/set destroy of one Mailbox: not the inbox, not one with children, and one
// holding Emails only with onDestroyRemoveEmails.
std::optional<MethodError> destroy_mailbox(store::Store& store, const json::value& id,
                                           bool remove_emails_too, const Context& context,
                                           SetOutcome& out) {
  const std::string key(id.get_string());
  auto mailboxes = load_mailboxes(store, context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Mailbox/set");
  auto number = resolve_id(kMailboxPrefix, key, context);
  auto found = number ? mailboxes->by_id.find(*number) : mailboxes->by_id.end();
  if (found == mailboxes->by_id.end()) {
    out.not_destroyed[key] = set_error("notFound");
    return std::nullopt;
  }
  const store::Mailbox& mailbox = *found->second;
  const std::string prefix = mailbox.name + "/";
  if (std::any_of(mailboxes->list.begin(), mailboxes->list.end(),
                  [&](const store::Mailbox& other) { return other.name.starts_with(prefix); })) {
    out.not_destroyed[key] = set_error("mailboxHasChild", "the mailbox has children");
    return std::nullopt;
  }
  if (mailbox.role == store::Role::Inbox) {
    out.not_destroyed[key] = set_error("forbidden", "the inbox cannot be destroyed");
    return std::nullopt;
  }
  if (mailbox.message_count > 0 && !remove_emails_too) {
    out.not_destroyed[key] = set_error("mailboxHasEmail", "the mailbox holds emails");
    return std::nullopt;
  }
  if (auto deleted = store.delete_mailbox(mailbox.id); !deleted) {
    out.not_destroyed[key] = set_error_for(deleted.error(), "Mailbox/set destroy");
    return std::nullopt;
  }
  audit_mailbox(context, audit::kExpunge, mailbox.name, "Mailbox/set destroy",
                mailbox.message_count);
  out.destroyed.push_back(id);
  return std::nullopt;
}

MethodResult mailbox_set(store::Store& store, const json::object& arguments, Context& context) {
  auto begun = begin_set(store, arguments, context);
  if (!begun) return begun.error();
  const json::value* remove_emails = argument(arguments, "onDestroyRemoveEmails");
  const bool remove_emails_too =
      remove_emails && remove_emails->is_bool() && remove_emails->get_bool();
  SetOutcome out;
  // The mailboxes are read again for each object: an earlier one may have renamed,
  // made or removed what the next one names.
  if (const json::value* create = argument(arguments, "create")) {
    for (const auto& [creation_id, value] : create->get_object()) {
      if (auto error = create_mailbox(store, creation_id, value, context, out)) return *error;
    }
  }
  if (const json::value* update = argument(arguments, "update")) {
    for (const auto& [id, value] : update->get_object()) {
      if (auto error = update_mailbox(store, id, value, context, out)) return *error;
    }
  }
  if (const json::value* destroy = argument(arguments, "destroy")) {
    for (const json::value& id : destroy->get_array()) {
      if (!id.is_string()) return invalid_arguments("destroy is a list of ids");
      if (auto error = destroy_mailbox(store, id, remove_emails_too, context, out)) return *error;
    }
  }
  return end_set(store, context, *begun, std::move(out));
}

}  // namespace

void add_mailbox_methods(Dispatcher& dispatcher, store::Store& store) {
  dispatcher.add("Mailbox/get", kMailCapability, with_store(store, mailbox_get));
  dispatcher.add("Mailbox/changes", kMailCapability, with_store(store, mailbox_changes));
  dispatcher.add("Mailbox/query", kMailCapability, with_store(store, mailbox_query));
  dispatcher.add("Mailbox/queryChanges", kMailCapability,
                 [](const json::object& arguments, Context& context) -> MethodResult {
                   if (auto error = check_account(arguments, context)) return *error;
                   return MethodError{"cannotCalculateChanges",
                                      "run Mailbox/query again (canCalculateChanges is false)"};
                 });
  dispatcher.add("Mailbox/set", kMailCapability, with_store(store, mailbox_set));
}

}  // namespace rampart::jmap
