// Email/get and Email/changes (RFC 8621 §4.2-4.3), and the Email object itself.
#include <algorithm>
#include <map>
#include <set>

#include "audit/trail.h"
#include "jmap/email_format.h"
#include "jmap/email_internal.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"

namespace rampart::jmap {
namespace {

json::object keywords_object(const store::Flags& flags) {
  json::object out;
  for (auto& keyword : keywords_from_flags(flags)) out[keyword] = true;
  return out;
}

json::array part_list(EmailView& email, const std::vector<BodyPartRef>& parts,
                      const GetOptions& options) {
  json::array out;
  for (const BodyPartRef& ref : parts) {
    out.push_back(body_part(email.raw(), *ref.part, ref.part_id, email_blob_id(email.meta()),
                            options.body_properties));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& default_email_properties() {
  static const std::vector<std::string> kDefault = {
      "id",         "blobId",     "threadId",      "mailboxIds",
      "keywords",   "size",       "receivedAt",    "messageId",
      "inReplyTo",  "references", "sender",        "from",
      "to",         "cc",         "bcc",           "replyTo",
      "subject",    "sentAt",     "hasAttachment", "preview",
      "bodyValues", "textBody",   "htmlBody",      "attachments"};
  return kDefault;
}

bool is_meta_property(std::string_view property) {
  for (std::string_view name :
       {"id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt"}) {
    if (property == name) return true;
  }
  return false;
}

bool is_known_property(std::string_view property) {
  if (property.starts_with("header:")) return true;
  if (property == "bodyStructure" || property == "headers") return true;
  const auto& all = default_email_properties();
  return std::find(all.begin(), all.end(), property) != all.end();
}

std::string email_blob_id(const store::MessageMeta& meta) {
  return std::string(1, kBlobPrefix) + meta.blob_id;
}

bool flag_argument(const json::object& arguments, std::string_view key) {
  const json::value* value = argument(arguments, key);
  return value && value->is_bool() && value->get_bool();
}

Checked<GetOptions> read_get_options(const json::object& arguments,
                                     const std::vector<std::string>& defaults) {
  GetOptions options;
  auto properties = read_properties(arguments);
  if (!properties) return tl::unexpected(properties.error());
  auto body_properties = read_properties(arguments, "bodyProperties");
  if (!body_properties) return tl::unexpected(body_properties.error());
  options.properties = properties->value_or(defaults);
  for (const auto& property : options.properties) {
    if (!is_known_property(property) ||
        (property.starts_with("header:") && !header_property("", property))) {
      return tl::unexpected(invalid_arguments("unknown property " + property));
    }
  }
  options.body_properties = body_properties->value_or(std::vector<std::string>{});
  options.text_values = flag_argument(arguments, "fetchTextBodyValues");
  options.html_values = flag_argument(arguments, "fetchHTMLBodyValues");
  options.all_values = flag_argument(arguments, "fetchAllBodyValues");
  const auto max_value_bytes = unsigned_argument(arguments, "maxBodyValueBytes");
  if (!max_value_bytes) return tl::unexpected(max_value_bytes.error());
  options.max_value_bytes = static_cast<std::size_t>(max_value_bytes->value_or(0));
  return options;
}

json::object email_object(EmailView& email, const GetOptions& options) {
  const store::MessageMeta& meta = email.meta();
  json::object out;
  for (const std::string& property : options.properties) {
    if (meta.id == 0 && (property == "id" || property == "threadId" || property == "mailboxIds" ||
                         property == "keywords" || property == "receivedAt")) {
      out[property] = nullptr;  // Email/parse: not stored
    } else if (property == "id") {
      out[property] = object_id(kEmailPrefix, meta.id);
    } else if (property == "blobId") {
      out[property] = email_blob_id(meta);
    } else if (property == "threadId") {
      out[property] = object_id(kThreadPrefix, meta.thread);
    } else if (property == "mailboxIds") {
      out[property] = json::object{{object_id(kMailboxPrefix, meta.mailbox), true}};
    } else if (property == "keywords") {
      out[property] = keywords_object(meta.flags);
    } else if (property == "size") {
      out[property] = meta.size;
    } else if (property == "receivedAt") {
      out[property] = utc_date(meta.internal_date);
    } else {
      const mime::Envelope& envelope = email.structure()->envelope;
      if (property == "messageId") {
        out[property] = message_ids_value(envelope.message_id);
      } else if (property == "inReplyTo") {
        out[property] = message_ids_value(envelope.in_reply_to);
      } else if (property == "references") {
        out[property] = message_ids_value(envelope.references);
      } else if (property == "sender") {
        out[property] = addresses_value(envelope.sender);
      } else if (property == "from") {
        out[property] = addresses_value(envelope.from);
      } else if (property == "to") {
        out[property] = addresses_value(envelope.to);
      } else if (property == "cc") {
        out[property] = addresses_value(envelope.cc);
      } else if (property == "bcc") {
        out[property] = addresses_value(envelope.bcc);
      } else if (property == "replyTo") {
        out[property] = addresses_value(envelope.reply_to);
      } else if (property == "subject") {
        out[property] = envelope.subject_raw.empty() && envelope.subject.empty()
                            ? json::value(nullptr)
                            : json::value(envelope.subject);
      } else if (property == "sentAt") {
        out[property] =
            envelope.date_unix
                ? json::value(zoned_date(*envelope.date_unix, envelope.date_zone_minutes))
                : json::value(nullptr);
      } else if (property == "hasAttachment") {
        out[property] = !email.lists().attachments.empty();
      } else if (property == "preview") {
        out[property] = preview(email.raw(), email.lists());
      } else if (property == "headers") {
        out[property] = headers_value(header_section(email.raw(), email.structure()->root));
      } else if (property.starts_with("header:")) {
        const std::string_view header = header_section(email.raw(), email.structure()->root);
        if (auto value = header_property(header, property)) out[property] = std::move(*value);
      } else if (property == "bodyStructure") {
        const mime::Message& message = *email.structure();
        auto properties = options.body_properties;
        if (!properties.empty() &&
            std::find(properties.begin(), properties.end(), "subParts") == properties.end()) {
          properties.push_back("subParts");
        }
        out[property] =
            body_part(email.raw(), message.root, message.root.is_multipart() ? std::string() : "1",
                      email_blob_id(meta), properties);
      } else if (property == "textBody") {
        out[property] = part_list(email, email.lists().text, options);
      } else if (property == "htmlBody") {
        out[property] = part_list(email, email.lists().html, options);
      } else if (property == "attachments") {
        out[property] = part_list(email, email.lists().attachments, options);
      } else if (property == "bodyValues") {
        json::object values;
        auto add = [&](const std::vector<BodyPartRef>& parts) {
          for (const BodyPartRef& ref : parts) {
            if (ref.part->type != "text" || values.contains(ref.part_id)) continue;
            values[ref.part_id] = body_value(email.raw(), *ref.part, options.max_value_bytes);
          }
        };
        if (options.text_values || options.all_values) add(email.lists().text);
        if (options.html_values || options.all_values) add(email.lists().html);
        if (options.all_values) add(email.lists().attachments);
        out[property] = std::move(values);
      }
    }
  }
  return out;
}

MethodResult email_get(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto asked = read_get_options(arguments, default_email_properties());
  if (!asked) return asked.error();
  GetOptions options = std::move(*asked);
  if (std::find(options.properties.begin(), options.properties.end(), "id") ==
      options.properties.end()) {
    options.properties.insert(options.properties.begin(), "id");
  }

  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "Email/get");
  std::vector<std::string> requested;
  std::vector<store::MessageId> numbers;
  const json::value* ids = argument(arguments, "ids");
  if (ids) {
    if (auto error = check_id_list(*ids, context, "ids")) return *error;
    for (const json::value& id : ids->get_array()) {
      requested.emplace_back(id.get_string());
      if (auto number = resolve_id(kEmailPrefix, id.get_string(), context))
        numbers.push_back(*number);
    }
  }
  auto metas =
      ids ? store.find_messages(context.account, numbers) : store.account_messages(context.account);
  if (!metas) return method_error(metas.error(), "Email/get");
  if (!ids) {
    if (metas->size() > context.limits->max_objects_in_get) {
      return MethodError{"requestTooLarge", "more Emails than maxObjectsInGet: give ids"};
    }
    for (const auto& meta : *metas) requested.push_back(object_id(kEmailPrefix, meta.id));
  }
  std::map<store::MessageId, const store::MessageMeta*> by_id;
  for (const auto& meta : *metas) by_id[meta.id] = &meta;
  const bool needs_structure =
      std::any_of(options.properties.begin(), options.properties.end(),
                  [](const std::string& property) { return !is_meta_property(property); });
  std::vector<store::MessageId> structure_ids;
  if (needs_structure) {
    for (const auto& meta : *metas) structure_ids.push_back(meta.id);
  }
  auto structures = store.read_structures(structure_ids);
  if (!structures) return method_error(structures.error(), "Email/get");
  std::map<store::MessageId, std::string> structure_of;
  for (std::size_t i = 0; i < structure_ids.size(); ++i) {
    structure_of[structure_ids[i]] = std::move((*structures)[i]);
  }
  json::array list, not_found;
  std::set<std::string> seen;
  std::vector<store::MessageMeta> read;
  for (const std::string& id : requested) {
    if (!seen.insert(id).second) continue;
    auto number = resolve_id(kEmailPrefix, id, context);
    auto found = number ? by_id.find(*number) : by_id.end();
    if (found == by_id.end()) {
      not_found.push_back(json::value(id));
      continue;
    }
    if (needs_structure) read.push_back(*found->second);
    EmailView email(store, *found->second,
                    needs_structure
                        ? std::optional<std::string>(std::move(structure_of[found->first]))
                        : std::nullopt);
    list.push_back(email_object(email, options));
  }
  // Content served (headers, structure or bodies), as IMAP FETCH records it; keywords
  // and sizes alone are not.
  audit_messages(store, context, audit::kRead, "Email/get", read);
  return json::object{{"accountId", context.account_id},
                      {"state", state_string(account->modseq)},
                      {"list", std::move(list)},
                      {"notFound", std::move(not_found)}};
}

MethodResult email_changes(store::Store& store, const json::object& arguments, Context& context) {
  auto result = changes_response(
      store, arguments, context, kEmailPrefix,
      [](const store::Change& change) -> std::optional<Touched> {
        if (change.message == 0) return std::nullopt;
        return Touched{change.message, change.kind == store::ChangeKind::MessageCreated};
      },
      [&](const std::vector<std::int64_t>& ids) -> Result<std::set<std::int64_t>> {
        auto found = store.find_messages(context.account, ids);
        if (!found) return tl::unexpected(found.error());
        std::set<std::int64_t> out;
        for (const auto& meta : *found) out.insert(meta.id);
        return out;
      });
  if (!result) return result.error();
  return std::move(*result);
}

}  // namespace rampart::jmap
