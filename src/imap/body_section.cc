#include "imap/body_section.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/ascii.h"
#include "mime/body.h"
#include "mime/encode.h"
#include "mime/header.h"

namespace rampart::imap {
namespace {

bool consume(std::string_view& text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_upper(text[i]) != prefix[i]) return false;
  }
  text.remove_prefix(prefix.size());
  return true;
}

std::optional<std::uint64_t> consume_number(std::string_view& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

// section-spec inside the brackets.
bool parse_section(std::string_view text, bool binary, Section& section) {
  while (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front()))) {
    auto number = consume_number(text);
    if (!number || *number == 0 || *number > 0xffffffffu) return false;
    section.part.push_back(static_cast<std::uint32_t>(*number));
    if (text.empty()) {
      section.text = Section::Text::Part;
      return true;
    }
    if (!consume(text, ".")) return false;
    // RFC 3516 section-binary: part numbers only ("2.1"), no MIME, HEADER or TEXT.
    if (binary && (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front())))) {
      return false;
    }
  }
  if (text.empty()) return section.part.empty();  // BODY[] (or BINARY[]); "1." is not a section
  if (binary) return false;
  if (consume(text, "MIME")) {
    section.text = Section::Text::Mime;
    return text.empty() && !section.part.empty();
  }
  if (consume(text, "TEXT")) {
    section.text = Section::Text::Text;
    return text.empty();
  }
  if (!consume(text, "HEADER")) return false;
  if (text.empty()) {
    section.text = Section::Text::Header;
    return true;
  }
  if (!consume(text, ".FIELDS")) return false;
  section.text =
      consume(text, ".NOT") ? Section::Text::HeaderFieldsNot : Section::Text::HeaderFields;
  if (!consume(text, " (") || text.empty() || text.back() != ')') return false;
  text.remove_suffix(1);
  while (!text.empty()) {
    const std::size_t end = std::min(text.find(' '), text.size());
    const std::string_view name = text.substr(0, end);
    if (name.empty()) return false;
    for (char c : name) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte <= 0x20 || byte >= 0x7f || c == ':' || c == '"') return false;
    }
    section.fields.push_back(uppercase(name));
    text.remove_prefix(end);
    if (!text.empty()) text.remove_prefix(1);
  }
  return !section.fields.empty();
}

// The part a section's numbers lead to (RFC 9051 §6.4.5: a non-multipart message's
// only part is "1"; the parts of an embedded message are numbered below its own).
const mime::Part* find_part(const mime::Part& root, const std::vector<std::uint32_t>& path) {
  const mime::Part* current = &root;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::uint32_t number = path[i];
    const mime::Part* container = current;
    // Below a message/rfc822 part its embedded message's parts are numbered.
    if (i > 0 && container->is_message()) container = &container->children.front();
    if (container->is_multipart()) {
      if (number > container->children.size()) return nullptr;
      current = &container->children[number - 1];
    } else if (number == 1) {
      current = container;
    } else {
      return nullptr;
    }
  }
  return current;
}

std::string header_fields(std::string_view header, const std::vector<std::string>& names,
                          bool exclude) {
  const std::vector<mime::HeaderField> fields = mime::header_fields(header);
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string name = uppercase(fields[i].name);
    const bool listed = std::find(names.begin(), names.end(), name) != names.end();
    if (listed == exclude) continue;
    const std::size_t end = i + 1 < fields.size() ? fields[i + 1].offset : header.size();
    std::string_view field = header.substr(fields[i].offset, end - fields[i].offset);
    // The last field runs to the header's end, which may include the blank line.
    while (field.ends_with("\r\n\r\n") || field.ends_with("\n\n")) {
      field.remove_suffix(field.ends_with("\r\n\r\n") ? 2 : 1);
    }
    out += field;
  }
  out += "\r\n";  // RFC 9051: the blank line that ends a header is part of it
  return out;
}

}  // namespace

std::string BodyRequest::response_name() const {
  std::string name = item == Item::Body     ? "BODY["
                     : item == Item::Binary ? "BINARY["
                                            : "BINARY.SIZE[";
  for (std::size_t i = 0; i < section.part.size(); ++i) {
    if (i) name += '.';
    name += std::to_string(section.part[i]);
  }
  if (item == Item::Body) {
    const char* suffix = "";
    switch (section.text) {
      case Section::Text::Whole:
        break;
      case Section::Text::Header:
        suffix = "HEADER";
        break;
      case Section::Text::HeaderFields:
        suffix = "HEADER.FIELDS";
        break;
      case Section::Text::HeaderFieldsNot:
        suffix = "HEADER.FIELDS.NOT";
        break;
      case Section::Text::Part:
        break;
      case Section::Text::Text:
        suffix = "TEXT";
        break;
      case Section::Text::Mime:
        suffix = "MIME";
        break;
    }
    if (*suffix) {
      if (!section.part.empty()) name += '.';
      name += suffix;
    }
    if (!section.fields.empty()) {
      name += " (";
      for (std::size_t i = 0; i < section.fields.size(); ++i) {
        if (i) name += ' ';
        name += section.fields[i];
      }
      name += ')';
    }
  }
  name += ']';
  if (partial_offset) name += "<" + std::to_string(*partial_offset) + ">";
  return name;
}

