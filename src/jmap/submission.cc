// Identity (RFC 8621 §6) and EmailSubmission (§7): who the account may send as, and
// sending an Email: local recipients get it delivered at once, remote ones through the
// outbound queue, as SMTP submission does. Both are kept as store objects (JSON), so
// their states are the account's MODSEQ like every other type.
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "delivery/delivery.h"
#include "delivery/vacation.h"
#include "directory/directory.h"
#include "jmap/email_format.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"
#include "mime/header.h"
#include "mime/message.h"

namespace rampart::jmap::mail {
namespace {

constexpr char kIdentityPrefix = 'I';
constexpr char kSubmissionPrefix = 'S';
constexpr char kIdentityType[] = "Identity";
constexpr char kSubmissionType[] = "EmailSubmission";
constexpr std::size_t kMaxRecipients = 100;

struct Services {
  store::Store& store;
  directory::Directory& directory;
  delivery::Delivery& delivery;
};

json::object parse_data(const store::StoredObject& object) {
  boost::system::error_code error;
  json::value value = json::parse(object.data, error);
  return !error && value.is_object() ? std::move(value.get_object()) : json::object{};
}

// Does `address` lead to this account (itself, a +tag, an alias, a catch-all)?
bool owns(directory::Directory& directory, std::string_view address, store::AccountId account) {
  auto owner = directory.resolve_recipient(lowercase(address));
  return owner && owner->id == account;
}

// The account's identities, the default one (its own address) made on first use.
Result<std::vector<store::StoredObject>> identities(store::Store& store, const Context& context) {
  auto list = store.list_objects(context.account, kIdentityType);
  if (!list || !list->empty()) return list;
  json::object identity{{"name", ""},     {"email", context.username}, {"replyTo", nullptr},
                        {"bcc", nullptr}, {"textSignature", ""},       {"htmlSignature", ""}};
  auto made = store.put_object(context.account, kIdentityType, 0, json::serialize(identity));
  if (!made) return tl::unexpected(made.error());
  return std::vector<store::StoredObject>{*made};
}

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

// /get for a stored type.
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

// /changes for a stored type: each record's creating and last MODSEQ say what happened.
MethodResult object_changes(store::Store& store, const char* type, char prefix,
                            const json::object& arguments, Context& context) {
  auto read = read_changes_arguments(arguments, context, "sinceState");
  if (auto* error = std::get_if<MethodError>(&read)) return *error;
  const auto [since, max_changes] = std::get<ChangesArguments>(read);
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

// ---- Identity ----

const std::vector<std::string> kIdentityProperties = {
    "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature", "mayDelete"};

// The identity's settable properties checked and merged into `data`; a SetError if not.
std::optional<json::object> apply_identity(const json::object& patch, json::object& data,
                                           bool creating) {
  for (const auto& [key, value] : patch) {
    const std::string name(key);
    if (name == "name" || name == "textSignature" || name == "htmlSignature") {
      if (!value.is_string()) return set_error("invalidProperties", name + " is a string", {name});
    } else if (name == "replyTo" || name == "bcc") {
      if (!value.is_null() && !value.is_array()) {
        return set_error("invalidProperties", name + " is a list of EmailAddress or null", {name});
      }
      if (value.is_array()) {
        for (const json::value& address : value.get_array()) {
          const json::object* object = address.if_object();
          const json::value* email = object ? object->if_contains("email") : nullptr;
          if (!email || !email->is_string() || email->get_string().empty()) {
            return set_error("invalidProperties", name + " entries have an email", {name});
          }
        }
      }
    } else if (name == "email") {
      if (!creating) return set_error("invalidProperties", "email is immutable", {name});
      if (!value.is_string()) return set_error("invalidProperties", "email is a string", {name});
    } else if (name == "id" || name == "mayDelete") {
      if (!creating || name == "id")
        return set_error("invalidProperties", "server-set: " + name, {name});
      continue;
    } else {
      return set_error("invalidProperties", "unknown property " + name, {name});
    }
    data[key] = value;
  }
  return std::nullopt;
}

MethodResult identity_set(Services& services, const json::object& arguments, Context& context) {
  auto begun = begin_set(services.store, arguments, context);
  if (auto* error = std::get_if<MethodError>(&begun)) return *error;
  SetOutcome out;
  auto existing = identities(services.store, context);
  if (!existing) return method_error(existing.error(), "Identity/set");
  if (const json::value* create = argument(arguments, "create")) {
    for (const auto& [creation_id, value] : create->get_object()) {
      const json::object* patch = value.if_object();
      json::object data{{"name", ""},
                        {"replyTo", nullptr},
                        {"bcc", nullptr},
                        {"textSignature", ""},
                        {"htmlSignature", ""}};
      if (!patch || !patch->contains("email")) {
        out.not_created[creation_id] =
            set_error("invalidProperties", "email is required", {"email"});
        continue;
      }
      if (auto refused = apply_identity(*patch, data, true)) {
        out.not_created[creation_id] = std::move(*refused);
        continue;
      }
      data["email"] = lowercase(data["email"].get_string());
      if (!owns(services.directory, data["email"].get_string(), context.account)) {
        out.not_created[creation_id] =
            set_error("forbiddenFrom",
                      "this account may not send as " + std::string(data["email"].get_string()));
        continue;
      }
      auto made =
          services.store.put_object(context.account, kIdentityType, 0, json::serialize(data));
      if (!made) return method_error(made.error(), "Identity/set");
      const std::string id = object_id(kIdentityPrefix, made->id);
      context.created_ids[std::string(creation_id)] = id;
      out.created[creation_id] = json::object{{"id", id}, {"mayDelete", true}};
    }
  }
  if (const json::value* update = argument(arguments, "update")) {
    for (const auto& [key, value] : update->get_object()) {
      auto number = resolve_id(kIdentityPrefix, key, context);
      auto found = std::find_if(existing->begin(), existing->end(),
                                [&](const auto& object) { return number && object.id == *number; });
      if (found == existing->end()) {
        out.not_updated[key] = set_error("notFound");
        continue;
      }
      const json::object* patch = value.if_object();
      json::object data = parse_data(*found);
      if (!patch) {
        out.not_updated[key] = set_error("invalidPatch", "a patch is an object");
        continue;
      }
      if (auto refused = apply_identity(*patch, data, false)) {
        out.not_updated[key] = std::move(*refused);
        continue;
      }
      if (auto done = services.store.put_object(context.account, kIdentityType, found->id,
                                                json::serialize(data));
          !done) {
        out.not_updated[key] = set_error("notFound");
        continue;
      }
      out.updated[key] = nullptr;
    }
  }
  if (const json::value* destroy = argument(arguments, "destroy")) {
    for (const json::value& id : destroy->get_array()) {
      if (!id.is_string()) return invalid_arguments("destroy is a list of ids");
      auto number = resolve_id(kIdentityPrefix, id.get_string(), context);
      if (!number || !services.store.destroy_object(context.account, kIdentityType, *number)) {
        out.not_destroyed[std::string(id.get_string())] = set_error("notFound");
        continue;
      }
      out.destroyed.push_back(id);
    }
  }
  return end_set(services.store, context, std::get<std::string>(begun), std::move(out));
}

// ---- EmailSubmission ----

const std::vector<std::string> kSubmissionProperties = {
    "identityId", "emailId",        "threadId",   "envelope",  "sendAt",
    "undoStatus", "deliveryStatus", "dsnBlobIds", "mdnBlobIds"};

bool plausible_address(std::string_view address) {
  const auto at = address.rfind('@');
  return !address.empty() && address.size() <= 320 && at != 0 && at != std::string_view::npos &&
         at + 1 < address.size() &&
         address.find_first_of(" \t\r\n<>(),;:\"[]\\") == std::string_view::npos &&
         std::none_of(address.begin(), address.end(), [](char c) { return c > 0 && c < 32; });
}

// The message without its Bcc fields: recipients must not see who else got it.
std::string without_bcc(std::string_view raw, const mime::Message& message) {
  const std::string_view header = raw.substr(0, std::min(message.root.body_begin, raw.size()));
  const auto fields = mime::header_fields(header);
  std::string out;
  std::size_t at = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (!iequals(fields[i].name, "bcc")) continue;
    const std::size_t end = i + 1 < fields.size() ? fields[i + 1].offset : message.root.header_end;
    out += raw.substr(at, fields[i].offset - at);
    at = end;
  }
  out += raw.substr(at);
  return out;
}

struct Envelope {
  std::string mail_from;
  json::value mail_from_parameters = nullptr;
  std::vector<std::pair<std::string, json::value>> rcpt_to;
};

MethodResult submission_set(Services& services, const json::object& arguments, Context& context) {
  auto begun = begin_set(services.store, arguments, context);
  if (auto* error = std::get_if<MethodError>(&begun)) return *error;
  store::Store& store = services.store;
  SetOutcome out;
  std::map<std::string, store::MessageId> sent_emails;  // "#creation" and id -> Email
  auto existing_identities = identities(store, context);
  if (!existing_identities) return method_error(existing_identities.error(), "EmailSubmission/set");
  if (const json::value* create = argument(arguments, "create")) {
    for (const auto& [creation_id, value] : create->get_object()) {
      const json::object* object = value.if_object();
      auto refuse = [&](std::string_view type, std::string description,
                        std::vector<std::string> properties = {}) {
        out.not_created[creation_id] =
            set_error(type, std::move(description), std::move(properties));
      };
      if (!object) {
        refuse("invalidProperties", "an EmailSubmission is an object");
        continue;
      }
      std::string bad;
      for (const auto& [key, ignored] : *object) {
        if (key != "identityId" && key != "emailId" && key != "envelope" &&
            !(key == "undoStatus" && ignored.is_string() && ignored.get_string() == "final")) {
          bad = std::string(key);
        }
      }
      if (!bad.empty()) {
        refuse(
            "invalidProperties",
            bad == "undoStatus" ? "sending is final here (maxDelayedSend 0)" : "cannot set " + bad,
            {bad});
        continue;
      }
      const json::value* identity_id = object->if_contains("identityId");
      auto identity_number = identity_id && identity_id->is_string()
                                 ? resolve_id(kIdentityPrefix, identity_id->get_string(), context)
                                 : std::nullopt;
      auto identity = std::find_if(
          existing_identities->begin(), existing_identities->end(),
          [&](const auto& item) { return identity_number && item.id == *identity_number; });
      if (identity == existing_identities->end()) {
        refuse("invalidProperties", "no such identity", {"identityId"});
        continue;
      }
      const json::value* email_id = object->if_contains("emailId");
      auto email_number = email_id && email_id->is_string()
                              ? resolve_id(kEmailPrefix, email_id->get_string(), context)
                              : std::nullopt;
      auto metas = email_number ? store.find_messages(context.account, {*email_number})
                                : Result<std::vector<store::MessageMeta>>{};
      if (!metas) return method_error(metas.error(), "EmailSubmission/set");
      if (metas->empty()) {
        refuse("emailNotFound", "no such Email", {"emailId"});
        continue;
      }
      const store::MessageMeta meta = metas->front();
      auto raw = store.read_blob(meta.blob_id);
      if (!raw) return method_error(raw.error(), "EmailSubmission/set");
      const mime::Message parsed = mime::parse(*raw);
      const mime::Envelope& headers = parsed.envelope;
      // The identity's address, and every author the message names (From, Sender:
      // the rule SMTP submission applies), must be the account's own.
      const std::string identity_email(parse_data(*identity).at("email").as_string());
      auto authors = services.delivery.check_authors(*raw, context.account);
      if (!authors && authors.error().code == Errc::BadInput) {
        refuse("invalidEmail", "a message has exactly one From field and at most one Sender");
        continue;
      }
      if (!authors || !owns(services.directory, identity_email, context.account)) {
        refuse("forbiddenFrom",
               "the From or Sender header names an address this account may not send as");
        continue;
      }
      Envelope envelope;
      if (const json::value* given = argument(*object, "envelope")) {
        const json::object* envelope_object = given->if_object();
        const json::value* from =
            envelope_object ? envelope_object->if_contains("mailFrom") : nullptr;
        const json::value* to = envelope_object ? envelope_object->if_contains("rcptTo") : nullptr;
        const json::object* from_object = from ? from->if_object() : nullptr;
        const json::value* from_email = from_object ? from_object->if_contains("email") : nullptr;
        if (!from_email || !from_email->is_string() || !to || !to->is_array()) {
          refuse("invalidProperties", "envelope has mailFrom and rcptTo", {"envelope"});
          continue;
        }
        envelope.mail_from = lowercase(from_email->get_string());
        if (const json::value* parameters = from_object->if_contains("parameters")) {
          envelope.mail_from_parameters = *parameters;
        }
        bool shaped = true;
        for (const json::value& rcpt : to->get_array()) {
          const json::object* rcpt_object = rcpt.if_object();
          const json::value* email = rcpt_object ? rcpt_object->if_contains("email") : nullptr;
          if (!email || !email->is_string()) {
            shaped = false;
            break;
          }
          const json::value* parameters = rcpt_object->if_contains("parameters");
          envelope.rcpt_to.emplace_back(std::string(email->get_string()),
                                        parameters ? *parameters : json::value(nullptr));
        }
        if (!shaped) {
          refuse("invalidProperties", "rcptTo entries have an email", {"envelope"});
          continue;
        }
      } else {
        // §7.5: Sender if there is one, else From; recipients from To, Cc and Bcc.
        const auto& sender = headers.sender.empty() ? headers.from : headers.sender;
        for (const auto& address : sender) {
          if (address.kind == mime::Address::Kind::Mailbox) {
            envelope.mail_from = lowercase(mime::address_spec(address));
            break;
          }
        }
        std::set<std::string> seen;
        for (const auto* list : {&headers.to, &headers.cc, &headers.bcc}) {
          for (const auto& address : *list) {
            if (address.kind != mime::Address::Kind::Mailbox) continue;
            std::string email = mime::address_spec(address);
            if (seen.insert(lowercase(email)).second) {
              envelope.rcpt_to.emplace_back(std::move(email), nullptr);
            }
          }
        }
      }
      // Whichever way it was found, the envelope sender is one the account owns.
      if (!envelope.mail_from.empty() &&
          !owns(services.directory, envelope.mail_from, context.account)) {
        refuse("forbiddenMailFrom", "this account may not use " + envelope.mail_from);
        continue;
      }
      if (envelope.rcpt_to.empty()) {
        refuse("noRecipients", "the Email has no recipients");
        continue;
      }
      if (envelope.rcpt_to.size() > kMaxRecipients) {
        refuse("tooManyRecipients", "at most 100 recipients");
        continue;
      }
      json::array invalid;
      for (const auto& [email, parameters] : envelope.rcpt_to) {
        if (!plausible_address(email)) invalid.push_back(json::value(email));
      }
      if (!invalid.empty()) {
        json::object error = set_error("invalidRecipients", "not addresses");
        error["invalidRecipients"] = std::move(invalid);
        out.not_created[creation_id] = std::move(error);
        continue;
      }
      // Local recipients get it now, remote ones through the queue.
      std::vector<store::AccountId> local;
      store::QueueEntry outbound{.account = context.account, .sender = envelope.mail_from};
      json::object delivery_status;
      for (const auto& [email, parameters] : envelope.rcpt_to) {
        auto owner = services.directory.resolve_recipient(lowercase(email));
        const bool is_local = owner.has_value();
        if (is_local) {
          local.push_back(owner->id);
        } else {
          auto is_our_domain =
              services.delivery.is_local_domain(email.substr(email.rfind('@') + 1));
          if (is_our_domain && *is_our_domain) {
            invalid.push_back(json::value(email));  // our domain, no such user
            continue;
          }
          outbound.recipients.push_back({email, {}, {}});
        }
        delivery_status[email] =
            json::object{{"smtpReply", is_local ? "250 2.1.5 Delivered" : "250 2.0.0 Queued"},
                         {"delivered", is_local ? "yes" : "queued"},
                         {"displayed", "unknown"}};
      }
      if (!invalid.empty()) {
        json::object error = set_error("invalidRecipients", "no such local recipients");
        error["invalidRecipients"] = std::move(invalid);
        out.not_created[creation_id] = std::move(error);
        continue;
      }
      const std::string message = without_bcc(*raw, parsed);
      if (!local.empty()) {
        auto delivered = services.delivery.deliver_local(
            "Return-Path: <" + envelope.mail_from + ">\r\n" + message, local,
            {.protocol = "jmap",
             .actor = context.username,
             .address = context.address,
             .detail = "EmailSubmission from <" + envelope.mail_from + ">"},
            envelope.mail_from);
        if (!delivered) {
          out.not_created[creation_id] =
              set_error_for(delivered.error(), "EmailSubmission deliver");
          continue;
        }
      }
      if (!outbound.recipients.empty()) {
        auto queued = services.delivery.enqueue(message, outbound);
        if (!queued) {
          out.not_created[creation_id] = set_error_for(queued.error(), "EmailSubmission queue");
          continue;
        }
      }
      json::array rcpt_to;
      for (auto& [email, parameters] : envelope.rcpt_to) {
        rcpt_to.push_back(json::object{{"email", email}, {"parameters", parameters}});
      }
      const std::string send_at = utc_date(unix_seconds());
      json::object data{
          {"identityId", object_id(kIdentityPrefix, identity->id)},
          {"emailId", object_id(kEmailPrefix, meta.id)},
          {"threadId", object_id(kThreadPrefix, meta.thread)},
          {"envelope",
           json::object{{"mailFrom", json::object{{"email", envelope.mail_from},
                                                  {"parameters", envelope.mail_from_parameters}}},
                        {"rcptTo", std::move(rcpt_to)}}},
          {"sendAt", send_at},
          {"undoStatus", "final"},
          {"deliveryStatus", std::move(delivery_status)},
          {"dsnBlobIds", json::array{}},
          {"mdnBlobIds", json::array{}}};
      auto stored = store.put_object(context.account, kSubmissionType, 0, json::serialize(data));
      if (!stored) return method_error(stored.error(), "EmailSubmission/set");
      audit_messages(
          store, context, audit::kChange,
          "EmailSubmission to " + std::to_string(envelope.rcpt_to.size()) + " recipient(s) of",
          {meta});
      const std::string id = object_id(kSubmissionPrefix, stored->id);
      context.created_ids[std::string(creation_id)] = id;
      sent_emails["#" + std::string(creation_id)] = meta.id;
      sent_emails[id] = meta.id;
      out.created[creation_id] = json::object{{"id", id},
                                              {"sendAt", send_at},
                                              {"undoStatus", "final"},
                                              {"threadId", object_id(kThreadPrefix, meta.thread)}};
    }
  }
  if (const json::value* update = argument(arguments, "update")) {
    auto submissions = store.list_objects(context.account, kSubmissionType);
    if (!submissions) return method_error(submissions.error(), "EmailSubmission/set");
    for (const auto& [key, value] : update->get_object()) {
      auto number = resolve_id(kSubmissionPrefix, key, context);
      const bool known =
          std::any_of(submissions->begin(), submissions->end(),
                      [&](const auto& item) { return number && item.id == *number; });
      if (!known) {
        out.not_updated[key] = set_error("notFound");
      } else {
        // Sending is final at once: nothing is left to cancel.
        out.not_updated[key] = set_error("cannotUnsend", "the message has been sent");
      }
    }
  }
  if (const json::value* destroy = argument(arguments, "destroy")) {
    for (const json::value& id : destroy->get_array()) {
      if (!id.is_string()) return invalid_arguments("destroy is a list of ids");
      auto number = resolve_id(kSubmissionPrefix, id.get_string(), context);
      if (!number || !store.destroy_object(context.account, kSubmissionType, *number)) {
        out.not_destroyed[std::string(id.get_string())] = set_error("notFound");
        continue;
      }
      out.destroyed.push_back(id);
    }
  }
  json::object answer = end_set(store, context, std::get<std::string>(begun), std::move(out));
  // onSuccessUpdateEmail / onSuccessDestroyEmail: an implied Email/set (§7.5).
  json::object email_update;
  json::array email_destroy;
  if (const json::value* on_update = argument(arguments, "onSuccessUpdateEmail")) {
    if (!on_update->is_object()) return invalid_arguments("onSuccessUpdateEmail is a map");
    for (const auto& [key, patch] : on_update->get_object()) {
      auto sent = sent_emails.find(std::string(key));
      if (sent != sent_emails.end()) email_update[object_id(kEmailPrefix, sent->second)] = patch;
    }
  }
  if (const json::value* on_destroy = argument(arguments, "onSuccessDestroyEmail")) {
    if (!on_destroy->is_array()) return invalid_arguments("onSuccessDestroyEmail is a list");
    for (const json::value& key : on_destroy->get_array()) {
      if (!key.is_string()) continue;
      auto sent = sent_emails.find(std::string(key.get_string()));
      if (sent != sent_emails.end()) {
        email_destroy.push_back(json::value(object_id(kEmailPrefix, sent->second)));
      }
    }
  }
  if ((!email_update.empty() || !email_destroy.empty()) && context.dispatcher) {
    json::object implied{{"accountId", context.account_id}};
    if (!email_update.empty()) implied["update"] = std::move(email_update);
    if (!email_destroy.empty()) implied["destroy"] = std::move(email_destroy);
    auto result = context.dispatcher->call("Email/set", implied, context);
    if (auto* done = std::get_if<json::object>(&result)) {
      context.implied_responses.emplace_back("Email/set", std::move(*done));
    } else {
      const MethodError& error = std::get<MethodError>(result);
      context.implied_responses.emplace_back(
          "error", json::object{{"type", error.type}, {"description", error.description}});
    }
  }
  return answer;
}

MethodResult submission_query(store::Store& store, const json::object& arguments,
                              Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "EmailSubmission/query");
  auto submissions = store.list_objects(context.account, kSubmissionType);
  if (!submissions) return method_error(submissions.error(), "EmailSubmission/query");
  struct Row {
    std::int64_t id;
    json::object data;
  };
  std::vector<Row> rows;
  const json::value* filter = argument(arguments, "filter");
  if (filter && !filter->is_object()) return invalid_arguments("filter is an object");
  for (const auto& object : *submissions) {
    Row row{object.id, parse_data(object)};
    bool keep = true;
    if (filter) {
      for (const auto& [key, value] : filter->get_object()) {
        if (key == "identityIds" || key == "emailIds" || key == "threadIds") {
          if (!value.is_array()) return invalid_arguments(std::string(key) + " is a list of ids");
          const std::string field = std::string(key).substr(0, key.size() - 1);
          const json::value* have = row.data.if_contains(field);
          keep &= have && std::find(value.get_array().begin(), value.get_array().end(), *have) !=
                              value.get_array().end();
        } else if (key == "undoStatus") {
          keep &= row.data["undoStatus"] == value;
        } else if (key == "before" || key == "after") {
          if (!value.is_string() || !parse_utc_date(value.get_string())) {
            return invalid_arguments(std::string(key) + " is a UTCDate");
          }
          const auto sent = parse_utc_date(row.data["sendAt"].as_string()).value_or(0);
          const auto limit = *parse_utc_date(value.get_string());
          keep &= key == "before" ? sent < limit : sent >= limit;
        } else {
          return MethodError{"unsupportedFilter", "unsupported filter " + std::string(key)};
        }
      }
    }
    if (keep) rows.push_back(std::move(row));
  }
  if (const json::value* sort = argument(arguments, "sort")) {
    if (!sort->is_array()) return invalid_arguments("sort is a list of comparators");
    for (auto it = sort->get_array().rbegin(); it != sort->get_array().rend(); ++it) {
      const json::object* comparator = it->if_object();
      const json::value* property = comparator ? comparator->if_contains("property") : nullptr;
      if (!property || !property->is_string())
        return invalid_arguments("a comparator has a property");
      const std::string name(property->get_string());
      const std::string field = name == "sentAt" ? "sendAt" : name;
      if (name != "emailId" && name != "threadId" && name != "sentAt") {
        return MethodError{"unsupportedSort", "cannot sort by " + name};
      }
      const json::value* ascending = comparator->if_contains("isAscending");
      const bool up = !ascending || !ascending->is_bool() || ascending->get_bool();
      std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
        const auto& x = a.data.at(field).as_string();
        const auto& y = b.data.at(field).as_string();
        // Ids sort by number ("E9" before "E10"), dates as text.
        auto key = [&](const json::string& text) {
          return field == "sendAt" ? std::string(text)
                                   : std::string(20 - std::min<std::size_t>(20, text.size()), '0') +
                                         std::string(text);
        };
        return up ? key(x) < key(y) : key(y) < key(x);
      });
    }
  }
  std::vector<std::int64_t> ids;
  for (const Row& row : rows) ids.push_back(row.id);
  return query_answer(arguments, context, account->modseq, kSubmissionPrefix, ids);
}

