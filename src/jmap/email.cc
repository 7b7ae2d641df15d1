// Email/get, /changes, /query, /queryChanges, /set and /copy, Thread/get and /changes,
// and SearchSnippet/get (RFC 8621 §3-5).
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>
#include <set>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "delivery/delivery.h"
#include "jmap/compose.h"
#include "jmap/email_format.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"
#include "mime/body.h"
#include "mime/header.h"

namespace rampart::jmap::mail {
namespace {

const std::vector<std::string>& default_properties() {
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
  const auto& all = default_properties();
  return std::find(all.begin(), all.end(), property) != all.end();
}

std::string blob_id(const store::MessageMeta& meta) {
  return std::string(1, kBlobPrefix) + meta.blob_id;
}

json::object keywords_object(const store::Flags& flags) {
  json::object out;
  for (auto& keyword : keywords_from_flags(flags)) out[keyword] = true;
  return out;
}

bool has_keyword(const store::Flags& flags, std::string_view keyword) {
  const std::string flag = flag_from_keyword(keyword);
  return std::any_of(flags.begin(), flags.end(),
                     [&](const std::string& have) { return iequals(have, flag); });
}

// One message as a query or a get sees it; the structure and the bytes are read once,
// when first needed.
class Loaded {
 public:
  Loaded(store::Store& store, const store::MessageMeta& meta) : store_(store), meta_(meta) {}
  // A message that is not stored (Email/parse): its bytes, parsed here.
  Loaded(store::Store& store, const store::MessageMeta& meta, std::string raw)
      : store_(store),
        meta_(meta),
        parsed_(std::make_unique<mime::Message>(mime::parse(raw))),
        raw_(std::move(raw)) {}
  const store::MessageMeta& meta() const { return meta_; }
  void set_structure(std::string bytes) { structure_bytes_ = std::move(bytes); }

  const mime::Message* structure() {
    if (!parsed_) {
      if (structure_bytes_.empty()) {
        auto bytes = store_.read_structure(meta_.id);
        if (bytes) structure_bytes_ = std::move(*bytes);
      }
      auto decoded = mime::decode_structure(structure_bytes_);
      parsed_ = std::make_unique<mime::Message>(decoded ? std::move(*decoded) : mime::Message{});
    }
    return parsed_.get();
  }
  const std::string& raw() {
    if (!raw_) {
      auto bytes = store_.read_blob(meta_.blob_id);
      raw_ = bytes ? std::move(*bytes) : std::string();
    }
    return *raw_;
  }
  const BodyLists& lists() {
    if (!lists_) lists_ = body_lists(*structure());
    return *lists_;
  }
  // The text of the body parts, decoded, for body and text searches.
  const std::string& body_text() {
    if (!body_text_) {
      body_text_.emplace();
      for (const BodyPartRef& ref : lists().text) {
        if (ref.part->type == "text")
          *body_text_ += mime::decode_text_body(raw(), *ref.part) + "\n";
      }
    }
    return *body_text_;
  }