std::optional<BodyRequest> parse_body_request(std::string_view atom) {
  BodyRequest request;
  if (consume(atom, "BINARY.SIZE")) {
    request.item = BodyRequest::Item::BinarySize;
  } else if (consume(atom, "BINARY")) {
    request.item = BodyRequest::Item::Binary;
    request.peek = consume(atom, ".PEEK");
  } else if (consume(atom, "BODY")) {
    request.peek = consume(atom, ".PEEK");
  } else {
    return std::nullopt;
  }
  if (!consume(atom, "[")) return std::nullopt;
  const std::size_t close = atom.rfind(']');
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view inside = atom.substr(0, close);
  std::string_view rest = atom.substr(close + 1);
  if (!parse_section(inside, request.item != BodyRequest::Item::Body, request.section)) {
    return std::nullopt;
  }
  if (!rest.empty()) {
    if (request.item == BodyRequest::Item::BinarySize || !consume(rest, "<")) return std::nullopt;
    request.partial_offset = consume_number(rest);
    if (!request.partial_offset || !consume(rest, ".")) return std::nullopt;
    request.partial_length = consume_number(rest);
    if (!request.partial_length || *request.partial_length == 0 || rest != ">") return std::nullopt;
  }
  return request;
}

namespace {

// The section's bytes as they are in the message.
std::optional<std::string> extract_bytes(std::string_view raw, const mime::Message& message,
                                         const BodyRequest& request) {
  const Section& section = request.section;
  const mime::Part* part = find_part(message.root, section.part);
  if (!part) return std::nullopt;
  if (request.item != BodyRequest::Item::Body) {
    if (section.part.empty()) return std::string(raw);  // BINARY[]: the whole message
    if (part->is_multipart()) return std::nullopt;      // RFC 3516: BINARY of a leaf only
    return mime::decode_body(raw, *part);
  }
  // HEADER and TEXT of a part apply to the message embedded in it.
  const mime::Part* message_root = part;
  if (!section.part.empty() && section.text != Section::Text::Part &&
      section.text != Section::Text::Mime) {
    if (!part->is_message()) return std::nullopt;
    message_root = &part->children.front();
  }
  auto header_of = [&](const mime::Part& p) {
    return raw.substr(p.header_begin, p.body_begin - p.header_begin);
  };
  switch (section.text) {
    case Section::Text::Whole:
      return std::string(raw);
    case Section::Text::Header:
      return std::string(header_of(*message_root));
    case Section::Text::HeaderFields:
    case Section::Text::HeaderFieldsNot:
      return header_fields(header_of(*message_root), section.fields,
                           section.text == Section::Text::HeaderFieldsNot);
    case Section::Text::Mime:
      return std::string(header_of(*part));
    case Section::Text::Text:
      return std::string(
          raw.substr(message_root->body_begin, message_root->body_end - message_root->body_begin));
    case Section::Text::Part:
      return std::string(raw.substr(part->body_begin, part->body_end - part->body_begin));
  }
  return std::nullopt;
}

// BODY's bytes as a literal may carry them: a literal holds no NUL (RFC 9051 CHAR8),
// so a part's binary content goes in base64, as Dovecot sends it, and a NUL anywhere
// else as 0x80. Only BINARY, in literal8, carries NUL as it is.
std::string without_nul(std::string bytes, const Section& section) {
  if (bytes.find('\0') == std::string::npos) return bytes;
  if (section.text == Section::Text::Part) {
    std::string encoded = mime::encode_base64_lines(bytes);
    if (encoded.size() >= 2) encoded.resize(encoded.size() - 2);  // the last CRLF
    return encoded;
  }
  std::replace(bytes.begin(), bytes.end(), '\0', '\x80');
  return bytes;
}

}  // namespace

std::optional<std::string> extract_section(std::string_view raw, const mime::Message& message,
                                           const BodyRequest& request) {
  auto bytes = extract_bytes(raw, message, request);
  if (!bytes || request.item != BodyRequest::Item::Body) return bytes;
  return without_nul(std::move(*bytes), request.section);
}

}  // namespace rampart::imap
