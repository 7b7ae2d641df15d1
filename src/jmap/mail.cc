#include "jmap/mail.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "audit/trail.h"
#include "jmap/email_format.h"
#include "jmap/mail_internal.h"
#include "mime/body.h"

namespace rampart::jmap {

std::optional<std::int64_t> resolve_id(char prefix, std::string_view id, const Context& context) {
  if (id.starts_with('#')) {
    auto created = context.created_ids.find(id.substr(1));
    if (created == context.created_ids.end()) return std::nullopt;
    return parse_object_id(prefix, created->second);
  }
  return parse_object_id(prefix, id);
}

std::string state_string(store::ModSeq modseq) { return std::to_string(modseq); }

std::optional<store::ModSeq> parse_state(const json::value& value) {
  const json::string* text = value.if_string();
  if (!text || text->empty() || text->size() > 20) return std::nullopt;
  store::ModSeq state = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), state);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return state;
}

json::value or_null(json::object object) {
  return object.empty() ? json::value(nullptr) : json::value(std::move(object));
}

Checked<std::string> begin_set(store::Store& store, const json::object& arguments,
                               const Context& context) {
  if (auto error = check_account(arguments, context)) return tl::unexpected(*error);
  auto account = store.get_account(context.account);
  if (!account) return tl::unexpected(method_error(account.error(), "/set"));
  const std::string state = state_string(account->modseq);
  if (const json::value* if_in_state = argument(arguments, "ifInState")) {
    if (!if_in_state->is_string() || if_in_state->get_string() != state) {
      return tl::unexpected(MethodError{"stateMismatch", "the state is " + state});
    }
  }
  std::size_t count = 0;
  for (const char* key : {"create", "update", "destroy"}) {
    const json::value* value = argument(arguments, key);
    if (!value) continue;
    const bool ok = std::string_view(key) == "destroy" ? value->is_array() : value->is_object();
    if (!ok) return tl::unexpected(invalid_arguments("create and update are maps, destroy a list"));
    count += value->is_array() ? value->get_array().size() : value->get_object().size();
  }
  if (count > context.limits->max_objects_in_set) {
    return tl::unexpected(MethodError{"requestTooLarge", "more changes than maxObjectsInSet"});
  }
  return state;
}

json::object end_set(store::Store& store, const Context& context, const std::string& old_state,
                     SetOutcome outcome) {
  auto after = store.get_account(context.account);
  return json::object{{"accountId", context.account_id},
                      {"oldState", old_state},
                      {"newState", after ? state_string(after->modseq) : old_state},
                      {"created", or_null(std::move(outcome.created))},
                      {"updated", or_null(std::move(outcome.updated))},
                      {"destroyed", outcome.destroyed.empty() ? json::value(nullptr)
                                                              : json::value(outcome.destroyed)},
                      {"notCreated", or_null(std::move(outcome.not_created))},
                      {"notUpdated", or_null(std::move(outcome.not_updated))},
                      {"notDestroyed", or_null(std::move(outcome.not_destroyed))}};
}

std::optional<MethodError> check_account(const json::object& arguments, const Context& context) {
  const json::value* account = arguments.if_contains("accountId");
  if (!account || !account->is_string()) return invalid_arguments("accountId is required");
  if (account->get_string() != context.account_id) {
    return MethodError{"accountNotFound", "no account " + std::string(account->get_string())};
  }
  return std::nullopt;
}

Checked<Properties> read_properties(const json::object& arguments, std::string_view key) {
  const json::value* value = arguments.if_contains(key);
  if (!value || value->is_null()) return Properties();
  const json::array* list = value->if_array();
  std::vector<std::string> out;
  for (const json::value& item : list ? *list : json::array()) {
    if (!item.is_string()) break;
    out.emplace_back(item.get_string());
  }
  if (!list || out.size() != list->size()) {
    return tl::unexpected(invalid_arguments(std::string(key) + " is a list of strings"));
  }
  return Properties(std::move(out));
}

std::optional<MethodError> check_id_list(const json::value& ids, const Context& context,
                                         std::string_view key) {
  const json::array* list = ids.if_array();
  if (!list || !std::all_of(list->begin(), list->end(),
                            [](const json::value& id) { return id.is_string(); })) {
    return invalid_arguments(std::string(key) + " is a list of ids");
  }
  if (list->size() > context.limits->max_objects_in_get) {
    return MethodError{"requestTooLarge", "more " + std::string(key) + " than maxObjectsInGet"};
  }
  return std::nullopt;
}

