#include "jmap/email_format.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <cstdio>

#include "base/ascii.h"
#include "base/civil_date.h"
#include "base/utf8.h"
#include "mime/body.h"
#include "mime/header.h"

namespace rampart::jmap {
namespace {

constexpr std::int64_t kDay = 86400;

std::string format_date(std::int64_t local_seconds, const char* zone) {
  std::int64_t days = local_seconds / kDay;
  std::int64_t rest = local_seconds % kDay;
  if (rest < 0) rest += kDay, --days;
  const CivilDate date = civil_from_days(days);
  char out[48];
  std::snprintf(out, sizeof out, "%04lld-%02u-%02uT%02lld:%02lld:%02lld%s",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                static_cast<long long>(rest % 60), zone);
  return out;
}

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Which forms a known header field may be read in (§4.1.2); unknown fields take any.
enum Form { kRaw = 1, kText = 2, kAddresses = 4, kMessageIds = 8, kDate = 16, kUrls = 32 };

int allowed_forms(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kAddressFields = {
      "from",        "sender",        "reply-to",        "to",        "cc",        "bcc",
      "resent-from", "resent-sender", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc"};
  static constexpr std::array<std::string_view, 4> kIdFields = {"message-id", "in-reply-to",
                                                                "references", "resent-message-id"};
  static constexpr std::array<std::string_view, 6> kUrlFields = {
      "list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive"};
  static constexpr std::array<std::string_view, 4> kTextFields = {"subject", "comments", "keywords",
                                                                  "list-id"};
  const std::string lower = lowercase(name);
  auto in = [&](const auto& list) {
    return std::find(list.begin(), list.end(), lower) != list.end();
  };
  if (in(kAddressFields)) return kRaw | kAddresses;
  if (in(kIdFields)) return kRaw | kMessageIds;
  if (lower == "date" || lower == "resent-date") return kRaw | kDate;
  if (in(kUrlFields)) return kRaw | kUrls;
  if (in(kTextFields)) return kRaw | kText;
  return kRaw | kText | kAddresses | kMessageIds | kDate | kUrls;
}

json::object address_object(const mime::Address& address) {
  json::object out;
  out["name"] = address.name.empty() ? json::value(nullptr) : json::value(address.name);
  out["email"] = mime::address_spec(address);
  return out;
}

json::value grouped_addresses(const std::vector<mime::Address>& addresses) {
  json::array groups;
  json::object current{{"name", nullptr}, {"addresses", json::array{}}};
  auto flush = [&] {
    if (!current.at("addresses").as_array().empty() || !current.at("name").is_null()) {
      groups.push_back(std::move(current));
    }
    current = json::object{{"name", nullptr}, {"addresses", json::array{}}};
  };
  for (const mime::Address& address : addresses) {
    switch (address.kind) {
      case mime::Address::Kind::GroupStart:
        flush();
        current["name"] = address.name;
        break;
      case mime::Address::Kind::GroupEnd:
        flush();
        break;
      case mime::Address::Kind::Mailbox:
        current["addresses"].as_array().push_back(address_object(address));
        break;
    }
  }
  flush();
  return groups;
}

json::value parsed_value(std::string_view value, int form, bool grouped) {
  switch (form) {
    case kRaw: {
      std::string_view raw = value;
      while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.remove_suffix(1);
      return json::value(raw);
    }
    case kText:
      return json::value(mime::decode_text(value));
    case kAddresses: {
      auto list = mime::parse_address_list(value);
      if (grouped) return grouped_addresses(list);
      json::array out;
      for (const auto& address : list) {
        if (address.kind == mime::Address::Kind::Mailbox) out.push_back(address_object(address));
      }
      return out;
    }
    case kMessageIds: {
      auto ids = mime::parse_message_ids(value);
      if (ids.empty()) return nullptr;
      json::array out;
      for (auto& id : ids) out.push_back(json::value(id));
      return out;
    }
    case kDate: {
      auto date = mime::parse_date(value);
      if (!date) return nullptr;
      return json::value(zoned_date(date->unix_seconds, date->zone_minutes));
    }
    case kUrls: {
      json::array out;
      const std::string unfolded = mime::unfold(value);
      std::size_t at = 0;
      while ((at = unfolded.find('<', at)) != std::string::npos) {
        const auto end = unfolded.find('>', at);
        if (end == std::string::npos) break;
        std::string url = unfolded.substr(at + 1, end - at - 1);
        std::erase_if(url, [](char c) { return c == ' ' || c == '\t'; });
        out.push_back(json::value(url));
        at = end + 1;
      }
      if (out.empty()) return nullptr;
      return out;
    }
  }
  return nullptr;
}

bool is_inline_media(const mime::Part& part) {
  return part.type == "image" || part.type == "audio" || part.type == "video";
}

bool is_text(const mime::Part& part, std::string_view subtype) {
  return part.type == "text" && part.subtype == subtype;
}

std::string child_id(const std::string& parent, std::size_t index, bool root_multipart) {
  const std::string number = std::to_string(index + 1);
  return parent.empty() || root_multipart ? number : parent + "." + number;
}

// The §4.1.4 parseStructure algorithm; `text`/`html` null once dropped in this branch.
void parse_structure(const std::vector<BodyPartRef>& parts, std::string_view multipart_type,
                     bool in_alternative, std::vector<BodyPartRef>* html,
                     std::vector<BodyPartRef>* text, std::vector<BodyPartRef>& attachments) {
  const std::ptrdiff_t text_length = text ? static_cast<std::ptrdiff_t>(text->size()) : -1;
  const std::ptrdiff_t html_length = html ? static_cast<std::ptrdiff_t>(html->size()) : -1;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const mime::Part& part = *parts[i].part;
    const bool is_inline =
        part.disposition != "attachment" &&
        (is_text(part, "plain") || is_text(part, "html") || is_inline_media(part)) &&
        (i == 0 ||
         (multipart_type != "related" && (is_inline_media(part) || part.filename().empty())));
    if (part.is_multipart()) {
      std::vector<BodyPartRef> children;
      for (std::size_t c = 0; c < part.children.size(); ++c) {
        children.push_back(
            {&part.children[c], parts[i].part_id.empty()
                                    ? std::to_string(c + 1)
                                    : parts[i].part_id + "." + std::to_string(c + 1)});
      }
      parse_structure(children, part.subtype, in_alternative || part.subtype == "alternative", html,
                      text, attachments);
    } else if (is_inline) {
      if (multipart_type == "alternative") {
        if (is_text(part, "plain")) {
          if (text) text->push_back(parts[i]);
        } else if (is_text(part, "html")) {
          if (html) html->push_back(parts[i]);
        } else {
          attachments.push_back(parts[i]);
        }
        continue;
      }
      if (in_alternative) {
        if (is_text(part, "plain")) html = nullptr;
        if (is_text(part, "html")) text = nullptr;
      }
      if (text) text->push_back(parts[i]);
      if (html) html->push_back(parts[i]);
      if ((!text || !html) && is_inline_media(part)) attachments.push_back(parts[i]);
    } else {
      attachments.push_back(parts[i]);
    }
  }
  if (multipart_type == "alternative" && text && html) {
    const auto text_now = static_cast<std::ptrdiff_t>(text->size());
    const auto html_now = static_cast<std::ptrdiff_t>(html->size());
    if (text_length == text_now && html_length != html_now) {
      for (auto at = html_length; at < html_now; ++at) text->push_back((*html)[at]);
    }
    if (html_length == html_now && text_length != text_now) {
      for (auto at = text_length; at < text_now; ++at) html->push_back((*text)[at]);
    }
  }
}

const std::vector<std::string>& default_body_properties() {
  static const std::vector<std::string> kDefault = {"partId",   "blobId",  "size",        "name",
                                                    "type",     "charset", "disposition", "cid",
                                                    "language", "location"};
  return kDefault;
}

// Text with tags removed and the common entities replaced, for a preview of HTML.
std::string strip_html(std::string_view html) {
  std::string out;
  bool in_tag = false;
  for (std::size_t i = 0; i < html.size(); ++i) {
    const char c = html[i];
    if (in_tag) {
      if (c == '>') in_tag = false, out += ' ';
      continue;
    }
    if (c == '<') {
      // Skip the content of <style> and <script>.
      for (std::string_view block : {"style", "script"}) {
        if (iequals(html.substr(i + 1, block.size()), block)) {
          const auto end = lowercase(html.substr(i)).find("</" + std::string(block));
          if (end != std::string::npos) i += end;
        }
      }
      in_tag = true;
      continue;
    }
    if (c == '&') {
      static constexpr std::pair<std::string_view, char> kEntities[] = {
          {"&amp;", '&'},  {"&lt;", '<'},   {"&gt;", '>'},
          {"&quot;", '"'}, {"&nbsp;", ' '}, {"&#39;", '\''}};
      bool replaced = false;
      for (auto [entity, value] : kEntities) {
        if (html.substr(i, entity.size()) == entity) {
          out += value;
          i += entity.size() - 1;
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
    }
    out += c;
  }
  return out;
}

// The longest prefix of `text` no longer than `max_bytes` that ends on a character.
std::size_t utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  std::size_t at = max_bytes;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
  return at;
}

}  // namespace

std::string utc_date(std::int64_t unix_seconds) { return format_date(unix_seconds, "Z"); }

std::string zoned_date(std::int64_t unix_seconds, std::int32_t zone_minutes) {
  if (zone_minutes == 0) return format_date(unix_seconds, "Z");
  char zone[8];
  const int magnitude = zone_minutes < 0 ? -zone_minutes : zone_minutes;
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", zone_minutes < 0 ? '-' : '+',
                magnitude / 60 % 100, magnitude % 60);
  return format_date(unix_seconds + std::int64_t{zone_minutes} * 60, zone);
}

std::optional<std::int64_t> parse_utc_date(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T') ||
      text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  const auto year = text.substr(0, 4), month = text.substr(5, 2), day = text.substr(8, 2),
             hour = text.substr(11, 2), minute = text.substr(14, 2), second = text.substr(17, 2);
  for (auto digits : {year, month, day, hour, minute, second}) {
    if (!is_digits(digits)) return std::nullopt;
  }
  const auto fraction = text.substr(19, text.size() - 20);
  if (!fraction.empty() && (fraction.front() != '.' || !is_digits(fraction.substr(1)))) {
    return std::nullopt;
  }
  const int m = number(month), d = number(day), h = number(hour), mi = number(minute),
            s = number(second);
  if (m < 1 || m > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return days_from_civil(number(year), static_cast<unsigned>(m), static_cast<unsigned>(d)) * kDay +
         h * 3600 + mi * 60 + s;
}

std::string_view header_section(std::string_view raw, const mime::Part& part) {
  if (part.body_begin > raw.size() || part.header_begin > part.body_begin) return {};
  return raw.substr(part.header_begin, part.body_begin - part.header_begin);
}

json::array headers_value(std::string_view header) {
  json::array headers;
  for (const auto& field : mime::header_fields(header)) {
    headers.push_back(
        json::object{{"name", field.name}, {"value", parsed_value(field.value, kRaw, false)}});
  }
  return headers;
}

json::value message_ids_value(std::string_view value) {
  return parsed_value(value, kMessageIds, false);
}

json::value addresses_value(const std::vector<mime::Address>& addresses) {
  json::array out;
  for (const auto& address : addresses) {
    if (address.kind == mime::Address::Kind::Mailbox) out.push_back(address_object(address));
  }
  if (out.empty()) return nullptr;
  return out;
}

std::optional<json::value> header_property(std::string_view header, std::string_view property) {
  if (!property.starts_with("header:")) return std::nullopt;
  std::string_view rest = property.substr(7);
  bool all = false;
  if (rest.ends_with(":all")) {
    all = true;
    rest.remove_suffix(4);
  }
  int form = kRaw;
  bool grouped = false;
  const auto colon = rest.find(':');
  std::string_view name = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view form_name = rest.substr(colon + 1);
    if (form_name == "asRaw") {
      form = kRaw;
    } else if (form_name == "asText") {
      form = kText;
    } else if (form_name == "asAddresses") {
      form = kAddresses;
    } else if (form_name == "asGroupedAddresses") {
      form = kAddresses, grouped = true;
    } else if (form_name == "asMessageIds") {
      form = kMessageIds;
    } else if (form_name == "asDate") {
      form = kDate;
    } else if (form_name == "asURLs") {
      form = kUrls;
    } else {
      return std::nullopt;
    }
  }
  if (name.empty() || name.find(':') != std::string_view::npos || !(allowed_forms(name) & form)) {
    return std::nullopt;
  }
  const auto values = mime::find_header(header, name);
  if (all) {
    json::array out;
    for (auto value : values) out.push_back(parsed_value(value, form, grouped));
    return json::value(std::move(out));
  }
  if (values.empty()) return json::value(nullptr);
  return parsed_value(values.back(), form, grouped);
}

BodyLists body_lists(const mime::Message& message) {
  BodyLists lists;
  const std::string root_id = message.root.is_multipart() ? std::string() : "1";
  parse_structure({{&message.root, root_id}}, "mixed", false, &lists.html, &lists.text,
                  lists.attachments);
  return lists;
}

namespace {

// The children of a multipart, asked for with the caller's own `properties`: an empty
// list (the default) must reach every level, so that a multipart inside a multipart
// keeps its subParts too.
json::array sub_parts(std::string_view raw, const mime::Part& part, const std::string& part_id,
                      const std::string& blob_base, const std::vector<std::string>& properties) {
  json::array children;
  for (std::size_t c = 0; c < part.children.size(); ++c) {
    children.push_back(body_part(raw, part.children[c], child_id(part_id, c, part_id.empty()),
                                 blob_base, properties));
  }
  return children;
}

}  // namespace

json::object body_part(std::string_view raw, const mime::Part& part, const std::string& part_id,
                       const std::string& blob_base, const std::vector<std::string>& properties) {
  const auto& wanted = properties.empty() ? default_body_properties() : properties;
  const std::string_view header = header_section(raw, part);
  json::object out;
  for (const std::string& property : wanted) {
    if (property == "partId") {
      out[property] = part.is_multipart() ? json::value(nullptr) : json::value(part_id);
    } else if (property == "blobId") {
      std::string id = blob_base + "_" + part_id;
      std::replace(id.begin(), id.end(), '.', '_');
      out[property] = part.is_multipart() ? json::value(nullptr) : json::value(id);
    } else if (property == "size") {
      // RFC 8621 §4.1.4: the size of the decoded content, not of the base64 or
      // quoted-printable bytes that carry it.
      out[property] = part.is_multipart() ? 0 : mime::decode_body(raw, part).size();
    } else if (property == "headers") {
      out[property] = headers_value(header);
    } else if (property == "name") {
      const auto name = part.filename();
      out[property] = name.empty() ? json::value(nullptr) : json::value(name);
    } else if (property == "type") {
      out[property] = part.type + "/" + part.subtype;
    } else if (property == "charset") {
      out[property] = part.type == "text" ? json::value(part.charset) : json::value(nullptr);
    } else if (property == "disposition") {
      out[property] =
          part.disposition.empty() ? json::value(nullptr) : json::value(part.disposition);
    } else if (property == "cid") {
      std::string_view cid = part.id;
      while (!cid.empty() && (cid.front() == '<' || cid.front() == ' ')) cid.remove_prefix(1);
      while (!cid.empty() && (cid.back() == '>' || cid.back() == ' ')) cid.remove_suffix(1);
      out[property] = cid.empty() ? json::value(nullptr) : json::value(cid);
    } else if (property == "language") {
      if (part.language.empty()) {
        out[property] = nullptr;
      } else {
        json::array languages;
        for (const auto& tag : part.language) languages.push_back(json::value(tag));
        out[property] = std::move(languages);
      }
    } else if (property == "location") {
      out[property] = part.location.empty() ? json::value(nullptr) : json::value(part.location);
    } else if (property == "subParts") {
      if (!part.is_multipart()) {
        out[property] = nullptr;
        continue;
      }
      out[property] = sub_parts(raw, part, part_id, blob_base, properties);
    } else if (auto value = header_property(header, property)) {
      out[property] = std::move(*value);
    }
  }
  if (part.is_multipart() && !out.contains("subParts") && properties.empty()) {
    out["subParts"] = sub_parts(raw, part, part_id, blob_base, properties);
  }
  return out;
}

json::object body_value(std::string_view raw, const mime::Part& part, std::size_t max_bytes) {
  bool damaged = false;
  std::string text = mime::decode_text_body(raw, part, &damaged);
  bool truncated = false;
  if (max_bytes != 0 && text.size() > max_bytes) {
    text.resize(utf8_prefix(text, max_bytes));
    truncated = true;
  }
  return json::object{
      {"value", std::move(text)}, {"isEncodingProblem", damaged}, {"isTruncated", truncated}};
}

std::string preview(std::string_view raw, const BodyLists& lists) {
  for (const BodyPartRef& ref : lists.text) {
    const mime::Part& part = *ref.part;
    if (part.type != "text") continue;
    // A bounded slice of a huge body is enough for 256 characters.
    mime::Part head = part;
    head.body_end = std::min(part.body_end, part.body_begin + 64 * 1024);
    std::string text = mime::decode_text_body(raw, head);
    if (part.subtype == "html") text = strip_html(text);
    std::string out;
    bool space = false;
    for (char c : text) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        space = !out.empty();
        continue;
      }
      if (space) out += ' ', space = false;
      out += c;
      if (out.size() >= 1024) break;
    }
    // 256 characters, not bytes.
    std::size_t at = 0, characters = 0;
    while (at < out.size() && characters < 256) {
      const std::size_t length = utf8_sequence_length(std::string_view(out).substr(at));
      at += length == 0 ? 1 : length;
      ++characters;
    }
    out.resize(at);
    return out;
  }
  return {};
}

