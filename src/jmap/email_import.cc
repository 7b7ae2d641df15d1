// Email/import, Email/parse and Email/copy (RFC 8621 §4.8-4.9, §4.7): messages from
// blobs, stored or only read.
#include "jmap/email_format.h"
#include "jmap/email_internal.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"

namespace rampart::jmap {

MethodResult email_import(store::Store& store, const json::object& arguments, Context& context) {
  auto begun = begin_set(store, arguments, context);
  if (!begun) return begun.error();
  const json::value* emails = arguments.if_contains("emails");
  if (!emails || !emails->is_object()) return invalid_arguments("emails is a map of EmailImport");
  if (emails->get_object().size() > context.limits->max_objects_in_set) {
    return MethodError{"requestTooLarge", "more Emails than maxObjectsInSet"};
  }
  auto mailboxes = store.list_mailboxes(context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Email/import");
  SetOutcome out;
  for (const auto& [creation_id, value] : emails->get_object()) {
    const json::object* object = value.if_object();
    const json::value* blob = object ? object->if_contains("blobId") : nullptr;
    if (!blob || !blob->is_string()) {
      out.not_created[creation_id] =
          set_error("invalidProperties", "blobId is required", {"blobId"});
      continue;
    }
    std::string bad;
    for (const auto& [key, ignored] : *object) {
      if (key != "blobId" && key != "mailboxIds" && key != "keywords" && key != "receivedAt") {
        bad = std::string(key);
      }
    }
    if (!bad.empty()) {
      out.not_created[creation_id] = set_error("invalidProperties", "cannot set " + bad, {bad});
      continue;
    }
    std::string id(blob->get_string());
    if (id.starts_with('#')) {
      auto found = context.created_ids.find(std::string_view(id).substr(1));
      if (found != context.created_ids.end()) id = found->second;
    }
    auto bytes = read_account_blob(store, context.account, id);
    if (!bytes) {
      json::object error = set_error("blobNotFound", "no blob " + id);
      error["notFound"] = json::array{json::value(id)};
      out.not_created[creation_id] = std::move(error);
      continue;
    }
    Stored stored = store_email(store, context, *object, std::move(bytes->bytes), *mailboxes);
    if (!stored.ok) {
      out.not_created[creation_id] = std::move(stored.value);
      continue;
    }
    context.created_ids[std::string(creation_id)] = std::string(stored.value.at("id").get_string());
    out.created[creation_id] = std::move(stored.value);
  }
  json::object answer = end_set(store, context, *begun, std::move(out));
  // Email/import answers creations only.
  for (const char* key : {"updated", "destroyed", "notUpdated", "notDestroyed"}) answer.erase(key);
  return answer;
}

MethodResult email_parse(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  const json::value* blob_ids = arguments.if_contains("blobIds");
  if (!blob_ids) return invalid_arguments("blobIds is a list of ids");
  if (auto error = check_id_list(*blob_ids, context, "blobIds")) return *error;
  // Without "properties", what a stored Email would have save the store's own.
  static const std::vector<std::string> kDefault{
      "messageId", "inReplyTo",  "references", "sender",   "from",       "to",
      "cc",        "bcc",        "replyTo",    "subject",  "sentAt",     "hasAttachment",
      "preview",   "bodyValues", "textBody",   "htmlBody", "attachments"};
  auto asked = read_get_options(arguments, kDefault);
  if (!asked) return asked.error();
  const GetOptions options = std::move(*asked);
  json::object parsed;
  json::array not_parsable, not_found;
  for (const json::value& id : blob_ids->get_array()) {
    const std::string_view blob = id.get_string();
    auto bytes = read_account_blob(store, context.account, blob);
    if (!bytes) {
      not_found.push_back(id);
      continue;
    }
    audit_blob_read(store, context, "Email/parse", blob);
    if (bytes->bytes.empty()) {
      not_parsable.push_back(id);
      continue;
    }
    store::MessageMeta meta;
    meta.blob_id = std::string(blob.substr(1));
    meta.size = bytes->bytes.size();
    EmailView email(meta, std::move(bytes->bytes));
    parsed[blob] = email_object(email, options);
  }
  return json::object{{"accountId", context.account_id},
                      {"parsed", or_null(std::move(parsed))},
                      {"notParsable", std::move(not_parsable)},
                      {"notFound", std::move(not_found)}};
}

// Email/copy moves Emails between accounts; this server gives a session one account.
MethodResult email_copy(store::Store&, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  const json::value* from = arguments.if_contains("fromAccountId");
  if (!from || !from->is_string()) return invalid_arguments("fromAccountId is required");
  if (from->get_string() == context.account_id) {
    return invalid_arguments("fromAccountId and accountId are the same: use Email/set");
  }
  return MethodError{"fromAccountNotFound", "no account " + std::string(from->get_string())};
}

}  // namespace rampart::jmap
