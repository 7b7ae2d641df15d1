#include "jmap/compose.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <cstdio>
#include <random>
#include <vector>

#include "base/ascii.h"
#include "base/utf8.h"
#include "jmap/email_format.h"
#include "mime/encode.h"

namespace rampart::jmap {
namespace {

// Thrown inside compose_email, caught at its end: one way out for every refusal.
struct Refusal {
  json::object error;
};

[[noreturn]] void refuse(std::string description, std::string property) {
  throw Refusal{json::object{{"type", "invalidProperties"},
                             {"description", std::move(description)},
                             {"properties", json::array{json::value(property)}}}};
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// A value that goes into a header: valid UTF-8, no line breaks or NUL.
std::string_view header_text(const json::value& value, const std::string& property) {
  if (!value.is_string()) refuse(property + " is a string", property);
  std::string_view text = value.get_string();
  if (!is_valid_utf8(text) || text.find_first_of(std::string_view("\r\n\0", 3)) != text.npos) {
    refuse(property + " holds a line break, NUL or invalid UTF-8", property);
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
std::string_view addr_spec(const json::value& value, const std::string& property) {
  std::string_view email = header_text(value, property);
  const auto at = email.rfind('@');
  if (email.empty() || email.size() > 320 || at == 0 || at == std::string_view::npos ||
      at + 1 == email.size() || email.find_first_of(" \t<>(),;:\"[]\\") != std::string_view::npos) {
    refuse("not an address: " + std::string(email), property);
  }
  return email;
}

std::string address_list(const json::value& value, const std::string& property) {
  const json::array* list = value.if_array();
  if (!list) refuse(property + " is a list of EmailAddress", property);
  std::string out;
  for (const json::value& item : *list) {
    const json::object* address = item.if_object();
    const json::value* email = address ? address->if_contains("email") : nullptr;
    if (!email) refuse(property + " entries have an email", property);
    std::string entry;
    const json::value* name = address->if_contains("name");
    if (name && !name->is_null() && !header_text(*name, property).empty()) {
      entry =
          display_name(name->get_string()) + " <" + std::string(addr_spec(*email, property)) + ">";
    } else {
      entry = std::string(addr_spec(*email, property));
    }
    if (!out.empty()) out += ",\r\n ";
    out += entry;
  }
  return out;
}

std::string message_ids(const json::value& value, const std::string& property) {
  const json::array* list = value.if_array();
  if (!list || list->empty()) refuse(property + " is a list of ids", property);
  std::string out;
  for (const json::value& id : *list) {
    std::string_view text = header_text(id, property);
    if (text.empty() || text.find_first_of(" \t<>") != std::string_view::npos ||
        text.find('@') == std::string_view::npos) {
      refuse("not a message id: " + std::string(text), property);
    }
    if (!out.empty()) out += "\r\n ";
    out += "<" + std::string(text) + ">";
  }
  return out;
}

// "2026-11-23T15:09:21+01:00" (or Z): Unix seconds and the zone in minutes.
std::pair<std::int64_t, int> jmap_date(const json::value& value, const std::string& property) {
  std::string_view text = header_text(value, property);
  if (text.ends_with('Z')) {
    auto utc = parse_utc_date(text);
    if (!utc) refuse(property + " is a date", property);
    return {*utc, 0};
  }
  if (text.size() < 25) refuse(property + " is a date", property);
  const std::string_view zone = text.substr(text.size() - 6);
  auto utc = parse_utc_date(std::string(text.substr(0, text.size() - 6)) + "Z");
  if (!utc || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
      !std::isdigit(static_cast<unsigned char>(zone[1])) ||
      !std::isdigit(static_cast<unsigned char>(zone[2])) ||
      !std::isdigit(static_cast<unsigned char>(zone[4])) ||
      !std::isdigit(static_cast<unsigned char>(zone[5]))) {
    refuse(property + " is a date", property);
  }
  const int minutes =
      ((zone[1] - '0') * 10 + (zone[2] - '0')) * 60 + (zone[4] - '0') * 10 + (zone[5] - '0');
  const int offset = zone[0] == '-' ? -minutes : minutes;
  return {*utc - std::int64_t{offset} * 60, offset};
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

class Composer {
 public:
  Composer(const json::object& email, const BlobReader& read_blob, const ComposeOptions& options)
      : email_(email), read_blob_(read_blob), options_(options) {}

  std::string message() {
    std::string header = headers();
    const json::value* structure = argument("bodyStructure");
    std::string body;
    if (structure) {
      if (argument("textBody") || argument("htmlBody") || argument("attachments")) {
        refuse("bodyStructure or textBody/htmlBody/attachments, not both", "bodyStructure");
      }
      body = part(*structure, "bodyStructure", 0);
    } else {
      body = simple_body();
    }
    check_body_values_used();
    return header + "MIME-Version: 1.0\r\n" + body;
  }

 private:
  const json::value* argument(std::string_view key) const {
    const json::value* value = email_.if_contains(key);
    return value && !value->is_null() ? value : nullptr;
  }

  std::string headers() {
    std::string out;
    std::vector<std::string> custom_names;
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
        refuse("cannot set " + name, name);
      }
      const std::string_view value_text = header_text(value, name);
      out += std::string(field) + ": " +
             (text ? mime::encode_unstructured(value_text) : std::string(value_text)) + "\r\n";
      custom_names.push_back(lowercase(field));
    }
    auto custom = [&](std::string_view field) {
      return std::find(custom_names.begin(), custom_names.end(), field) != custom_names.end();
    };
    auto add = [&](std::string_view property, std::string_view field, auto&& format) {
      if (const json::value* value = argument(property)) {
        if (custom(lowercase(field)))
          refuse(std::string(field) + " given twice", std::string(property));
        out += std::string(field) + ": " + format(*value, std::string(property)) + "\r\n";
      }
    };
    add("from", "From", address_list);
    add("sender", "Sender", address_list);
    add("replyTo", "Reply-To", address_list);
    add("to", "To", address_list);
    add("cc", "Cc", address_list);
    add("bcc", "Bcc", address_list);
    add("subject", "Subject", [](const json::value& value, const std::string& property) {
      return mime::encode_unstructured(header_text(value, property));
    });
    add("messageId", "Message-ID", message_ids);
    add("inReplyTo", "In-Reply-To", message_ids);
    add("references", "References", message_ids);
    if (const json::value* sent = argument("sentAt")) {
      const auto [seconds, zone] = jmap_date(*sent, "sentAt");
      out = "Date: " + mime::format_date(seconds, zone) + "\r\n" + out;
    } else if (!custom("date")) {
      out = "Date: " + mime::format_date(options_.now, 0) + "\r\n" + out;
    }
    if (!argument("messageId") && !custom("message-id")) {
      out += "Message-ID: " + mime::new_message_id(options_.hostname) + "\r\n";
    }
    return out;
  }

  // textBody, htmlBody and attachments (§4.6): the body is one part, or
  // multipart/alternative of the two, inside multipart/mixed with the attachments.
  std::string simple_body() {
    auto one = [&](std::string_view property, std::string_view subtype) -> const json::value* {
      const json::value* list = argument(property);
      if (!list) return nullptr;
      if (!list->is_array() || list->get_array().size() > 1) {
        refuse(std::string(property) + " is a list of one part", std::string(property));
      }
      if (list->get_array().empty()) return nullptr;
      const json::value& part = list->get_array()[0];
      const json::object* object = part.if_object();
      const json::value* type = object ? object->if_contains("type") : nullptr;
      if (type && !type->is_null() &&
          !(type->is_string() && type->get_string() == "text/" + std::string(subtype))) {
        refuse(std::string(property) + " is text/" + std::string(subtype), std::string(property));
      }
      return &part;
    };
    const json::value* text = one("textBody", "plain");
    const json::value* html = one("htmlBody", "html");
    std::string body;
    if (text && html) {
      body = multipart("alternative", {part(*text, "textBody", 1, "text/plain"),
                                       part(*html, "htmlBody", 1, "text/html")});
    } else if (text) {
      body = part(*text, "textBody", 0, "text/plain");
    } else if (html) {
      body = part(*html, "htmlBody", 0, "text/html");
    }
    const json::value* attachments = argument("attachments");
    if (attachments && (!attachments->is_array())) refuse("attachments is a list", "attachments");
    if (!attachments || attachments->get_array().empty()) {
      if (body.empty()) body = "Content-Type: text/plain; charset=utf-8\r\n\r\n";
      return body;
    }
    std::vector<std::string> parts;
    if (!body.empty()) parts.push_back(std::move(body));
    for (const json::value& attachment : attachments->get_array()) {
      parts.push_back(part(attachment, "attachments", 1));
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
  std::string part(const json::value& value, const std::string& property, int depth,
                   std::string_view default_type = {}) {
    if (depth > 16) refuse("parts nest too deep", property);
    const json::object* object = value.if_object();
    if (!object) refuse(property + " holds EmailBodyPart objects", property);
    auto field = [&](std::string_view key) -> const json::value* {
      const json::value* found = object->if_contains(key);
      return found && !found->is_null() ? found : nullptr;
    };
    std::string type(default_type);
    if (const json::value* given = field("type")) type = lowercase(header_text(*given, property));
    const json::value* part_id = field("partId");
    const json::value* blob_id = field("blobId");
    if (type.starts_with("multipart/")) {
      const json::value* children = field("subParts");
      if (!children || !children->is_array() || children->get_array().empty() || part_id ||
          blob_id) {
        refuse("a multipart has subParts and no partId or blobId", property);
      }
      std::vector<std::string> parts;
      for (const json::value& child : children->get_array())
        parts.push_back(part(child, property, depth + 1));
      return multipart(std::string_view(type).substr(10), std::move(parts));
    }
    if (!part_id == !blob_id) refuse("a part has a partId or a blobId", property);
    std::string header;
    std::string body;
    if (part_id) {
      const std::string id(header_text(*part_id, property));
      const json::value* values = argument("bodyValues");
      const json::value* body_value =
          values && values->is_object() ? values->get_object().if_contains(id) : nullptr;
      const json::object* value_object = body_value ? body_value->if_object() : nullptr;
      const json::value* text = value_object ? value_object->if_contains("value") : nullptr;
      if (!text || !text->is_string()) refuse("no bodyValues entry " + id, "bodyValues");
      if (!is_valid_utf8(text->get_string())) refuse("bodyValues are UTF-8", "bodyValues");
      for (const char* flag : {"isEncodingProblem", "isTruncated"}) {
        const json::value* set = value_object->if_contains(flag);
        if (set && set->is_bool() && set->get_bool())
          refuse(std::string(flag) + " must be false", "bodyValues");
      }
      used_values_.push_back(id);
      if (type.empty()) type = "text/plain";
      if (!type.starts_with("text/")) refuse("a partId names a text part", property);
      if (const json::value* charset = field("charset");
          charset && !(charset->is_string() && iequals(charset->get_string(), "utf-8"))) {
        refuse("text is written as utf-8", property);
      }
      const std::string lines = mime::crlf_lines(text->get_string());
      const bool plain = mime::is_7bit_text(lines);
      if (!valid_media_type(type)) refuse("invalid type " + type, property);
      header = "Content-Type: " + type + "; charset=utf-8\r\n";
      if (plain) {
        header += "Content-Transfer-Encoding: 7bit\r\n";
        body = lines;
      } else {
        header += "Content-Transfer-Encoding: quoted-printable\r\n";
        body = mime::encode_quoted_printable(lines);
      }
    } else {
      const std::string id(header_text(*blob_id, property));
      auto blob = read_blob_(id);
      if (!blob) {
        throw Refusal{json::object{{"type", "blobNotFound"},
                                   {"description", "no blob " + id},
                                   {"notFound", json::array{json::value(id)}}}};
      }
      attachment_bytes_ += blob->bytes.size();
      if (attachment_bytes_ > options_.max_attachment_bytes) {
        throw Refusal{json::object{{"type", "tooLarge"},
                                   {"description", "attachments over maxSizeAttachmentsPerEmail"},
                                   {"maxSize", options_.max_attachment_bytes}}};
      }
      if (type.empty())
        type = blob->type.empty() ? "application/octet-stream" : lowercase(blob->type);
      if (!valid_media_type(type)) type = "application/octet-stream";
      header = "Content-Type: " + type;
      if (const json::value* name = field("name"))
        header += parameter("name", header_text(*name, property));
      header += "\r\n";
      if (type == "message/rfc822") {
        header += "Content-Transfer-Encoding: 8bit\r\n";
        body = mime::crlf_lines(blob->bytes);
      } else {
        header += "Content-Transfer-Encoding: base64\r\n";
        body = mime::encode_base64_lines(blob->bytes);
      }
    }
    const json::value* disposition = field("disposition");
    const json::value* name = field("name");
    if (disposition || (blob_id && name)) {
      std::string kind =
          disposition ? lowercase(header_text(*disposition, property)) : "attachment";
      if (kind != "attachment" && kind != "inline")
        refuse("disposition is attachment or inline", property);
      header += "Content-Disposition: " + kind;
      if (name) header += parameter("filename", header_text(*name, property));
      header += "\r\n";
    }
    if (const json::value* cid = field("cid")) {
      const std::string_view id = header_text(*cid, property);
      if (id.find_first_of(" <>") != std::string_view::npos) refuse("invalid cid", property);
      header += "Content-ID: <" + std::string(id) + ">\r\n";
    }
    if (const json::value* location = field("location")) {
      header += "Content-Location: " + std::string(header_text(*location, property)) + "\r\n";
    }
    if (const json::value* language = field("language")) {
      if (!language->is_array()) refuse("language is a list", property);
      std::string tags;
      for (const json::value& tag : language->get_array()) {
        if (!tags.empty()) tags += ", ";
        tags += header_text(tag, property);
      }
      header += "Content-Language: " + tags + "\r\n";
    }
    return header + "\r\n" + body;
  }

  void check_body_values_used() {
    const json::value* values = argument("bodyValues");
    if (!values) return;
    if (!values->is_object()) refuse("bodyValues is an object", "bodyValues");
    for (const auto& [key, value] : values->get_object()) {
      if (std::find(used_values_.begin(), used_values_.end(), key) == used_values_.end()) {
        refuse("bodyValues entry " + std::string(key) + " is in no part", "bodyValues");
      }
    }
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
  try {
    return Composer(email, read_blob, options).message();
  } catch (Refusal& refusal) {
    return std::move(refusal.error);
  }
}

}  // namespace rampart::jmap