 private:
  store::Store& store_;
  store::MessageMeta meta_;
  std::string structure_bytes_;
  std::unique_ptr<mime::Message> parsed_;
  std::optional<std::string> raw_;
  std::optional<BodyLists> lists_;
  std::optional<std::string> body_text_;
};

std::string address_text(const std::vector<mime::Address>& addresses) {
  std::string out;
  for (const auto& address : addresses) {
    if (address.kind != mime::Address::Kind::Mailbox) continue;
    out += address.name + " <" + mime::address_spec(address) + "> ";
  }
  return out;
}

// ---- Email/get ----

struct GetOptions {
  std::vector<std::string> properties;
  std::vector<std::string> body_properties;  // empty: the default
  bool text_values = false, html_values = false, all_values = false;
  std::size_t max_value_bytes = 0;
};

json::array part_list(Loaded& email, const std::vector<BodyPartRef>& parts,
                      const GetOptions& options) {
  json::array out;
  for (const BodyPartRef& ref : parts) {
    out.push_back(body_part(email.raw(), *ref.part, ref.part_id, blob_id(email.meta()),
                            options.body_properties));
  }
  return out;
}

json::object email_object(Loaded& email, const GetOptions& options) {
  const store::MessageMeta& meta = email.meta();
  json::object out;
  for (const std::string& property : options.properties) {
    if (meta.id == 0 && (property == "id" || property == "threadId" || property == "mailboxIds" ||
                         property == "keywords" || property == "receivedAt")) {
      out[property] = nullptr;  // Email/parse: not stored
    } else if (property == "id") {
      out[property] = object_id(kEmailPrefix, meta.id);
    } else if (property == "blobId") {
      out[property] = blob_id(meta);
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
                      blob_id(meta), properties);
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

bool flag_argument(const json::object& arguments, std::string_view key) {
  const json::value* value = argument(arguments, key);
  return value && value->is_bool() && value->get_bool();
}

MethodResult email_get(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  GetOptions options;
  auto properties = read_properties(arguments);
  if (!properties) return properties.error();
  auto body_properties = read_properties(arguments, "bodyProperties");
  if (!body_properties) return body_properties.error();
  options.properties = properties->value_or(default_properties());
  for (const auto& property : options.properties) {
    if (!is_known_property(property) ||
        (property.starts_with("header:") && !header_property("", property))) {
      return invalid_arguments("unknown property " + property);
    }
  }
  if (std::find(options.properties.begin(), options.properties.end(), "id") ==
      options.properties.end()) {
    options.properties.insert(options.properties.begin(), "id");
  }
  options.body_properties = body_properties->value_or(std::vector<std::string>{});
  options.text_values = flag_argument(arguments, "fetchTextBodyValues");
  options.html_values = flag_argument(arguments, "fetchHTMLBodyValues");
  options.all_values = flag_argument(arguments, "fetchAllBodyValues");
  const auto max_value_bytes = unsigned_argument(arguments, "maxBodyValueBytes");
  if (!max_value_bytes) return max_value_bytes.error();
  options.max_value_bytes = static_cast<std::size_t>(max_value_bytes->value_or(0));

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
    Loaded email(store, *found->second);
    if (needs_structure) {
      email.set_structure(std::move(structure_of[found->first]));
      read.push_back(*found->second);
    }
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

// ---- Email/query ----

// The account's messages by thread, for the thread keyword filters and sorts.
using ThreadIndex = std::map<store::ThreadId, std::vector<const store::MessageMeta*>>;

struct QueryScope {
  const Context& context;
  const ThreadIndex& threads;
  bool thread_dependent = false;  // set when a condition looked at a whole thread
};

std::optional<store::MailboxId> mailbox_argument(const json::value& value, const Context& context) {
  if (!value.is_string()) return std::nullopt;
  return resolve_id(kMailboxPrefix, value.get_string(), context);
}

bool thread_keyword(const ThreadIndex& threads, const store::MessageMeta& meta,
                    std::string_view keyword, bool all) {
  auto found = threads.find(meta.thread);
  if (found == threads.end()) return has_keyword(meta.flags, keyword);
  for (const store::MessageMeta* member : found->second) {
    if (has_keyword(member->flags, keyword) != all) return !all;
  }
  return all;
}

Checked<bool> matches(const json::object& filter, Loaded& email, QueryScope& scope) {
  auto fail = [](std::string text) { return reject("invalidArguments", std::move(text)); };
  if (const json::value* op = filter.if_contains("operator")) {
    const json::value* conditions = filter.if_contains("conditions");
    if (!op->is_string() || !conditions || !conditions->is_array()) {
      return fail("a FilterOperator has an operator and conditions");
    }
    const std::string_view name = op->get_string();
    if (name != "AND" && name != "OR" && name != "NOT") return fail("operator is AND, OR or NOT");
    bool any = false, all = true;
    for (const json::value& condition : conditions->get_array()) {
      if (!condition.is_object()) return fail("conditions are filters");
      auto matched = matches(condition.get_object(), email, scope);
      if (!matched) return matched;
      any |= *matched;
      all &= *matched;
    }
    return name == "AND" ? all : name == "OR" ? any : !any;
  }
  const store::MessageMeta& meta = email.meta();
  for (const auto& [key, value] : filter) {
    auto text = [&]() -> std::optional<std::string_view> {
      if (!value.is_string()) return std::nullopt;
      return std::string_view(value.get_string());
    };
    if (key == "inMailbox") {
      auto mailbox = mailbox_argument(value, scope.context);
      if (!value.is_string()) return fail("inMailbox is a mailbox id");
      if (!mailbox || *mailbox != meta.mailbox) return false;
    } else if (key == "inMailboxOtherThan") {
      if (!value.is_array()) return fail("inMailboxOtherThan is a list of mailbox ids");
      for (const json::value& id : value.get_array()) {
        if (!id.is_string()) return fail("inMailboxOtherThan is a list of mailbox ids");
        if (mailbox_argument(id, scope.context) == meta.mailbox) return false;
      }
    } else if (key == "before" || key == "after") {
      auto date = text() ? parse_utc_date(*text()) : std::nullopt;
      if (!date) return fail(std::string(key) + " is a UTCDate");
      if (key == "before" ? meta.internal_date >= *date : meta.internal_date < *date) return false;
    } else if (key == "minSize" || key == "maxSize") {
      if (!value.is_number()) return fail(std::string(key) + " is a number");
      const double limit = value.to_number<double>();
      if (key == "minSize" ? static_cast<double>(meta.size) < limit
                           : static_cast<double>(meta.size) >= limit) {
        return false;
      }
    } else if (key == "hasKeyword" || key == "notKeyword") {
      if (!text() || !valid_keyword(*text())) return fail(std::string(key) + " is a keyword");
      if (has_keyword(meta.flags, *text()) != (key == "hasKeyword")) return false;
    } else if (key == "allInThreadHaveKeyword" || key == "someInThreadHaveKeyword" ||
               key == "noneInThreadHaveKeyword") {
      if (!text() || !valid_keyword(*text())) return fail(std::string(key) + " is a keyword");
      scope.thread_dependent = true;
      bool result = key == "allInThreadHaveKeyword"
                        ? thread_keyword(scope.threads, meta, *text(), true)
                        : thread_keyword(scope.threads, meta, *text(), false);
      if (key == "noneInThreadHaveKeyword") result = !result;
      if (!result) return false;
    } else if (key == "hasAttachment") {
      if (!value.is_bool()) return fail("hasAttachment is a boolean");
      if (email.lists().attachments.empty() == value.get_bool()) return false;
    } else if (key == "from" || key == "to" || key == "cc" || key == "bcc" || key == "subject" ||
               key == "body" || key == "text") {
      if (!text()) return fail(std::string(key) + " is a string");
      const mime::Envelope& envelope = email.structure()->envelope;
      const std::string_view needle = *text();
      bool found = false;
      if (key == "from" || key == "text")
        found |= contains_folded(address_text(envelope.from), needle);
      if (key == "to" || key == "text") found |= contains_folded(address_text(envelope.to), needle);
      if (key == "cc" || key == "text") found |= contains_folded(address_text(envelope.cc), needle);
      if (key == "bcc" || key == "text")
        found |= contains_folded(address_text(envelope.bcc), needle);
      if (key == "subject" || key == "text") found |= contains_folded(envelope.subject, needle);
      if (!found && (key == "body" || key == "text"))
        found = contains_folded(email.body_text(), needle);
      if (!found) return false;
    } else if (key == "header") {
      const json::array* header = value.if_array();
      if (!header || header->empty() || header->size() > 2 || !(*header)[0].is_string() ||
          (header->size() == 2 && !(*header)[1].is_string())) {
        return fail("header is [name] or [name, value]");
      }
      const std::string_view section = header_section(email.raw(), email.structure()->root);
      const auto values = mime::find_header(section, std::string_view((*header)[0].get_string()));
      if (values.empty()) return false;
      if (header->size() == 2) {
        const std::string_view needle = (*header)[1].get_string();
        if (std::none_of(values.begin(), values.end(), [&](std::string_view field) {
              return contains_folded(mime::decode_text(field), needle);
            })) {
          return false;
        }
      }
    } else {
      return reject("unsupportedFilter", "unsupported filter " + std::string(key));
    }
  }
  return true;
}

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
int compare(const Comparator& comparator, Loaded& a, Loaded& b, const ThreadIndex& threads) {
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

std::variant<std::vector<Comparator>, MethodError> read_sort(const json::object& arguments) {
  std::vector<Comparator> out;
  const json::value* sort = argument(arguments, "sort");
  if (!sort) return std::vector<Comparator>{{"receivedAt", false, {}}};
  const json::array* list = sort->if_array();
  if (!list) return invalid_arguments("sort is a list of comparators");
  for (const json::value& item : *list) {
    const json::object* object = item.if_object();
    const json::value* property = object ? object->if_contains("property") : nullptr;
    if (!property || !property->is_string())
      return invalid_arguments("a comparator has a property");
    Comparator comparator{std::string(property->get_string()), true, {}};
    if (const json::value* ascending = object->if_contains("isAscending")) {
      if (!ascending->is_bool()) return invalid_arguments("isAscending is a boolean");
      comparator.ascending = ascending->get_bool();
    }
    if (const json::value* collation = object->if_contains("collation");
        collation && !(collation->is_string() && (collation->get_string() == "i;ascii-casemap" ||
                                                  collation->get_string() == "i;octet"))) {
      return MethodError{"unsupportedSort", "unsupported collation"};
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
      return MethodError{"unsupportedSort", "cannot sort by " + comparator.property};
    }
    if (comparator.property.find("Keyword") != std::string::npos) {
      const json::value* keyword = object->if_contains("keyword");
      if (!keyword || !keyword->is_string() || !valid_keyword(keyword->get_string())) {
        return invalid_arguments(comparator.property + " needs a keyword");
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
std::variant<QueryResult, MethodError> run_query(store::Store& store, const json::object& arguments,
                                                 const Context& context,
                                                 std::vector<store::MessageMeta>& messages,
                                                 std::vector<std::unique_ptr<Loaded>>& loaded) {
  auto sort = read_sort(arguments);
  if (auto* error = std::get_if<MethodError>(&sort)) return *error;
  const auto& comparators = std::get<std::vector<Comparator>>(sort);
  const json::value* filter = argument(arguments, "filter");
  if (filter && !filter->is_object()) return invalid_arguments("filter is an object");
  // The state first: anything committed later shows up as a change after it.
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "Email/query");
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
        return method_error(snapshot.error(), "Email/query");
      }
      if (snapshot && snapshot->mailbox.account == context.account) {
        messages = std::move(snapshot->messages);
      }
    }
  } else {
    auto all = store.account_messages(context.account);
    if (!all) return method_error(all.error(), "Email/query");
    messages = std::move(*all);
  }
  ThreadIndex threads;
  for (const auto& meta : messages) threads[meta.thread].push_back(&meta);
  QueryScope scope{context, threads};
  for (const auto& meta : messages) {
    auto email = std::make_unique<Loaded>(store, meta);
    if (filter) {
      auto matched = matches(filter->get_object(), *email, scope);
      if (!matched) return matched.error();
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
  std::vector<std::unique_ptr<Loaded>> loaded;
  auto ran = run_query(store, arguments, context, messages, loaded);
  if (auto* failed = std::get_if<MethodError>(&ran)) return *failed;
  const QueryResult& result = std::get<QueryResult>(ran);
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
  if (auto* error = std::get_if<MethodError>(&read)) return *error;
  const auto [since, max_changes] = std::get<ChangesArguments>(read);
  std::vector<store::MessageMeta> messages;
  std::vector<std::unique_ptr<Loaded>> loaded;
  auto ran = run_query(store, arguments, context, messages, loaded);
  if (auto* failed = std::get_if<MethodError>(&ran)) return *failed;
  const QueryResult& result = std::get<QueryResult>(ran);
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

// ---- Email/changes, Thread/get, Thread/changes ----

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
  if (auto* answer = std::get_if<json::object>(&result)) return std::move(*answer);
  return std::get<MethodError>(result);
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
  if (auto* answer = std::get_if<json::object>(&result)) return std::move(*answer);
  return std::get<MethodError>(result);
}

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

// ---- Email/set: update and destroy ----

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

// Stores a new message as an Email with the mailboxIds, keywords and receivedAt of
// `object`: the created Email's server-set properties, or a SetError.
struct Stored {
  bool ok = false;
  json::object value;  // {id, blobId, threadId, size}, or the SetError
};

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
                                   {"blobId", blob_id(stored)},
                                   {"threadId", object_id(kThreadPrefix, stored.thread)},
                                   {"size", stored.size}}};
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

MethodResult email_set(store::Store& store, const std::string& hostname,
                       const json::object& arguments, Context& context) {
  auto begun = begin_set(store, arguments, context);
  if (auto* error = std::get_if<MethodError>(&begun)) return *error;
  const json::value* create = argument(arguments, "create");
  const json::value* update = argument(arguments, "update");
  const json::value* destroy = argument(arguments, "destroy");
  auto mailboxes = store.list_mailboxes(context.account);
  if (!mailboxes) return method_error(mailboxes.error(), "Email/set");
  auto mailbox_key = [&](std::string_view id) -> std::optional<std::string> {
    auto number = resolve_id(kMailboxPrefix, id, context);
    if (!number || std::none_of(mailboxes->begin(), mailboxes->end(),
                                [&](const store::Mailbox& m) { return m.id == *number; })) {
      return std::nullopt;
    }
    return std::to_string(*number);
  };
  auto keyword_key = [](std::string_view keyword) -> std::optional<std::string> {
    if (!valid_keyword(keyword)) return std::nullopt;
    return lowercase(keyword);
  };
  SetOutcome out;
  std::vector<store::MessageMeta> changed, removed_messages;
  if (create) {
    for (const auto& [creation_id, value] : create->get_object()) {
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
          *object,
          [&](std::string_view id) { return read_account_blob(store, context.account, id); },
          {.hostname = hostname, .now = unix_seconds(), .max_attachment_bytes = 10'000'000});
      if (auto* refused = std::get_if<json::object>(&composed)) {
        out.not_created[creation_id] = std::move(*refused);
        continue;
      }
      Stored stored = store_email(store, context, *object,
                                  std::move(std::get<std::string>(composed)), *mailboxes);
      if (!stored.ok) {
        out.not_created[creation_id] = std::move(stored.value);
        continue;
      }
      context.created_ids[std::string(creation_id)] =
          std::string(stored.value.at("id").get_string());
      out.created[creation_id] = std::move(stored.value);
    }
  }
  if (update) {
    for (const auto& [id, value] : update->get_object()) {
      const json::object* patch = value.if_object();
      auto number = resolve_id(kEmailPrefix, id, context);
      auto found = number ? store.find_messages(context.account, {*number})
                          : Result<std::vector<store::MessageMeta>>{};
      if (!found) return method_error(found.error(), "Email/set");
      if (found->empty()) {
        out.not_updated[id] = set_error("notFound");
        continue;
      }
      if (!patch) {
        out.not_updated[id] = set_error("invalidPatch", "a patch is an object");
        continue;
      }
      const store::MessageMeta meta = found->front();
      std::string bad;
      for (const auto& [key, ignored] : *patch) {
        const std::string_view name = key;
        if (name != "keywords" && name != "mailboxIds" && !name.starts_with("keywords/") &&
            !name.starts_with("mailboxIds/")) {
          bad = std::string(name);
          break;
        }
      }
      if (!bad.empty()) {
        out.not_updated[id] = set_error("invalidProperties", "cannot set " + bad, {bad});
        continue;
      }
      std::set<std::string> keywords;
      for (auto& keyword : keywords_from_flags(meta.flags)) keywords.insert(keyword);
      std::set<std::string> in_mailboxes{std::to_string(meta.mailbox)};
      std::string problem = apply_patch(*patch, "keywords", keywords, keyword_key);
      if (!problem.empty()) {
        out.not_updated[id] = set_error("invalidProperties", problem, {"keywords"});
        continue;
      }
      problem = apply_patch(*patch, "mailboxIds", in_mailboxes, mailbox_key);
      if (problem.empty() && in_mailboxes.size() != 1) {
        problem = "an Email is in exactly one mailbox here (maxMailboxesPerEmail 1)";
      }
      if (!problem.empty()) {
        out.not_updated[id] = set_error("invalidProperties", problem, {"mailboxIds"});
        continue;
      }
      store::Flags flags;
      for (const auto& keyword : keywords) flags.push_back(flag_from_keyword(keyword));
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
        if (!changed) {
          out.not_updated[id] = set_error_for(changed.error(), "Email/set keywords", {"keywords"});
          continue;
        }
      }
      const auto target = std::stoll(*in_mailboxes.begin());
      if (target != meta.mailbox) {
        auto moved = store.move_messages(meta.mailbox, {meta.uid}, target);
        if (!moved) {
          out.not_updated[id] = set_error_for(moved.error(), "Email/set move", {"mailboxIds"});
          continue;
        }
      }
      out.updated[id] = nullptr;
      changed.push_back(meta);
    }
  }
  if (destroy) {
    for (const json::value& id : destroy->get_array()) {
      if (!id.is_string()) return invalid_arguments("destroy is a list of ids");
      const std::string key(id.get_string());
      auto number = resolve_id(kEmailPrefix, key, context);
      auto found = number ? store.find_messages(context.account, {*number})
                          : Result<std::vector<store::MessageMeta>>{};
      if (!found) return method_error(found.error(), "Email/set");
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
  }
  audit_messages(store, context, audit::kChange, "Email/set update", changed);
  audit_messages(store, context, audit::kExpunge, "Email/set destroy", removed_messages);
  return end_set(store, context, std::get<std::string>(begun), std::move(out));
}

MethodResult email_import(store::Store& store, const json::object& arguments, Context& context) {
  auto begun = begin_set(store, arguments, context);
  if (auto* error = std::get_if<MethodError>(&begun)) return *error;
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
  json::object answer = end_set(store, context, std::get<std::string>(begun), std::move(out));
  // Email/import answers creations only.
  for (const char* key : {"updated", "destroyed", "notUpdated", "notDestroyed"}) answer.erase(key);
  return answer;
}

MethodResult email_parse(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  const json::value* blob_ids = arguments.if_contains("blobIds");
  if (!blob_ids) return invalid_arguments("blobIds is a list of ids");
  if (auto error = check_id_list(*blob_ids, context, "blobIds")) return *error;
  GetOptions options;
  auto properties = read_properties(arguments);
  if (!properties) return properties.error();
  auto body_properties = read_properties(arguments, "bodyProperties");
  if (!body_properties) return body_properties.error();
  options.properties = properties->value_or(
      std::vector<std::string>{"messageId", "inReplyTo", "references", "sender", "from", "to", "cc",
                               "bcc", "replyTo", "subject", "sentAt", "hasAttachment", "preview",
                               "bodyValues", "textBody", "htmlBody", "attachments"});
  for (const auto& property : options.properties) {
    if (!is_known_property(property) ||
        (property.starts_with("header:") && !header_property("", property))) {
      return invalid_arguments("unknown property " + property);
    }
  }
  options.body_properties = body_properties->value_or(std::vector<std::string>{});
  options.text_values = flag_argument(arguments, "fetchTextBodyValues");
  options.html_values = flag_argument(arguments, "fetchHTMLBodyValues");
  options.all_values = flag_argument(arguments, "fetchAllBodyValues");
  const auto max_value_bytes = unsigned_argument(arguments, "maxBodyValueBytes");
  if (!max_value_bytes) return max_value_bytes.error();
  options.max_value_bytes = static_cast<std::size_t>(max_value_bytes->value_or(0));
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
    Loaded email(store, meta, std::move(bytes->bytes));
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

// ---- SearchSnippet/get ----

void collect_terms(const json::object& filter, std::vector<std::string>& subject_terms,
                   std::vector<std::string>& body_terms) {
  if (const json::value* conditions = filter.if_contains("conditions")) {
    const json::value* op = filter.if_contains("operator");
    if (op && op->is_string() && op->get_string() == "NOT") return;
    if (!conditions->is_array()) return;
    for (const json::value& condition : conditions->get_array()) {
      if (condition.is_object()) collect_terms(condition.get_object(), subject_terms, body_terms);
    }
    return;
  }
  for (const auto& [key, value] : filter) {
    if (!value.is_string() || value.get_string().empty()) continue;
    if (key == "text" || key == "subject") subject_terms.emplace_back(value.get_string());
    if (key == "text" || key == "body") body_terms.emplace_back(value.get_string());
  }
}

std::string escape_html(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// `text` HTML-escaped with each occurrence of a term in <mark>; nullopt if none occurs.
std::optional<std::string> highlight(std::string_view text, const std::vector<std::string>& terms) {
  std::string out;
  bool any = false;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t best = std::string_view::npos, length = 0;
    for (const std::string& term : terms) {
      const std::size_t found = find_folded(text, term, at);
      if (found < best) best = found, length = term.size();
    }
    if (best == std::string_view::npos) break;
    out += escape_html(text.substr(at, best - at)) + "<mark>" +
           escape_html(text.substr(best, length)) + "</mark>";
    at = best + length;
    any = true;
  }
  if (!any) return std::nullopt;
  out += escape_html(text.substr(at));
  return out;
}

MethodResult search_snippet_get(store::Store& store, const json::object& arguments,
                                Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  const json::value* ids = arguments.if_contains("emailIds");
  if (!ids) return invalid_arguments("emailIds is a list of ids");
  if (auto error = check_id_list(*ids, context, "emailIds")) return *error;
  std::vector<std::string> subject_terms, body_terms;
  if (const json::value* filter = argument(arguments, "filter")) {
    if (!filter->is_object()) return invalid_arguments("filter is an object");
    collect_terms(filter->get_object(), subject_terms, body_terms);
  }
  std::vector<store::MessageId> numbers;
  for (const json::value& id : ids->get_array()) {
    if (auto number = resolve_id(kEmailPrefix, id.get_string(), context))
      numbers.push_back(*number);
  }
  auto metas = store.find_messages(context.account, numbers);
  if (!metas) return method_error(metas.error(), "SearchSnippet/get");
  json::array list, not_found;
  std::vector<store::MessageMeta> read;
  for (const json::value& id : ids->get_array()) {
    auto number = resolve_id(kEmailPrefix, id.get_string(), context);
    auto found = std::find_if(metas->begin(), metas->end(),
                              [&](const auto& meta) { return number && meta.id == *number; });
    if (found == metas->end()) {
      not_found.push_back(id);
      continue;
    }
    Loaded email(store, *found);
    json::object snippet{{"emailId", id}, {"subject", nullptr}, {"preview", nullptr}};
    if (auto subject = highlight(email.structure()->envelope.subject, subject_terms)) {
      snippet["subject"] = *subject;
    }
    if (!body_terms.empty()) {
      std::string text = email.body_text();
      for (char& c : text) {
        if (c == '\r' || c == '\n' || c == '\t') c = ' ';
      }
      // Up to about 200 bytes around the first match.
      std::size_t first = std::string::npos;
      for (const std::string& term : body_terms) first = std::min(first, find_folded(text, term));
      if (first != std::string::npos) {
        std::size_t begin = first > 60 ? first - 60 : 0;
        while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
        std::size_t end = std::min(text.size(), begin + 200);
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
        if (auto preview_text =
                highlight(std::string_view(text).substr(begin, end - begin), body_terms)) {
          snippet["preview"] = *preview_text;
        }
      }
    }
    list.push_back(std::move(snippet));
    read.push_back(*found);
  }
  audit_messages(store, context, audit::kRead, "SearchSnippet/get", read);
  return json::object{{"accountId", context.account_id},
                      {"list", std::move(list)},
                      {"notFound", std::move(not_found)}};
}

}  // namespace

void add_email_methods(Dispatcher& dispatcher, store::Store& store, const std::string& hostname) {
  dispatcher.add("Email/get", kMailCapability, with_store(store, email_get));
  dispatcher.add("Email/changes", kMailCapability, with_store(store, email_changes));
  dispatcher.add("Email/query", kMailCapability, with_store(store, email_query));
  dispatcher.add("Email/queryChanges", kMailCapability, with_store(store, email_query_changes));
  dispatcher.add("Email/set", kMailCapability,
                 [&store, hostname](const json::object& arguments, Context& context) {
                   return email_set(store, hostname, arguments, context);
                 });
  dispatcher.add("Email/import", kMailCapability, with_store(store, email_import));
  dispatcher.add("Email/parse", kMailCapability, with_store(store, email_parse));
  dispatcher.add("Email/copy", kMailCapability, with_store(store, email_copy));
  dispatcher.add("Thread/get", kMailCapability, with_store(store, thread_get));
  dispatcher.add("Thread/changes", kMailCapability, with_store(store, thread_changes));
  dispatcher.add("SearchSnippet/get", kMailCapability, with_store(store, search_snippet_get));
}

}  // namespace rampart::jmap::mail
