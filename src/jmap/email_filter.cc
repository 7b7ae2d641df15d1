// Email/query's filter (RFC 8621 §4.4.1) against one message. Text matches fold ASCII
// case only, as docs/http.md says.
#include <algorithm>

#include "base/ascii.h"
#include "jmap/email_filter_internal.h"
#include "jmap/email_format.h"
#include "jmap/mail_internal.h"
#include "mime/header.h"

namespace rampart::jmap {
namespace {

std::string address_text(const std::vector<mime::Address>& addresses) {
  std::string out;
  for (const auto& address : addresses) {
    if (address.kind != mime::Address::Kind::Mailbox) continue;
    out += address.name + " <" + mime::address_spec(address) + "> ";
  }
  return out;
}

}  // namespace

std::optional<store::MailboxId> mailbox_argument(const json::value& value, const Context& context) {
  if (!value.is_string()) return std::nullopt;
  return resolve_id(kMailboxPrefix, value.get_string(), context);
}

bool has_keyword(const store::Flags& flags, std::string_view keyword) {
  const std::string flag = flag_from_keyword(keyword);
  return std::any_of(flags.begin(), flags.end(),
                     [&](const std::string& have) { return iequals(have, flag); });
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

Checked<bool> matches_filter(const json::object& filter, EmailView& email, FilterScope& scope) {
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
      auto matched = matches_filter(condition.get_object(), email, scope);
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

}  // namespace rampart::jmap
