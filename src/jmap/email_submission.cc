// EmailSubmission (RFC 8621 §7): sending an Email. Every author the message names
// must be the account's own; local recipients get it delivered at once and remote
// ones through the outbound queue (without Bcc), as SMTP submission does. Sending is
// final (maxDelayedSend 0).
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <variant>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "delivery/delivery.h"
#include "directory/directory.h"
#include "jmap/email_format.h"
#include "jmap/mail_internal.h"
#include "jmap/submission_internal.h"
#include "mime/header.h"
#include "mime/message.h"

namespace rampart::jmap {

const std::vector<std::string> kSubmissionProperties = {
    "identityId", "emailId",        "threadId",   "envelope",  "sendAt",
    "undoStatus", "deliveryStatus", "dsnBlobIds", "mdnBlobIds"};

namespace {

constexpr std::size_t kMaxRecipients = 100;

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

// What one EmailSubmission create has found so far: the identity and the Email.
struct Submission {
  const store::StoredObject* identity = nullptr;
  store::MessageMeta meta;
  std::string raw;
};

// A refused create: the SetError that goes into notCreated.
struct Refused {
  json::object error;
};
Refused refuse(std::string_view type, std::string description,
               std::vector<std::string> properties = {}) {
  return Refused{set_error(type, std::move(description), std::move(properties))};
}

// Only identityId, emailId, envelope and undoStatus "final" may be given.
std::optional<Refused> check_submission_properties(const json::object& object) {
  std::string bad;
  for (const auto& [key, value] : object) {
    if (key != "identityId" && key != "emailId" && key != "envelope" &&
        !(key == "undoStatus" && value.is_string() && value.get_string() == "final")) {
      bad = std::string(key);
    }
  }
  if (bad.empty()) return std::nullopt;
  return refuse(
      "invalidProperties",
      bad == "undoStatus" ? "sending is final here (maxDelayedSend 0)" : "cannot set " + bad,
      {bad});
}

// The identity and the Email the create names, the Email's bytes read; a SetError, or
// a method error when the store fails.
Checked<std::variant<Submission, Refused>> find_submission(
    store::Store& store, const json::object& object,
    const std::vector<store::StoredObject>& identities, const Context& context) {
  const json::value* identity_id = object.if_contains("identityId");
  // Store ids are positive: 0 finds nothing.
  const std::int64_t identity_number =
      identity_id && identity_id->is_string()
          ? resolve_id(kIdentityPrefix, identity_id->get_string(), context).value_or(0)
          : 0;
  auto identity = std::find_if(identities.begin(), identities.end(),
                               [&](const auto& item) { return item.id == identity_number; });
  if (identity == identities.end()) {
    return refuse("invalidProperties", "no such identity", {"identityId"});
  }
  const json::value* email_id = object.if_contains("emailId");
  auto email_number = email_id && email_id->is_string()
                          ? resolve_id(kEmailPrefix, email_id->get_string(), context)
                          : std::nullopt;
  auto metas = email_number ? store.find_messages(context.account, {*email_number})
                            : Result<std::vector<store::MessageMeta>>{};
  if (!metas) return tl::unexpected(method_error(metas.error(), "EmailSubmission/set"));
  if (metas->empty()) return refuse("emailNotFound", "no such Email", {"emailId"});
  auto raw = store.read_blob(metas->front().blob_id);
  if (!raw) return tl::unexpected(method_error(raw.error(), "EmailSubmission/set"));
  return Submission{&*identity, metas->front(), std::move(*raw)};
}

// The identity's address, and every author the message names (From, Sender: the rule
// SMTP submission applies), must be the account's own.
std::optional<Refused> check_authors(Services& services, const Submission& submission,
                                     const Context& context) {
  const std::string identity_email(parse_data(*submission.identity).at("email").as_string());
  auto authors = services.delivery.check_authors(submission.raw, context.account);
  if (!authors && authors.error().code == Errc::BadInput) {
    return refuse("invalidEmail", "a message has exactly one From field and at most one Sender");
  }
  if (!authors || !services.directory.owns(identity_email, context.account)) {
    return refuse("forbiddenFrom",
                  "the From or Sender header names an address this account may not send as");
  }
  return std::nullopt;
}

// The envelope the client gave.
std::variant<Envelope, Refused> given_envelope(const json::value& given) {
  const json::object* envelope_object = given.if_object();
  const json::value* from = envelope_object ? envelope_object->if_contains("mailFrom") : nullptr;
  const json::value* to = envelope_object ? envelope_object->if_contains("rcptTo") : nullptr;
  const json::object* from_object = from ? from->if_object() : nullptr;
  const json::value* from_email = from_object ? from_object->if_contains("email") : nullptr;
  if (!from_email || !from_email->is_string() || !to || !to->is_array()) {
    return refuse("invalidProperties", "envelope has mailFrom and rcptTo", {"envelope"});
  }
  Envelope envelope;
  envelope.mail_from = lowercase(from_email->get_string());
  if (const json::value* parameters = from_object->if_contains("parameters")) {
    envelope.mail_from_parameters = *parameters;
  }
  for (const json::value& rcpt : to->get_array()) {
    const json::object* rcpt_object = rcpt.if_object();
    const json::value* email = rcpt_object ? rcpt_object->if_contains("email") : nullptr;
    if (!email || !email->is_string()) {
      return refuse("invalidProperties", "rcptTo entries have an email", {"envelope"});
    }
    const json::value* parameters = rcpt_object->if_contains("parameters");
    envelope.rcpt_to.emplace_back(std::string(email->get_string()),
                                  parameters ? *parameters : json::value(nullptr));
  }
  return envelope;
}

// §7.5: without an envelope, Sender if there is one, else From; recipients from To, Cc
// and Bcc.
Envelope header_envelope(const mime::Envelope& headers) {
  Envelope envelope;
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
      if (seen.insert(lowercase(email)).second)
        envelope.rcpt_to.emplace_back(std::move(email), nullptr);
    }
  }
  return envelope;
}