const mime::Part* find_part(const mime::Message& message, std::string_view part_id) {
  const mime::Part* part = &message.root;
  if (!part->is_multipart()) {
    return part_id == "1" ? part : nullptr;
  }
  while (!part_id.empty()) {
    const auto dot = part_id.find('.');
    const std::string_view step = part_id.substr(0, dot);
    if (!is_digits(step) || step.size() > 4) return nullptr;
    const int index = number(step);
    // As IMAP numbers them: inside message/rfc822, n is the embedded message's nth
    // part, or with n = 1 its only one.
    if (part->is_message() && !part->children.empty()) {
      const mime::Part& embedded = part->children[0];
      if (!embedded.is_multipart()) {
        if (index != 1) return nullptr;
        part = &embedded;
        part_id = dot == std::string_view::npos ? std::string_view() : part_id.substr(dot + 1);
        continue;
      }
      part = &embedded;
    }
    if (!part->is_multipart() || index < 1 ||
        static_cast<std::size_t>(index) > part->children.size()) {
      return nullptr;
    }
    part = &part->children[index - 1];
    part_id = dot == std::string_view::npos ? std::string_view() : part_id.substr(dot + 1);
  }
  return part == &message.root ? nullptr : part;
}

std::vector<std::string> keywords_from_flags(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const std::string& flag : flags) {
    if (flag == "\\Seen") {
      out.emplace_back("$seen");
    } else if (flag == "\\Flagged") {
      out.emplace_back("$flagged");
    } else if (flag == "\\Answered") {
      out.emplace_back("$answered");
    } else if (flag == "\\Draft") {
      out.emplace_back("$draft");
    } else if (!flag.empty() && flag.front() != '\\') {
      out.push_back(lowercase(flag));
    }
  }
  return out;
}

std::string flag_from_keyword(std::string_view keyword) {
  const std::string lower = lowercase(keyword);
  if (lower == "$seen") return "\\Seen";
  if (lower == "$flagged") return "\\Flagged";
  if (lower == "$answered") return "\\Answered";
  if (lower == "$draft") return "\\Draft";
  return lower;
}

bool valid_keyword(std::string_view keyword) {
  if (keyword.empty() || keyword.size() > 255) return false;
  return std::all_of(keyword.begin(), keyword.end(), [](char c) {
    return c > 0x20 && c < 0x7F && std::string_view("(){]%*\"\\").find(c) == std::string_view::npos;
  });
}

}  // namespace rampart::jmap
