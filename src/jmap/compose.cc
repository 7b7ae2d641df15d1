#include "jmap/compose.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <cstdio>
#include <random>
#include <tl/expected.hpp>
#include <vector>

#include "base/ascii.h"
#include "base/utf8.h"
#include "jmap/email_format.h"
#include "mime/encode.h"

namespace rampart::jmap {
namespace {

// A step of composing: its value, or the SetError that refuses the whole Email.
template <class T>
using Composed = tl::expected<T, json::object>;

tl::unexpected<json::object> refuse(std::string description, std::string property) {
  return tl::unexpected(json::object{{"type", "invalidProperties"},
                                     {"description", std::move(description)},
                                     {"properties", json::array{json::value(property)}}});
}

// A value that goes into a header: valid UTF-8, no line breaks or NUL.
Composed<std::string_view> header_text(const json::value& value, const std::string& property) {
  if (!value.is_string()) return refuse(property + " is a string", property);
  std::string_view text = value.get_string();
  if (!is_valid_utf8(text) || text.find_first_of(std::string_view("\r\n\0", 3)) != text.npos) {
    return refuse(property + " holds a line break, NUL or invalid UTF-8", property);
  }
  return text;
}

bool is_atext(char c) {
  return is_ascii(std::string_view(&c, 1)) &&
         (std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-/=?^_`{|}~ ").find(c) != std::string_view::npos);
}

std::string display_name(std::string_view name) {
  if (!is_ascii(name)) return mime::encode_words(name);
  if (std::all_of(name.begin(), name.end(), is_atext)) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// "local@domain": one '@', no spaces, brackets, commas or quotes to break the field.
Composed<std::string_view> addr_spec(const json::value& value, const std::string& property) {
  auto text = header_text(value, property);
  if (!text) return text;
  const std::string_view email = *text;
  const auto at = email.rfind('@');
  if (email.empty() || email.size() > 320 || at == 0 || at == std::string_view::npos ||
      at + 1 == email.size() || email.find_first_of(" \t<>(),;:\"[]\\") != std::string_view::npos) {
    return refuse("not an address: " + std::string(email), property);
  }
  return email;
}

Composed<std::string> address_list(const json::value& value, const std::string& property) {
  const json::array* list = value.if_array();
  if (!list) return refuse(property + " is a list of EmailAddress", property);
  std::string out;
  for (const json::value& item : *list) {
    const json::object* address = item.if_object();
    const json::value* email = address ? address->if_contains("email") : nullptr;
    if (!email) return refuse(property + " entries have an email", property);
    const json::value* name = address->if_contains("name");
    Composed<std::string_view> display{std::string_view()};
    if (name && !name->is_null()) display = header_text(*name, property);
    if (!display) return tl::unexpected(display.error());
    auto spec = addr_spec(*email, property);
    if (!spec) return tl::unexpected(spec.error());
    std::string entry = display->empty() ? std::string(*spec)
                                         : display_name(*display) + " <" + std::string(*spec) + ">";
    if (!out.empty()) out += ",\r\n ";
    out += entry;
  }
  return out;
}

Composed<std::string> message_ids(const json::value& value, const std::string& property) {
  const json::array* list = value.if_array();
  if (!list || list->empty()) return refuse(property + " is a list of ids", property);
  std::string out;
  for (const json::value& id : *list) {
    auto checked = header_text(id, property);
    if (!checked) return tl::unexpected(checked.error());
    const std::string_view text = *checked;
    if (text.empty() || text.find_first_of(" \t<>") != std::string_view::npos ||
        text.find('@') == std::string_view::npos) {
      return refuse("not a message id: " + std::string(text), property);
    }
    if (!out.empty()) out += "\r\n ";
    out += "<" + std::string(text) + ">";
  }
  return out;
}

// "2026-11-23T15:09:21+01:00" (or Z): Unix seconds and the zone in minutes.
Composed<std::pair<std::int64_t, int>> jmap_date(const json::value& value,
                                                 const std::string& property) {
  auto checked = header_text(value, property);
  if (!checked) return tl::unexpected(checked.error());
  const std::string_view text = *checked;
  if (text.ends_with('Z')) {
    auto utc = parse_utc_date(text);
    if (!utc) return refuse(property + " is a date", property);
    return std::pair<std::int64_t, int>{*utc, 0};
  }
  if (text.size() < 25) return refuse(property + " is a date", property);
  const std::string_view zone = text.substr(text.size() - 6);
  auto utc = parse_utc_date(std::string(text.substr(0, text.size() - 6)) + "Z");
  if (!utc || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
      !std::isdigit(static_cast<unsigned char>(zone[1])) ||
      !std::isdigit(static_cast<unsigned char>(zone[2])) ||
      !std::isdigit(static_cast<unsigned char>(zone[4])) ||
      !std::isdigit(static_cast<unsigned char>(zone[5]))) {
    return refuse(property + " is a date", property);
  }
  const int minutes =
      ((zone[1] - '0') * 10 + (zone[2] - '0')) * 60 + (zone[4] - '0') * 10 + (zone[5] - '0');
  const int offset = zone[0] == '-' ? -minutes : minutes;
  return std::pair<std::int64_t, int>{*utc - std::int64_t{offset} * 60, offset};
}

// A MIME parameter: quoted when it can be, RFC 2231 when it is not ASCII.
std::string parameter(std::string_view name, std::string_view value) {
  if (is_ascii(value) && value.find('"') == std::string_view::npos &&
      value.find('\\') == std::string_view::npos) {
    return "; " + std::string(name) + "=\"" + std::string(value) + "\"";
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "; " + std::string(name) + "*=utf-8''";
  for (unsigned char c : value) {
    if (std::isalnum(c) ||
        std::string_view("-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string boundary() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char out[40];
  std::snprintf(out, sizeof out, "=_rampart_%016llx%08llx",
                static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random() & 0xffffffff));
  return out;
}

bool valid_media_type(std::string_view type) {
  const auto slash = type.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == type.size()) return false;
  return std::all_of(type.begin(), type.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$&-^_.+/").find(c) != std::string_view::npos;
  });
}

// The headers and body of a part, before they are joined.
struct Content {
  std::string header;
  std::string body;
};

class Composer {
 public:
  Composer(const json::object& email, const BlobReader& read_blob, const ComposeOptions& options)
      : email_(email), read_blob_(read_blob), options_(options) {}

  Composed<std::string> message() {
    auto header = headers();
    if (!header) return header;
    Composed<std::string> body;
    if (const json::value* structure = argument("bodyStructure")) {
      if (argument("textBody") || argument("htmlBody") || argument("attachments")) {
        return refuse("bodyStructure or textBody/htmlBody/attachments, not both", "bodyStructure");
      }
      body = part(*structure, "bodyStructure", 0);
    } else {
      body = simple_body();
    }
    if (!body) return body;
    if (auto unused = check_body_values_used(); !unused) return tl::unexpected(unused.error());
    return *header + "MIME-Version: 1.0\r\n" + *body;
  }

 private:
  const json::value* argument(std::string_view key) const {
    const json::value* value = email_.if_contains(key);
    return value && !value->is_null() ? value : nullptr;
  }

  // header:Name[:asText|:asRaw] fields, in the order given; their names, lowercased, go
  // into `names`.
  Composed<std::string> custom_headers(std::vector<std::string>& names) {
    std::string out;
    for (const auto& [key, value] : email_) {
      const std::string name(key);
      if (!name.starts_with("header:") || value.is_null()) continue;
      std::string_view field = std::string_view(name).substr(7);
      bool text = false;
      if (field.ends_with(":asText")) {
        field.remove_suffix(7), text = true;
      } else if (field.ends_with(":asRaw")) {
        field.remove_suffix(6);
      }
      if (field.empty() || field.find(':') != std::string_view::npos ||
          !std::all_of(field.begin(), field.end(), [](char c) { return c > 32 && c < 127; }) ||
          iequals(field.substr(0, std::min<std::size_t>(field.size(), 8)), "content-") ||
          iequals(field, "mime-version")) {
        return refuse("cannot set " + name, name);
      }
      auto value_text = header_text(value, name);
      if (!value_text) return tl::unexpected(value_text.error());
      out += std::string(field) + ": " +
             (text ? mime::encode_unstructured(*value_text) : std::string(*value_text)) + "\r\n";
      names.push_back(lowercase(field));
    }
    return out;
  }

  Composed<std::string> headers() {
    std::vector<std::string> custom_names;
    auto custom_fields = custom_headers(custom_names);
    if (!custom_fields) return custom_fields;
    std::string out = std::move(*custom_fields);
    auto custom = [&](std::string_view field) {
      return std::find(custom_names.begin(), custom_names.end(), field) != custom_names.end();
    };
    auto add = [&](std::string_view property, std::string_view field,
                   auto&& format) -> Composed<void> {
      const json::value* value = argument(property);
      if (!value) return {};
      if (custom(lowercase(field))) {
        return refuse(std::string(field) + " given twice", std::string(property));
      }
      Composed<std::string> formatted = format(*value, std::string(property));
      if (!formatted) return tl::unexpected(formatted.error());
      out += std::string(field) + ": " + *formatted + "\r\n";
      return {};
    };
    auto subject = [](const json::value& value,
                      const std::string& property) -> Composed<std::string> {
      auto text = header_text(value, property);
      if (!text) return tl::unexpected(text.error());
      return mime::encode_unstructured(*text);
    };
    for (auto added :
         {add("from", "From", address_list), add("sender", "Sender", address_list),
          add("replyTo", "Reply-To", address_list), add("to", "To", address_list),
          add("cc", "Cc", address_list), add("bcc", "Bcc", address_list),
          add("subject", "Subject", subject), add("messageId", "Message-ID", message_ids),
          add("inReplyTo", "In-Reply-To", message_ids),
          add("references", "References", message_ids)}) {
      if (!added) return tl::unexpected(added.error());
    }
    if (const json::value* sent = argument("sentAt")) {
      auto date = jmap_date(*sent, "sentAt");
      if (!date) return tl::unexpected(date.error());
      out = "Date: " + mime::format_date(date->first, date->second) + "\r\n" + out;
    } else if (!custom("date")) {
      out = "Date: " + mime::format_date(options_.now, 0) + "\r\n" + out;
    }
    if (!argument("messageId") && !custom("message-id")) {
      out += "Message-ID: " + mime::new_message_id(options_.hostname) + "\r\n";
    }
    return out;
  }

  // textBody or htmlBody: a list of at most one text part of `subtype`; null if empty.
  Composed<const json::value*> one_text_part(std::string_view property, std::string_view subtype) {
    const json::value* list = argument(property);
    if (!list) return nullptr;
    if (!list->is_array() || list->get_array().size() > 1) {
      return refuse(std::string(property) + " is a list of one part", std::string(property));
    }
    if (list->get_array().empty()) return nullptr;
    const json::value& part = list->get_array()[0];
    const json::object* object = part.if_object();
    const json::value* type = object ? object->if_contains("type") : nullptr;
    if (type && !type->is_null() &&
        !(type->is_string() && type->get_string() == "text/" + std::string(subtype))) {
      return refuse(std::string(property) + " is text/" + std::string(subtype),
                    std::string(property));
    }
    return &part;
  }

  // textBody, htmlBody and attachments (§4.6): the body is one part, or
  // multipart/alternative of the two, inside multipart/mixed with the attachments.
  Composed<std::string> simple_body() {
    auto text = one_text_part("textBody", "plain");
    if (!text) return tl::unexpected(text.error());
    auto html = one_text_part("htmlBody", "html");
    if (!html) return tl::unexpected(html.error());
    Composed<std::string> body{std::string()};
    if (*text && *html) {
      auto text_part = part(**text, "textBody", 1, "text/plain");
      if (!text_part) return text_part;
      auto html_part = part(**html, "htmlBody", 1, "text/html");
      if (!html_part) return html_part;
      body = multipart("alternative", {std::move(*text_part), std::move(*html_part)});
    } else if (*text) {
      body = part(**text, "textBody", 0, "text/plain");
    } else if (*html) {
      body = part(**html, "htmlBody", 0, "text/html");
    }
    if (!body) return body;
    const json::value* attachments = argument("attachments");
    if (attachments && !attachments->is_array()) {
      return refuse("attachments is a list", "attachments");
    }
    if (!attachments || attachments->get_array().empty()) {
      if (body->empty()) return std::string("Content-Type: text/plain; charset=utf-8\r\n\r\n");
      return body;
    }
    std::vector<std::string> parts;
    if (!body->empty()) parts.push_back(std::move(*body));
    for (const json::value& attachment : attachments->get_array()) {
      auto attached = part(attachment, "attachments", 1);
      if (!attached) return attached;
      parts.push_back(std::move(*attached));
    }
    return multipart("mixed", std::move(parts));
  }

  std::string multipart(std::string_view subtype, std::vector<std::string> parts) {
    const std::string separator = boundary();
    std::string out = "Content-Type: multipart/" + std::string(subtype) + "; boundary=\"" +
                      separator + "\"\r\n\r\n";
    for (const std::string& part : parts) out += "--" + separator + "\r\n" + part + "\r\n";
    return out + "--" + separator + "--\r\n";
  }

  // One EmailBodyPart: headers and body, the parts of a multipart recursively.
  Composed<std::string> part(const json::value& value, const std::string& property, int depth,
                             std::string_view default_type = {}) {
    if (depth > 16) return refuse("parts nest too deep", property);
    const json::object* object = value.if_object();
    if (!object) return refuse(property + " holds EmailBodyPart objects", property);
    auto field = [&](std::string_view key) -> const json::value* {
      const json::value* found = object->if_contains(key);
      return found && !found->is_null() ? found : nullptr;
    };
    std::string type(default_type);
    if (const json::value* given = field("type")) {
      auto text = header_text(*given, property);
      if (!text) return tl::unexpected(text.error());
      type = lowercase(*text);
    }
    const json::value* part_id = field("partId");
    const json::value* blob_id = field("blobId");
    if (type.starts_with("multipart/")) {
      const json::value* children = field("subParts");
      if (!children || !children->is_array() || children->get_array().empty() || part_id ||
          blob_id) {
        return refuse("a multipart has subParts and no partId or blobId", property);
      }
      std::vector<std::string> parts;
      for (const json::value& child : children->get_array()) {
        auto made = part(child, property, depth + 1);
        if (!made) return made;
        parts.push_back(std::move(*made));
      }
      return multipart(std::string_view(type).substr(10), std::move(parts));
    }
    if (!part_id == !blob_id) return refuse("a part has a partId or a blobId", property);
    auto content = part_id ? text_content(*object, *part_id, type, property)
                           : blob_content(*object, *blob_id, type, property);
    if (!content) return tl::unexpected(content.error());
    auto described = describe_part(*object, blob_id != nullptr, property);
    if (!described) return described;
    return content->header + *described + "\r\n" + content->body;
  }

  // A text part whose text is bodyValues[partId]: UTF-8, in 7bit when it can be.
  Composed<Content> text_content(const json::object& object, const json::value& part_id,
                                 std::string type, const std::string& property) {
    auto checked = header_text(part_id, property);
    if (!checked) return tl::unexpected(checked.error());
    const std::string id(*checked);
    const json::value* values = argument("bodyValues");
    const json::value* body_value =
        values && values->is_object() ? values->get_object().if_contains(id) : nullptr;
    const json::object* value_object = body_value ? body_value->if_object() : nullptr;
    const json::value* text = value_object ? value_object->if_contains("value") : nullptr;
    if (!text || !text->is_string()) return refuse("no bodyValues entry " + id, "bodyValues");
    if (!is_valid_utf8(text->get_string())) return refuse("bodyValues are UTF-8", "bodyValues");
    for (const char* flag : {"isEncodingProblem", "isTruncated"}) {
      const json::value* set = value_object->if_contains(flag);
      if (set && set->is_bool() && set->get_bool()) {
        return refuse(std::string(flag) + " must be false", "bodyValues");
      }
    }
    used_values_.push_back(id);
    if (type.empty()) type = "text/plain";
    if (!type.starts_with("text/")) return refuse("a partId names a text part", property);
    if (const json::value* charset = object.if_contains("charset");
        charset && !charset->is_null() &&
        !(charset->is_string() && iequals(charset->get_string(), "utf-8"))) {
      return refuse("text is written as utf-8", property);
    }
    const std::string lines = mime::crlf_lines(text->get_string());
    if (!valid_media_type(type)) return refuse("invalid type " + type, property);
    Content out{"Content-Type: " + type + "; charset=utf-8\r\n", {}};
    if (mime::is_7bit_text(lines)) {
      out.header += "Content-Transfer-Encoding: 7bit\r\n";
      out.body = lines;
    } else {
      out.header += "Content-Transfer-Encoding: quoted-printable\r\n";
      out.body = mime::encode_quoted_printable(lines);
    }
    return out;
  }

  // A part whose bytes are a blob of the account's (an upload, a stored part), base64
  // unless it is a message.
  Composed<Content> blob_content(const json::object& object, const json::value& blob_id,
                                 std::string type, const std::string& property) {
    auto checked = header_text(blob_id, property);
    if (!checked) return tl::unexpected(checked.error());
    const std::string id(*checked);
    auto blob = read_blob_(id);
    if (!blob) {
      return tl::unexpected(json::object{{"type", "blobNotFound"},
                                         {"description", "no blob " + id},
                                         {"notFound", json::array{json::value(id)}}});
    }
    attachment_bytes_ += blob->bytes.size();
    if (attachment_bytes_ > options_.max_attachment_bytes) {
      return tl::unexpected(
          json::object{{"type", "tooLarge"},
                       {"description", "attachments over maxSizeAttachmentsPerEmail"},
                       {"maxSize", options_.max_attachment_bytes}});
    }
    if (type.empty())
      type = blob->type.empty() ? "application/octet-stream" : lowercase(blob->type);
    if (!valid_media_type(type)) type = "application/octet-stream";
    Content out{"Content-Type: " + type, {}};
    if (const json::value* name = object.if_contains("name"); name && !name->is_null()) {
      auto text = header_text(*name, property);
      if (!text) return tl::unexpected(text.error());
      out.header += parameter("name", *text);
    }
    out.header += "\r\n";
    if (type == "message/rfc822") {
      out.header += "Content-Transfer-Encoding: 8bit\r\n";
      out.body = mime::crlf_lines(blob->bytes);
    } else {
      out.header += "Content-Transfer-Encoding: base64\r\n";
      out.body = mime::encode_base64_lines(blob->bytes);
    }
    return out;
  }

  // Content-Disposition (attachment by default for a named blob), Content-ID,
  // Content-Location and Content-Language of a leaf part.
  Composed<std::string> describe_part(const json::object& object, bool is_blob,
                                      const std::string& property) {
    auto field = [&](std::string_view key) -> const json::value* {
      const json::value* found = object.if_contains(key);
      return found && !found->is_null() ? found : nullptr;
    };
    auto text = [&](const json::value* value) { return header_text(*value, property); };
    std::string header;
    const json::value* disposition = field("disposition");
    const json::value* name = field("name");
    if (disposition || (is_blob && name)) {
      std::string kind = "attachment";
      if (disposition) {
        auto given = text(disposition);
        if (!given) return tl::unexpected(given.error());
        kind = lowercase(*given);
      }
      if (kind != "attachment" && kind != "inline") {
        return refuse("disposition is attachment or inline", property);
      }
      header += "Content-Disposition: " + kind;
      if (name) {
        auto filename = text(name);
        if (!filename) return tl::unexpected(filename.error());
        header += parameter("filename", *filename);
      }
      header += "\r\n";
    }
    if (const json::value* cid = field("cid")) {
      auto id = text(cid);
      if (!id) return tl::unexpected(id.error());
      if (id->find_first_of(" <>") != std::string_view::npos)
        return refuse("invalid cid", property);
      header += "Content-ID: <" + std::string(*id) + ">\r\n";
    }
    if (const json::value* location = field("location")) {
      auto where = text(location);
      if (!where) return tl::unexpected(where.error());
      header += "Content-Location: " + std::string(*where) + "\r\n";
    }
    if (const json::value* language = field("language")) {
      if (!language->is_array()) return refuse("language is a list", property);
      std::string tags;
      for (const json::value& tag : language->get_array()) {
        auto checked = header_text(tag, property);
        if (!checked) return tl::unexpected(checked.error());
        if (!tags.empty()) tags += ", ";
        tags += *checked;
      }
      header += "Content-Language: " + tags + "\r\n";
    }
    return header;
  }

  Composed<void> check_body_values_used() {
    const json::value* values = argument("bodyValues");
    if (!values) return {};
    if (!values->is_object()) return refuse("bodyValues is an object", "bodyValues");
    for (const auto& [key, value] : values->get_object()) {
      if (std::find(used_values_.begin(), used_values_.end(), key) == used_values_.end()) {
        return refuse("bodyValues entry " + std::string(key) + " is in no part", "bodyValues");
      }
    }
    return {};
  }

  const json::object& email_;
  const BlobReader& read_blob_;
  const ComposeOptions& options_;
  std::vector<std::string> used_values_;
  std::size_t attachment_bytes_ = 0;
};

}  // namespace

std::variant<std::string, json::object> compose_email(const json::object& email,
                                                      const BlobReader& read_blob,
                                                      const ComposeOptions& options) {
  auto message = Composer(email, read_blob, options).message();
  if (!message) return std::move(message.error());
  return std::move(*message);
}

}  // namespace rampart::jmap