// ---- VacationResponse (§8): one per account, "singleton" ----

constexpr char kSingleton[] = "singleton";

json::object vacation_object(const delivery::Vacation& vacation) {
  auto date = [](const std::optional<std::int64_t>& seconds) {
    return seconds ? json::value(utc_date(*seconds)) : json::value(nullptr);
  };
  auto text = [](const std::optional<std::string>& value) {
    return value ? json::value(*value) : json::value(nullptr);
  };
  return json::object{{"id", kSingleton},
                      {"isEnabled", vacation.enabled},
                      {"fromDate", date(vacation.from)},
                      {"toDate", date(vacation.to)},
                      {"subject", text(vacation.subject)},
                      {"textBody", text(vacation.text_body)},
                      {"htmlBody", text(vacation.html_body)}};
}

MethodResult vacation_get(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto read = read_properties(arguments);
  if (!read) return read.error();
  const Properties& properties = *read;
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "VacationResponse/get");
  auto stored = store.list_objects(context.account, delivery::kVacationType);
  if (!stored) return method_error(stored.error(), "VacationResponse/get");
  const json::object full = vacation_object(
      stored->empty() ? delivery::Vacation{} : delivery::vacation_from_json(stored->front().data));
  json::object shown = full;
  if (properties) {
    shown = json::object{{"id", kSingleton}};
    for (const auto& property : *properties) {
      const json::value* value = full.if_contains(property);
      if (!value) return invalid_arguments("unknown property " + property);
      shown[property] = *value;
    }
  }
  json::array list, not_found;
  const json::value* ids = argument(arguments, "ids");
  if (ids) {
    if (auto error = check_id_list(*ids, context, "ids")) return *error;
  }
  if (!ids) {
    list.push_back(shown);
  } else {
    for (const json::value& id : ids->get_array()) {
      if (id.get_string() == kSingleton) {
        list.push_back(shown);
      } else {
        not_found.push_back(id);
      }
    }
  }
  return json::object{{"accountId", context.account_id},
                      {"state", state_string(account->modseq)},
                      {"list", std::move(list)},
                      {"notFound", std::move(not_found)}};
}