Refused invalid_recipients(std::string description, json::array addresses) {
  json::object error = set_error("invalidRecipients", std::move(description));
  error["invalidRecipients"] = std::move(addresses);
  return Refused{std::move(error)};
}

// Whichever way it was found, the envelope sender is one the account owns, and the
// recipients are few enough and look like addresses.
std::optional<Refused> check_envelope(Services& services, const Envelope& envelope,
                                      const Context& context) {
  if (!envelope.mail_from.empty() &&
      !services.directory.owns(envelope.mail_from, context.account)) {
    return refuse("forbiddenMailFrom", "this account may not use " + envelope.mail_from);
  }
  if (envelope.rcpt_to.empty()) return refuse("noRecipients", "the Email has no recipients");
  if (envelope.rcpt_to.size() > kMaxRecipients) {
    return refuse("tooManyRecipients", "at most 100 recipients");
  }
  json::array invalid;
  for (const auto& [email, parameters] : envelope.rcpt_to) {
    if (!plausible_address(email)) invalid.push_back(json::value(email));
  }
  if (!invalid.empty()) return invalid_recipients("not addresses", std::move(invalid));
  return std::nullopt;
}

// Local recipients get the message now, remote ones through the queue, as SMTP
// submission does; the deliveryStatus of each, or a SetError.
std::variant<json::object, Refused> send(Services& services, const Envelope& envelope,
                                         const std::string& message, const Context& context) {
  // Every recipient is checked before anything is sent: an unknown user of our domains
  // refuses the whole submission.
  delivery::Envelope to_send{.mail_from = envelope.mail_from};
  json::object delivery_status;
  json::array invalid;
  for (const auto& [email, parameters] : envelope.rcpt_to) {
    auto owner = services.directory.resolve_recipient(lowercase(email));
    const bool is_local = owner.has_value();
    if (!is_local) {
      auto is_our_domain = services.delivery.is_local_domain(email.substr(email.rfind('@') + 1));
      if (is_our_domain && *is_our_domain) {
        invalid.push_back(json::value(email));  // our domain, no such user
        continue;
      }
    }
    to_send.recipients.push_back({.address = email, .account = is_local ? owner->id : 0});
    delivery_status[email] =
        json::object{{"smtpReply", is_local ? "250 2.1.5 Delivered" : "250 2.0.0 Queued"},
                     {"delivered", is_local ? "yes" : "queued"},
                     {"displayed", "unknown"}};
  }
  if (!invalid.empty()) return invalid_recipients("no such local recipients", std::move(invalid));
  auto sent =
      services.delivery.submit(to_send, message,
                               {.protocol = "jmap",
                                .actor = context.username,
                                .address = context.address,
                                .detail = "EmailSubmission from <" + envelope.mail_from + ">"},
                               context.account);
  if (!sent) return Refused{set_error_for(sent.error(), "EmailSubmission send")};
  return delivery_status;
}

// The EmailSubmission record of a sent message, kept as a store object.
json::object submission_record(const Submission& submission, const Envelope& envelope,
                               json::object delivery_status, const std::string& send_at) {
  json::array rcpt_to;
  for (auto& [email, parameters] : envelope.rcpt_to) {
    rcpt_to.push_back(json::object{{"email", email}, {"parameters", parameters}});
  }
  return json::object{
      {"identityId", object_id(kIdentityPrefix, submission.identity->id)},
      {"emailId", object_id(kEmailPrefix, submission.meta.id)},
      {"threadId", object_id(kThreadPrefix, submission.meta.thread)},
      {"envelope",
       json::object{{"mailFrom", json::object{{"email", envelope.mail_from},
                                              {"parameters", envelope.mail_from_parameters}}},
                    {"rcptTo", std::move(rcpt_to)}}},
      {"sendAt", send_at},
      {"undoStatus", "final"},
      {"deliveryStatus", std::move(delivery_status)},
      {"dsnBlobIds", json::array{}},
      {"mdnBlobIds", json::array{}}};
}