const json::value* argument(const json::object& arguments, std::string_view key) {
  const json::value* value = arguments.if_contains(key);
  return value && !value->is_null() ? value : nullptr;
}

Checked<std::optional<std::int64_t>> unsigned_argument(const json::object& arguments,
                                                       std::string_view key) {
  const json::value* value = argument(arguments, key);
  if (!value) return std::optional<std::int64_t>();
  if (value->is_int64() && value->get_int64() >= 0) return value->get_int64();
  if (value->is_uint64() && value->get_uint64() <= (1ull << 53)) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  return tl::unexpected(invalid_arguments(std::string(key) + " is an unsigned integer"));
}

MethodResult query_answer(const json::object& arguments, const Context& context,
                          store::ModSeq state, char prefix, const std::vector<std::int64_t>& ids) {
  const auto position_argument = unsigned_argument(arguments, "position");
  if (!position_argument) return position_argument.error();
  const auto limit_argument = unsigned_argument(arguments, "limit");
  if (!limit_argument) return limit_argument.error();
  const std::int64_t position = position_argument->value_or(0);
  const std::optional<std::int64_t> limit = *limit_argument;
  json::array window;
  for (std::size_t i = static_cast<std::size_t>(position);
       i < ids.size() && (!limit || window.size() < static_cast<std::size_t>(*limit)); ++i) {
    window.push_back(json::value(object_id(prefix, ids[i])));
  }
  json::object out{{"accountId", context.account_id},
                   {"queryState", state_string(state)},
                   {"canCalculateChanges", false},
                   {"position", position},
                   {"ids", std::move(window)}};
  if (const json::value* total = argument(arguments, "calculateTotal");
      total && total->is_bool() && total->get_bool()) {
    out["total"] = ids.size();
  }
  return out;
}

Checked<ChangesArguments> read_changes_arguments(const json::object& arguments,
                                                 const Context& context, std::string_view since) {
  if (auto error = check_account(arguments, context)) return tl::unexpected(*error);
  const json::value* since_value = arguments.if_contains(since);
  auto state = since_value ? parse_state(*since_value) : std::nullopt;
  if (!state) return tl::unexpected(invalid_arguments(std::string(since) + " is a state string"));
  auto max_changes = unsigned_argument(arguments, "maxChanges");
  if (!max_changes) return tl::unexpected(max_changes.error());
  if (*max_changes && **max_changes == 0)
    return tl::unexpected(invalid_arguments("maxChanges must be positive"));
  return ChangesArguments{*state, *max_changes};
}

Checked<json::object> changes_response(store::Store& store, const json::object& arguments,
                                       const Context& context, char prefix, const Extract& extract,
                                       const Exists& exists) {
  auto read = read_changes_arguments(arguments, context, "sinceState");
  if (!read) return tl::unexpected(read.error());
  const auto [since, max_changes] = *read;
  auto log = store.changes_since(context.account, since);
  if (!log) {
    if (log.error().code == Errc::TooBig || log.error().code == Errc::BadInput) {
      return tl::unexpected(
          MethodError{"cannotCalculateChanges", "the state is not one this server can compare"});
    }
    return tl::unexpected(method_error(log.error(), "/changes"));
  }
  // Whole MODSEQs at a time, so a client that stops at new_state misses nothing.
  Delta delta;
  delta.new_state = log->to;
  std::map<std::int64_t, bool> touched;  // id -> created in the window
  std::size_t at = 0;
  while (at < log->changes.size()) {
    const store::ModSeq modseq = log->changes[at].modseq;
    std::map<std::int64_t, bool> group = touched;
    std::size_t end = at;
    for (; end < log->changes.size() && log->changes[end].modseq == modseq; ++end) {
      if (auto object = extract(log->changes[end])) group[object->id] |= object->created;
    }
    if (max_changes && group.size() > static_cast<std::size_t>(*max_changes)) {
      if (touched.empty()) {
        return tl::unexpected(MethodError{"cannotCalculateChanges",
                                          "one change touches more objects than maxChanges"});
      }
      delta.has_more = true;
      delta.new_state = log->changes[at].modseq - 1;
      break;
    }
    touched = std::move(group);
    at = end;
  }
  std::vector<std::int64_t> ids;
  for (const auto& [id, created] : touched) ids.push_back(id);
  auto present = exists(ids);
  if (!present) return tl::unexpected(method_error(present.error(), "/changes"));
  for (const auto& [id, created] : touched) {
    if (present->contains(id)) {
      (created ? delta.created : delta.updated).push_back(id);
    } else if (!created) {
      delta.destroyed.push_back(id);
    }
  }
  auto list = [&](const std::vector<std::int64_t>& numbers) {
    json::array out;
    for (auto number : numbers) out.push_back(json::value(object_id(prefix, number)));
    return out;
  };
  return json::object{{"accountId", context.account_id},
                      {"oldState", state_string(since)},
                      {"newState", state_string(delta.new_state)},
                      {"hasMoreChanges", delta.has_more},
                      {"created", list(delta.created)},
                      {"updated", list(delta.updated)},
                      {"destroyed", list(delta.destroyed)}};
}

