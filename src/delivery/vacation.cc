#include "delivery/vacation.h"

#include <boost/json.hpp>
#include <random>

#include "base/ascii.h"
#include "mime/encode.h"
#include "mime/header.h"

namespace rampart::delivery {
namespace {

namespace json = boost::json;

std::optional<std::int64_t> seconds_of(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (!value || !value->is_int64()) return std::nullopt;
  return value->get_int64();
}

std::optional<std::string> text_of(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (!value || !value->is_string()) return std::nullopt;
  return std::string(value->get_string());
}

std::string text_part(std::string_view type, std::string_view text) {
  const std::string lines = mime::crlf_lines(text);
  if (mime::is_7bit_text(lines)) {
    return "Content-Type: " + std::string(type) +
           "; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + lines + "\r\n";
  }
  return "Content-Type: " + std::string(type) +
         "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
         mime::encode_quoted_printable(lines) + "\r\n";
}

// A message id that can go between angle brackets in a header as it is.
bool safe_id(std::string_view id) {
  return !id.empty() && id.size() <= 250 && std::all_of(id.begin(), id.end(), [](char c) {
    return c > 0x20 && c < 0x7F && c != '<' && c != '>';
  });
}

}  // namespace

std::string vacation_to_json(const Vacation& vacation) {
  json::object out{{"isEnabled", vacation.enabled}};
  auto optional = [&](std::string_view key, const auto& value, auto&& convert) {
    out[key] = value ? json::value(convert(*value)) : json::value(nullptr);
  };
  auto same = [](const auto& value) { return value; };
  optional("fromDate", vacation.from, same);
  optional("toDate", vacation.to, same);
  optional("subject", vacation.subject, same);
  optional("textBody", vacation.text_body, same);
  optional("htmlBody", vacation.html_body, same);
  return json::serialize(out);
}

Vacation vacation_from_json(std::string_view text) {
  boost::system::error_code error;
  json::value value = json::parse(text, error);
  Vacation vacation;
  const json::object* object = error ? nullptr : value.if_object();
  if (!object) return vacation;
  const json::value* enabled = object->if_contains("isEnabled");
  vacation.enabled = enabled && enabled->is_bool() && enabled->get_bool();
  vacation.from = seconds_of(*object, "fromDate");
  vacation.to = seconds_of(*object, "toDate");
  vacation.subject = text_of(*object, "subject");
  vacation.text_body = text_of(*object, "textBody");
  vacation.html_body = text_of(*object, "htmlBody");
  return vacation;
}

bool vacation_active(const Vacation& vacation, std::int64_t now) {
  return vacation.enabled && (!vacation.from || now >= *vacation.from) &&
         (!vacation.to || now < *vacation.to);
}

bool may_auto_reply(std::string_view envelope_sender, std::string_view header) {
  const std::string sender = lowercase(envelope_sender);
  const auto at = sender.rfind('@');
  if (sender.empty() || at == std::string::npos) return false;
  const std::string_view local = std::string_view(sender).substr(0, at);
  if (local == "mailer-daemon" || local == "postmaster" || local.starts_with("owner-") ||
      local.ends_with("-request") || local.starts_with("noreply") ||
      local.starts_with("no-reply") || local.starts_with("bounce")) {
    return false;
  }
  for (auto value : mime::find_header(header, "Auto-Submitted")) {
    if (lowercase(mime::decode_text(value)) != "no") return false;
  }
  for (auto value : mime::find_header(header, "Precedence")) {
    const std::string precedence = lowercase(mime::decode_text(value));
    if (precedence == "bulk" || precedence == "list" || precedence == "junk") return false;
  }
  for (const char* list :
       {"List-Id", "List-Unsubscribe", "List-Post", "X-Auto-Response-Suppress"}) {
    if (!mime::find_header(header, list).empty()) return false;
  }
  return true;
}

AutoReply reply_of(const Vacation& vacation) {
  AutoReply reply;
  reply.handle = "jmap-vacation";
  reply.subject = vacation.subject;
  reply.text_body = vacation.text_body;
  reply.html_body = vacation.html_body;
  return reply;
}

std::string auto_reply_message(const AutoReply& reply, std::string_view from, std::string_view to,
                               std::string_view original_header, std::int64_t now) {
  std::string subject;
  if (reply.subject && !reply.subject->empty()) {
    subject = *reply.subject;
  } else {
    const auto original = mime::find_header(original_header, "Subject");
    subject = "Auto: " + (original.empty() ? std::string() : mime::decode_text(original.back()));
  }
  std::string references;
  std::string in_reply_to;
  if (auto ids = mime::find_header(original_header, "Message-ID"); !ids.empty()) {
    auto parsed = mime::parse_message_ids(ids.back());
    if (!parsed.empty() && safe_id(parsed.front())) in_reply_to = "<" + parsed.front() + ">";
  }
  for (auto value : mime::find_header(original_header, "References")) {
    for (const auto& id : mime::parse_message_ids(value)) {
      if (safe_id(id)) references += "<" + id + ">\r\n ";
    }
  }
  references += in_reply_to;
  const auto at = from.rfind('@');
  const std::string domain(at == std::string_view::npos ? "localhost" : from.substr(at + 1));
  std::string out = "Date: " + mime::format_date(now, 0) + "\r\nFrom: <" + std::string(from) +
                    ">\r\nTo: <" + std::string(to) +
                    ">\r\nSubject: " + mime::encode_unstructured(subject) +
                    "\r\nMessage-ID: " + mime::new_message_id(domain) + "\r\n";
  if (!in_reply_to.empty()) {
    out += "In-Reply-To: " + in_reply_to + "\r\nReferences: " + references + "\r\n";
  }
  out += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
  if (reply.mime_body) {
    // The script wrote the entity, header fields and body: of its fields only the
    // Content-* ones are kept, so it cannot add a From or a Bcc to the answer.
    const std::string entity = mime::crlf_lines(*reply.mime_body);
    const std::string_view header = mime::header_block(entity);
    bool keep = false;
    std::size_t at = 0;
    while (at < header.size()) {
      std::size_t end = header.find("\r\n", at);
      end = end == std::string_view::npos ? header.size() : end + 2;
      const std::string_view line = header.substr(at, end - at);
      at = end;
      if (line == "\r\n") break;
      if (line.front() != ' ' && line.front() != '\t') {
        keep = line.size() > 8 && iequals(line.substr(0, 8), "content-");
      }
      if (keep) out += line;
    }
    std::string body = entity.substr(header.size());
    if (!body.starts_with("\r\n")) body = "\r\n" + body;
    if (!body.ends_with("\r\n")) body += "\r\n";
    return out + body;
  }
  const std::string text = reply.text_body.value_or(
      reply.html_body ? std::string() : std::string("I am away and will read your message later."));
  if (reply.html_body) {
    const std::string boundary = "=_vacation_" + mime::new_token();
    out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n--" +
           boundary + "\r\n" + text_part("text/plain", text) + "--" + boundary + "\r\n" +
           text_part("text/html", *reply.html_body) + "--" + boundary + "--\r\n";
  } else {
    out += text_part("text/plain", text);
  }
  return out;
}

}  // namespace rampart::delivery
