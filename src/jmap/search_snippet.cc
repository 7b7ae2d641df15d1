// SearchSnippet/get (RFC 8621 §5): the subject and a body excerpt, HTML-escaped, with
// <mark> around the text, subject and body terms of the filter.
#include <algorithm>

#include "audit/trail.h"
#include "base/ascii.h"
#include "jmap/email_internal.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"

namespace rampart::jmap {
namespace {

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

}  // namespace

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
    EmailView email(store, *found);
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

}  // namespace rampart::jmap