MethodResult vacation_set(store::Store& store, const json::object& arguments, Context& context) {
  auto begun = begin_set(store, arguments, context);
  if (auto* error = std::get_if<MethodError>(&begun)) return *error;
  SetOutcome out;
  if (const json::value* create = argument(arguments, "create")) {
    for (const auto& [key, value] : create->get_object()) {
      out.not_created[key] = set_error("singleton", "there is one VacationResponse: update it");
    }
  }
  if (const json::value* destroy = argument(arguments, "destroy")) {
    for (const json::value& id : destroy->get_array()) {
      if (id.is_string()) {
        out.not_destroyed[std::string(id.get_string())] =
            set_error("singleton", "there is one VacationResponse: disable it");
      }
    }
  }
  if (const json::value* update = argument(arguments, "update")) {
    for (const auto& [key, value] : update->get_object()) {
      if (key != kSingleton) {
        out.not_updated[key] = set_error("notFound");
        continue;
      }
      auto stored = store.list_objects(context.account, delivery::kVacationType);
      if (!stored) return method_error(stored.error(), "VacationResponse/set");
      delivery::Vacation vacation = stored->empty()
                                        ? delivery::Vacation{}
                                        : delivery::vacation_from_json(stored->front().data);
      const json::object* patch = value.if_object();
      std::optional<json::object> refused;
      if (!patch) refused = set_error("invalidPatch", "a patch is an object");
      for (const auto& [name, field] : patch ? *patch : json::object{}) {
        const std::string property(name);
        if (property == "isEnabled" && field.is_bool()) {
          vacation.enabled = field.get_bool();
        } else if ((property == "fromDate" || property == "toDate") &&
                   (field.is_null() || (field.is_string() && parse_utc_date(field.get_string())))) {
          auto& slot = property == "fromDate" ? vacation.from : vacation.to;
          slot = field.is_null() ? std::nullopt : parse_utc_date(field.get_string());
        } else if ((property == "subject" || property == "textBody" || property == "htmlBody") &&
                   (field.is_null() || field.is_string())) {
          auto& slot = property == "subject"    ? vacation.subject
                       : property == "textBody" ? vacation.text_body
                                                : vacation.html_body;
          slot = field.is_null() ? std::nullopt : std::optional<std::string>(field.get_string());
        } else {
          refused = set_error("invalidProperties", "invalid " + property, {property});
          break;
        }
      }
      if (refused) {
        out.not_updated[key] = std::move(*refused);
        continue;
      }
      auto saved = store.put_object(context.account, delivery::kVacationType,
                                    stored->empty() ? 0 : stored->front().id,
                                    delivery::vacation_to_json(vacation));
      if (!saved) return method_error(saved.error(), "VacationResponse/set");
      out.updated[key] = nullptr;
    }
  }
  return end_set(store, context, std::get<std::string>(begun), std::move(out));
}

}  // namespace
}  // namespace rampart::jmap::mail