void audit_messages(store::Store& store, const Context& context, const char* kind,
                    std::string_view what, const std::vector<store::MessageMeta>& messages) {
  if (!context.audit || messages.empty()) return;
  std::map<store::MailboxId, std::vector<store::MessageId>> by_mailbox;
  for (const auto& meta : messages) by_mailbox[meta.mailbox].push_back(meta.id);
  std::map<store::MailboxId, std::string> names;
  if (auto mailboxes = store.list_mailboxes(context.account)) {
    for (const auto& mailbox : *mailboxes) names[mailbox.id] = mailbox.name;
  }
  for (const auto& [mailbox, ids] : by_mailbox) {
    // The ids themselves, up to a bound that keeps a record short.
    constexpr std::size_t kNamed = 50;
    std::string detail(what);
    for (std::size_t i = 0; i < ids.size() && i < kNamed; ++i) {
      detail += " " + object_id(kEmailPrefix, ids[i]);
    }
    if (ids.size() > kNamed) detail += " and " + std::to_string(ids.size() - kNamed) + " more";
    auto name = names.find(mailbox);
    context.audit(kind, name == names.end() ? object_id(kMailboxPrefix, mailbox) : name->second,
                  static_cast<std::int64_t>(ids.size()), std::move(detail));
  }
}

void audit_mailbox(const Context& context, const char* kind, std::string mailbox,
                   std::string detail, std::int64_t count) {
  if (context.audit) context.audit(kind, std::move(mailbox), count, std::move(detail));
}

std::optional<Blob> read_account_blob(store::Store& store, std::int64_t account,
                                      std::string_view blob_id) {
  if (blob_id.size() < 65 || blob_id.front() != kBlobPrefix) return std::nullopt;
  const std::string_view hash = blob_id.substr(1, 64);
  if (!std::all_of(hash.begin(), hash.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return std::nullopt;
  }
  std::string part_id;
  if (blob_id.size() > 65) {
    if (blob_id[65] != '_' || blob_id.size() > 65 + 64) return std::nullopt;
    part_id = std::string(blob_id.substr(66));
    std::replace(part_id.begin(), part_id.end(), '_', '.');
  }
  auto known = store.find_blob(account, hash);
  if (!known) return std::nullopt;
  auto bytes = store.read_blob(hash);
  if (!bytes) return std::nullopt;
  if (part_id.empty()) return Blob{std::move(*bytes), known->type};
  if (known->type != "message/rfc822") return std::nullopt;
  const mime::Message message = mime::parse(*bytes);
  const mime::Part* part = find_part(message, part_id);
  if (!part || part->is_multipart()) return std::nullopt;
  return Blob{mime::decode_body(*bytes, *part), part->type + "/" + part->subtype};
}

void audit_blob_read(store::Store& store, const Context& context, std::string_view what,
                     std::string_view blob_id) {
  const std::string hash(blob_id.substr(1, 64));
  auto messages = store.blob_messages(context.account, hash);
  if (messages && !messages->empty()) {
    audit_messages(store, context, audit::kRead, std::string(what) + " " + std::string(blob_id),
                   *messages);
  } else {
    audit_mailbox(context, audit::kRead, {}, std::string(what) + " " + std::string(blob_id), 1);
  }
}

Result<json::object> upload(store::Store& store, std::int64_t account,
                            const std::string& account_id, std::string_view bytes,
                            std::string_view type) {
  auto kept = store.add_upload(account, bytes, type);
  if (!kept) return tl::unexpected(kept.error());
  return json::object{{"accountId", account_id},
                      {"blobId", std::string(1, kBlobPrefix) + kept->blob_id},
                      {"type", kept->type},
                      {"size", kept->size}};
}

}  // namespace rampart::jmap