// One create: checked, sent and recorded. The created object's server-set properties
// (and, in `sent_emails`, its Email), a SetError, or a method error.
Checked<std::variant<json::object, Refused>> create_submission(
    Services& services, std::string_view creation_id, const json::value& value,
    const std::vector<store::StoredObject>& identities, Context& context,
    std::map<std::string, store::MessageId>& sent_emails) {
  store::Store& store = services.store;
  const json::object* object = value.if_object();
  if (!object) return refuse("invalidProperties", "an EmailSubmission is an object");
  if (auto refused = check_submission_properties(*object)) return *refused;
  auto found = find_submission(store, *object, identities, context);
  if (!found) return tl::unexpected(found.error());
  if (auto* refused = std::get_if<Refused>(&*found)) return std::move(*refused);
  const Submission& submission = std::get<Submission>(*found);
  if (auto refused = check_authors(services, submission, context)) return *refused;
  const mime::Message parsed = mime::parse(submission.raw);
  Envelope envelope;
  if (const json::value* given = argument(*object, "envelope")) {
    auto read = given_envelope(*given);
    if (auto* refused = std::get_if<Refused>(&read)) return std::move(*refused);
    envelope = std::move(std::get<Envelope>(read));
  } else {
    envelope = header_envelope(parsed.envelope);
  }
  if (auto refused = check_envelope(services, envelope, context)) return *refused;
  auto sent = send(services, envelope, without_bcc(submission.raw, parsed), context);
  if (auto* refused = std::get_if<Refused>(&sent)) return std::move(*refused);
  const std::string send_at = utc_date(unix_seconds());
  json::object data =
      submission_record(submission, envelope, std::move(std::get<json::object>(sent)), send_at);
  auto stored = store.put_object(context.account, kSubmissionType, 0, json::serialize(data));
  if (!stored) return tl::unexpected(method_error(stored.error(), "EmailSubmission/set"));
  audit_messages(
      store, context, audit::kChange,
      "EmailSubmission to " + std::to_string(envelope.rcpt_to.size()) + " recipient(s) of",
      {submission.meta});
  const std::string id = object_id(kSubmissionPrefix, stored->id);
  context.created_ids[std::string(creation_id)] = id;
  sent_emails["#" + std::string(creation_id)] = submission.meta.id;
  sent_emails[id] = submission.meta.id;
  return json::object{{"id", id},
                      {"sendAt", send_at},
                      {"undoStatus", "final"},
                      {"threadId", object_id(kThreadPrefix, submission.meta.thread)}};
}

// onSuccessUpdateEmail / onSuccessDestroyEmail: an implied Email/set (§7.5) of the
// Emails that were sent, answered after EmailSubmission/set.
std::optional<MethodError> implied_email_set(const json::object& arguments,
                                             const std::map<std::string, store::MessageId>& sent,
                                             Context& context) {
  json::object email_update;
  json::array email_destroy;
  if (const json::value* on_update = argument(arguments, "onSuccessUpdateEmail")) {
    if (!on_update->is_object()) return invalid_arguments("onSuccessUpdateEmail is a map");
    for (const auto& [key, patch] : on_update->get_object()) {
      auto found = sent.find(std::string(key));
      if (found != sent.end()) email_update[object_id(kEmailPrefix, found->second)] = patch;
    }
  }
  if (const json::value* on_destroy = argument(arguments, "onSuccessDestroyEmail")) {
    if (!on_destroy->is_array()) return invalid_arguments("onSuccessDestroyEmail is a list");
    for (const json::value& key : on_destroy->get_array()) {
      if (!key.is_string()) continue;
      auto found = sent.find(std::string(key.get_string()));
      if (found != sent.end()) {
        email_destroy.push_back(json::value(object_id(kEmailPrefix, found->second)));
      }
    }
  }
  if ((email_update.empty() && email_destroy.empty()) || !context.dispatcher) return std::nullopt;
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
  return std::nullopt;
}

}  // namespace

MethodResult submission_set(Services& services, const json::object& arguments, Context& context) {
  auto begun = begin_set(services.store, arguments, context);
  if (!begun) return begun.error();
  store::Store& store = services.store;
  SetOutcome out;
  std::map<std::string, store::MessageId> sent_emails;  // "#creation" and id -> Email
  auto existing_identities = identities(store, context);
  if (!existing_identities) {
    return method_error(existing_identities.error(), "EmailSubmission/set");
  }
  if (const json::value* create = argument(arguments, "create")) {
    for (const auto& [creation_id, value] : create->get_object()) {
      auto created = create_submission(services, creation_id, value, *existing_identities, context,
                                       sent_emails);
      if (!created) return created.error();
      if (auto* refused = std::get_if<Refused>(&*created)) {
        out.not_created[creation_id] = std::move(refused->error);
      } else {
        out.created[creation_id] = std::move(std::get<json::object>(*created));
      }
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
  json::object answer = end_set(store, context, *begun, std::move(out));
  if (auto error = implied_email_set(arguments, sent_emails, context)) return *error;
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

}  // namespace rampart::jmap