namespace rampart::jmap {

void add_submission_methods(Dispatcher& dispatcher, store::Store& store,
                            directory::Directory& directory, delivery::Delivery& delivery) {
  using namespace mail;
  dispatcher.describe(
      kSubmissionCapability, json::object{},
      json::object{{"maxDelayedSend", 0}, {"submissionExtensions", json::object{}}});
  auto services = std::make_shared<Services>(Services{store, directory, delivery});
  dispatcher.add("Identity/get", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return get_objects(identities(services->store, context), kIdentityPrefix,
                                      arguments, context, services->store, kIdentityProperties);
                 });
  dispatcher.add("Identity/changes", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return object_changes(services->store, kIdentityType, kIdentityPrefix, arguments,
                                         context);
                 });
  dispatcher.add("Identity/set", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return identity_set(*services, arguments, context);
                 });
  dispatcher.add("EmailSubmission/get", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return get_objects(
                       services->store.list_objects(context.account, kSubmissionType),
                       kSubmissionPrefix, arguments, context, services->store,
                       kSubmissionProperties);
                 });
  dispatcher.add("EmailSubmission/changes", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return object_changes(services->store, kSubmissionType, kSubmissionPrefix,
                                         arguments, context);
                 });
  dispatcher.add("EmailSubmission/query", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return submission_query(services->store, arguments, context);
                 });
  dispatcher.add("EmailSubmission/queryChanges", kSubmissionCapability,
                 [](const json::object& arguments, Context& context) -> MethodResult {
                   if (auto error = check_account(arguments, context)) return *error;
                   return MethodError{
                       "cannotCalculateChanges",
                       "run EmailSubmission/query again (canCalculateChanges is false)"};
                 });
  dispatcher.add("EmailSubmission/set", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return submission_set(*services, arguments, context);
                 });
  dispatcher.describe(kVacationCapability, json::object{}, json::object{});
  dispatcher.add("VacationResponse/get", kVacationCapability,
                 [services](const json::object& arguments, Context& context) {
                   return vacation_get(services->store, arguments, context);
                 });
  dispatcher.add("VacationResponse/set", kVacationCapability,
                 [services](const json::object& arguments, Context& context) {
                   return vacation_set(services->store, arguments, context);
                 });
}

}  // namespace rampart::jmap
