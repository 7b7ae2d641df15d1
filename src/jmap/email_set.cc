// Email/set (RFC 8621 §4.6): create (the message written by compose.h), update of
// keywords and mailboxIds, destroy; and the storing of a new message that
// Email/import shares.
#include <algorithm>
#include <functional>
#include <set>
#include <variant>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "delivery/delivery.h"
#include "filter/learning.h"
#include "jmap/compose.h"
#include "jmap/email_format.h"
#include "jmap/email_internal.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"

namespace rampart::jmap {

Stored store_email(store::Store& store, Context& context, const json::object& object,
                   std::string raw, const std::vector<store::Mailbox>& mailboxes) {
  auto refused = [](std::string description, std::string property) {
    return Stored{false,
                  set_error("invalidProperties", std::move(description), {std::move(property)})};
  };
  const json::value* in = object.if_contains("mailboxIds");
  const json::object* ids = in ? in->if_object() : nullptr;
  if (!ids || ids->size() != 1 || !ids->begin()->value().is_bool() ||
      !ids->begin()->value().get_bool()) {
    return refused("an Email is in exactly one mailbox here (maxMailboxesPerEmail 1)",
                   "mailboxIds");
  }
  auto mailbox = resolve_id(kMailboxPrefix, ids->begin()->key(), context);
  if (!mailbox || std::none_of(mailboxes.begin(), mailboxes.end(),
                               [&](const store::Mailbox& m) { return m.id == *mailbox; })) {
    return refused("no such mailbox", "mailboxIds");
  }
  store::Flags flags;
  if (const json::value* keywords = object.if_contains("keywords");
      keywords && !keywords->is_null()) {
    if (!keywords->is_object()) return refused("keywords is an object", "keywords");
    for (const auto& [keyword, set] : keywords->get_object()) {
      if (!valid_keyword(keyword) || !set.is_bool() || !set.get_bool()) {
        return refused("invalid keyword " + std::string(keyword), "keywords");
      }
      flags.push_back(flag_from_keyword(keyword));
    }
  }
  std::int64_t received = 0;
  if (const json::value* at = object.if_contains("receivedAt"); at && !at->is_null()) {
    auto parsed = at->is_string() ? parse_utc_date(at->get_string()) : std::nullopt;
    if (!parsed) return refused("receivedAt is a UTCDate", "receivedAt");
    received = *parsed;
  }
  if (raw.empty()) return Stored{false, set_error("invalidEmail", "the message is empty")};
  auto added =
      store.append(*mailbox, delivery::prepare_message(std::move(raw), std::move(flags), received));
  if (!added) {
    // The store refuses bad input only for the keywords it was given.
    return Stored{false, set_error_for(added.error(), "Email create", {"keywords"})};
  }
  auto meta = store.find_messages(context.account, {added->id});
  if (!meta || meta->empty())
    return Stored{false, set_error("serverFail", "the new Email is gone")};
  const store::MessageMeta& stored = meta->front();
  audit_messages(store, context, audit::kChange, "Email created", {stored});
  return Stored{true, json::object{{"id", object_id(kEmailPrefix, stored.id)},
                                   {"blobId", email_blob_id(stored)},
                                   {"threadId", object_id(kThreadPrefix, stored.thread)},
                                   {"size", stored.size}}};
}

namespace {

// Applies one patch or replacement of keywords or mailboxIds to `current`; an error
// text when the patch is not valid.
std::string apply_patch(const json::object& patch, std::string_view property,
                        std::set<std::string>& current,
                        const std::function<std::optional<std::string>(std::string_view)>& key_of) {
  const std::string prefix = std::string(property) + "/";
  for (const auto& [key, value] : patch) {
    if (key == property) {
      const json::object* whole = value.if_object();
      if (!whole) return std::string(property) + " is an object";
      current.clear();
      for (const auto& [item, flag] : *whole) {
        auto normalized = key_of(item);
        if (!normalized || !(flag.is_bool() && flag.get_bool())) {
          return "invalid " + std::string(property) + " entry " + std::string(item);
        }
        current.insert(*normalized);
      }
    } else if (std::string_view(key).starts_with(prefix)) {
      auto normalized = key_of(std::string_view(key).substr(prefix.size()));
      if (!normalized) return "invalid patch " + std::string(key);
      if (value.is_null()) {
        current.erase(*normalized);
      } else if (value.is_bool() && value.get_bool()) {
        current.insert(*normalized);
      } else {
        return std::string(key) + " is true or null";
      }
    }
  }
  return {};
}

bool settable_on_create(std::string_view property) {
  static constexpr std::string_view kSettable[] = {
      "mailboxIds", "keywords",  "receivedAt",  "from",       "sender",
      "replyTo",    "to",        "cc",          "bcc",        "subject",
      "sentAt",     "messageId", "inReplyTo",   "references", "bodyStructure",
      "textBody",   "htmlBody",  "attachments", "bodyValues"};
  return property.starts_with("header:") ||
         std::find(std::begin(kSettable), std::end(kSettable), property) != std::end(kSettable);
}

// A key for apply_patch: the normalised mailbox id or keyword, nullopt if invalid.
using PatchKey = std::function<std::optional<std::string>(std::string_view)>;

// Email/set create: each Email composed (compose.h) and stored.
void create_emails(store::Store& store, const std::string& hostname, const json::object& create,
                   const std::vector<store::Mailbox>& mailboxes, Context& context,
                   SetOutcome& out) {
  for (const auto& [creation_id, value] : create) {
    const json::object* object = value.if_object();
    if (!object) {
      out.not_created[creation_id] = set_error("invalidProperties", "an Email is an object");
      continue;
    }
    std::string bad;
    for (const auto& [key, ignored] : *object) {
      if (!settable_on_create(key)) bad = std::string(key);
    }
    if (!bad.empty()) {
      out.not_created[creation_id] = set_error("invalidProperties", "cannot set " + bad, {bad});
      continue;
    }
    auto composed = compose_email(
        *object, [&](std::string_view id) { return read_account_blob(store, context.account, id); },
        {.hostname = hostname, .now = unix_seconds(), .max_attachment_bytes = 10'000'000});
    if (auto* refused = std::get_if<json::object>(&composed)) {
      out.not_created[creation_id] = std::move(*refused);
      continue;
    }
    Stored stored =
        store_email(store, context, *object, std::move(std::get<std::string>(composed)), mailboxes);
    if (!stored.ok) {
      out.not_created[creation_id] = std::move(stored.value);
      continue;
    }
    context.created_ids[std::string(creation_id)] = std::string(stored.value.at("id").get_string());
    out.created[creation_id] = std::move(stored.value);
  }
}

// The new keywords and mailbox of `meta` after `patch` (keywords and mailboxIds, whole
// or by path), or the SetError that refuses it.
struct Patched {
  std::set<std::string> keywords;
  store::MailboxId mailbox = 0;
};
std::variant<Patched, json::object> read_patch(const store::MessageMeta& meta,
                                               const json::object& patch,
                                               const PatchKey& mailbox_key,
                                               const PatchKey& keyword_key) {
  for (const auto& [key, ignored] : patch) {
    const std::string_view name = key;
    if (name != "keywords" && name != "mailboxIds" && !name.starts_with("keywords/") &&
        !name.starts_with("mailboxIds/")) {
      return set_error("invalidProperties", "cannot set " + std::string(name), {std::string(name)});
    }
  }
  Patched out;
  for (auto& keyword : keywords_from_flags(meta.flags)) out.keywords.insert(keyword);
  std::set<std::string> in_mailboxes{std::to_string(meta.mailbox)};
  std::string problem = apply_patch(patch, "keywords", out.keywords, keyword_key);
  if (!problem.empty()) return set_error("invalidProperties", problem, {"keywords"});
  problem = apply_patch(patch, "mailboxIds", in_mailboxes, mailbox_key);
  if (problem.empty() && in_mailboxes.size() != 1) {
    problem = "an Email is in exactly one mailbox here (maxMailboxesPerEmail 1)";
  }
  if (!problem.empty()) return set_error("invalidProperties", problem, {"mailboxIds"});
  out.mailbox = std::stoll(*in_mailboxes.begin());
  return out;
}

// Applies a checked patch to the stored message: its flags replaced (\Deleted has no
// keyword and is kept), then the move. A SetError if the store refuses.
std::optional<json::object> apply_email_patch(store::Store& store, const store::MessageMeta& meta,
                                              const Patched& patched) {
  store::Flags flags;
  for (const auto& keyword : patched.keywords) flags.push_back(flag_from_keyword(keyword));
  for (const auto& flag : meta.flags) {
    if (flag == "\\Deleted") flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end());
  store::Flags current = meta.flags;
  for (auto& flag : current) {
    if (flag.front() != '\\') flag = lowercase(flag);
  }
  std::sort(current.begin(), current.end());
  if (flags != current) {
    auto changed = store.change_flags(
        meta.mailbox, {meta.uid},
        {.operation = store::FlagOperation::Replace, .flags = flags, .unchanged_since = {}});
    if (!changed) return set_error_for(changed.error(), "Email/set keywords", {"keywords"});
  }
  if (patched.mailbox != meta.mailbox) {
    auto moved = store.move_messages(meta.mailbox, {meta.uid}, patched.mailbox);
    if (!moved) return set_error_for(moved.error(), "Email/set move", {"mailboxIds"});
  }
  return std::nullopt;
}

// What moves into and out of Junk teach the spam filter (filter/learning.h).
struct Lessons {
  std::vector<std::string> spam, ham;
  void add(const store::MessageMeta& meta, store::MailboxId to,
           const std::vector<store::Mailbox>& mailboxes) {
    auto role = [&mailboxes](store::MailboxId id) {
      for (const store::Mailbox& mailbox : mailboxes) {
        if (mailbox.id == id) return mailbox.role;
      }
      return store::Role::None;
    };
    const filter::Lesson lesson = filter::lesson_for(role(meta.mailbox), role(to));
    if (lesson == filter::Lesson::Spam) spam.push_back(meta.blob_id);
    if (lesson == filter::Lesson::Ham) ham.push_back(meta.blob_id);
  }
  void teach(filter::Learner& learner) {
    learner.learn(filter::Lesson::Spam, std::move(spam));
    learner.learn(filter::Lesson::Ham, std::move(ham));
  }
};

// Email/set update; the Emails changed, for the audit trail, or a method error.
Checked<std::vector<store::MessageMeta>> update_emails(store::Store& store,
                                                       const json::object& update,
                                                       const std::vector<store::Mailbox>& mailboxes,
                                                       const Context& context, SetOutcome& out,
                                                       filter::Learner* learner) {
  auto mailbox_key = [&](std::string_view id) -> std::optional<std::string> {
    auto number = resolve_id(kMailboxPrefix, id, context);
    if (!number || std::none_of(mailboxes.begin(), mailboxes.end(),
                                [&](const store::Mailbox& m) { return m.id == *number; })) {
      return std::nullopt;
    }
    return std::to_string(*number);
  };
  auto keyword_key = [](std::string_view keyword) -> std::optional<std::string> {
    if (!valid_keyword(keyword)) return std::nullopt;
    return lowercase(keyword);
  };
  std::vector<store::MessageMeta> changed;
  Lessons lessons;
  for (const auto& [id, value] : update) {
    auto number = resolve_id(kEmailPrefix, id, context);
    auto found = number ? store.find_messages(context.account, {*number})
                        : Result<std::vector<store::MessageMeta>>{};
    if (!found) return tl::unexpected(method_error(found.error(), "Email/set update"));
    if (found->empty()) {
      out.not_updated[id] = set_error("notFound");
      continue;
    }
    const json::object* patch = value.if_object();
    if (!patch) {
      out.not_updated[id] = set_error("invalidPatch", "a patch is an object");
      continue;
    }
    const store::MessageMeta meta = found->front();
    auto patched = read_patch(meta, *patch, mailbox_key, keyword_key);
    if (auto* refused = std::get_if<json::object>(&patched)) {
      out.not_updated[id] = std::move(*refused);
      continue;
    }
    if (auto refused = apply_email_patch(store, meta, std::get<Patched>(patched))) {
      out.not_updated[id] = std::move(*refused);
      continue;
    }
    out.updated[id] = nullptr;
    changed.push_back(meta);
    if (learner) lessons.add(meta, std::get<Patched>(patched).mailbox, mailboxes);
  }
  if (learner) lessons.teach(*learner);
  return changed;
}

// Email/set destroy; the Emails expunged, for the audit trail, or a method error.
Checked<std::vector<store::MessageMeta>> destroy_emails(store::Store& store,
                                                        const json::array& destroy,
                                                        const Context& context, SetOutcome& out) {
  std::vector<store::MessageMeta> removed_messages;
  for (const json::value& id : destroy) {
    if (!id.is_string()) return tl::unexpected(invalid_arguments("destroy is a list of ids"));
    const std::string key(id.get_string());
    auto number = resolve_id(kEmailPrefix, key, context);
    auto found = number ? store.find_messages(context.account, {*number})
                        : Result<std::vector<store::MessageMeta>>{};
    if (!found) return tl::unexpected(method_error(found.error(), "Email/set destroy"));
    if (found->empty()) {
      out.not_destroyed[key] = set_error("notFound");
      continue;
    }
    auto removed = store.expunge(found->front().mailbox, {found->front().uid});
    if (!removed) {
      out.not_destroyed[key] = set_error_for(removed.error(), "Email/set destroy");
      continue;
    }
    out.destroyed.push_back(id);
    removed_messages.push_back(found->front());
  }
  return removed_messages;
}

}  // namespace

MethodResult email_set(store::Store& store, const std::string& hostname, filter::Learner* learner,
                       const json::object& arguments, Context& context) {
  auto begun = begin_set(store, arguments, context);
  if (!begun) return begun.error();
  auto mailboxes = store.list_mailboxes(context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Email/set");
  SetOutcome out;
  if (const json::value* create = argument(arguments, "create")) {
    create_emails(store, hostname, create->get_object(), *mailboxes, context, out);
  }
  std::vector<store::MessageMeta> changed, removed;
  if (const json::value* update = argument(arguments, "update")) {
    auto updated = update_emails(store, update->get_object(), *mailboxes, context, out, learner);
    if (!updated) return updated.error();
    changed = std::move(*updated);
  }
  if (const json::value* destroy = argument(arguments, "destroy")) {
    auto destroyed = destroy_emails(store, destroy->get_array(), context, out);
    if (!destroyed) return destroyed.error();
    removed = std::move(*destroyed);
  }
  audit_messages(store, context, audit::kChange, "Email/set update", changed);
  audit_messages(store, context, audit::kExpunge, "Email/set destroy", removed);
  return end_set(store, context, *begun, std::move(out));
}

}  // namespace rampart::jmap
