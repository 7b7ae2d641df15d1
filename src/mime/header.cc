// Header sections and structured field values: fields, Content-Type parameters
// (RFC 2045 §5.1, RFC 2231) and message ids (RFC 5322 §3.6.4).
#include "mime/header.h"

#include <algorithm>
#include <cstring>

#include "mime/parse_internal.h"

namespace rampart::mime {

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

HeaderScan scan_header(std::string_view raw, std::size_t begin, std::size_t end,
                       const Limits& limits, std::vector<HeaderField>& fields,
                       const Defects& defects, bool top_level) {
  fields.clear();
  bool current_kept = false;  // the last field line started was stored
  bool any_line = false;
  bool reported_size = false;
  std::size_t pos = begin;
  while (pos < end) {
    const void* found = std::memchr(raw.data() + pos, '\n', end - pos);
    const std::size_t newline = found ? static_cast<const char*>(found) - raw.data() : end;
    const std::size_t next = found ? newline + 1 : end;
    const std::size_t content_end =
        (newline > pos && raw[newline - 1] == '\r') ? newline - 1 : newline;
    if (content_end == pos) return {pos, next};  // the blank line
    const bool too_big = content_end - begin > limits.max_header_bytes;
    if (is_wsp(raw[pos])) {
      if (current_kept) {
        if (too_big) {
          fields.pop_back();
          current_kept = false;
        } else {
          HeaderField& field = fields.back();
          const std::size_t value_begin = field.value.data() - raw.data();
          field.value = raw.substr(value_begin, content_end - value_begin);
        }
      } else if (!any_line) {
        defects.at(pos).add(DefectKind::InvalidHeaderLine);
      }
      if (too_big && !reported_size) {
        defects.at(pos).add(DefectKind::HeaderTooBig);
        reported_size = true;
      }
      any_line = true;
      pos = next;
      continue;
    }
    std::size_t q = pos;
    while (q < content_end && raw[q] > 32 && raw[q] < 127 && raw[q] != ':') ++q;
    const std::size_t name_end = q;
    while (q < content_end && is_wsp(raw[q])) ++q;  // obs-optional: "Subject :"
    if (name_end > pos && q < content_end && raw[q] == ':') {
      if (too_big || fields.size() >= limits.max_headers) {
        if (!reported_size) {
          defects.at(pos).add(DefectKind::HeaderTooBig);
          reported_size = true;
        }
        current_kept = false;
      } else {
        fields.push_back(
            {raw.substr(pos, name_end - pos), raw.substr(q + 1, content_end - q - 1), pos});
        current_kept = true;
      }
    } else if (top_level && pos == begin && raw.substr(pos, 5) == "From ") {
      // An mbox separator left in front of the message.
      defects.at(pos).add(DefectKind::InvalidHeaderLine);
      current_kept = false;
    } else {
      defects.at(pos).add(DefectKind::MissingHeaderBodySeparator);
      return {pos, pos};
    }
    any_line = true;
    pos = next;
  }
  return {end, end};
}

void skip_comment(std::string_view s, std::size_t& i) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '(') {
      ++depth;
    } else if (s[i] == ')' && --depth == 0) {
      ++i;
      return;
    }
  }
  i = s.size();  // unterminated, or a quoted pair at the very end
}

std::string_view header_block(std::string_view message) {
  std::size_t end = message.find("\r\n\r\n");
  if (end == std::string_view::npos) end = message.find("\n\n");
  return message.substr(0, end == std::string_view::npos ? message.size() : end + 2);
}

std::vector<HeaderField> header_fields(std::string_view header) {
  std::vector<HeaderField> fields;
  Limits unlimited;
  unlimited.max_header_bytes = header.size() + 1;
  unlimited.max_headers = header.size() + 1;
  scan_header(header, 0, header.size(), unlimited, fields, Defects(), false);
  return fields;
}

std::vector<std::string_view> find_header(std::string_view header, std::string_view name) {
  std::vector<std::string_view> values;
  for (const HeaderField& field : header_fields(header)) {
    if (iequals(field.name, name)) values.push_back(field.value);
  }
  return values;
}

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
        hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

struct RawParameter {
  std::string base;  // lowercased name without the RFC 2231 suffix
  int section = -1;  // -1: not a continuation
  bool extended = false;
  std::string value;
};

constexpr int kMaxSection = 9999;
// Parameters (RFC 2231 sections included) read from one field; assembling them is
// quadratic, and real fields have a handful.
constexpr std::size_t kMaxParameters = 512;

// "name", "name*", "name*3", "name*3*".
void split_parameter_name(std::string name, RawParameter& parameter) {
  const std::size_t star = name.find('*');
  if (star == std::string::npos) {
    parameter.base = std::move(name);
    return;
  }
  std::string_view rest = std::string_view(name).substr(star + 1);
  bool extended = false;
  if (!rest.empty() && rest.back() == '*') {
    extended = true;
    rest.remove_suffix(1);
  }
  int section = -1;
  if (rest.empty()) {
    if (!extended) {  // "name*": extended, not a continuation
      extended = true;
    }
  } else {
    section = 0;
    for (char c : rest) {
      if (c < '0' || c > '9' || section > kMaxSection) {
        parameter.base = std::move(name);  // not RFC 2231 after all
        return;
      }
      section = section * 10 + (c - '0');
    }
  }
  parameter.base = name.substr(0, star);
  parameter.section = section;
  parameter.extended = extended;
}

// charset'language'value of an extended first section.
void split_extended(std::string_view value, std::string_view& charset, std::string_view& text) {
  const std::size_t q1 = value.find('\'');
  const std::size_t q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) {
    charset = {};
    text = value;
    return;
  }
  charset = value.substr(0, q1);
  text = value.substr(q2 + 1);
}

std::vector<Parameter> assemble_parameters(std::vector<RawParameter>& raw,
                                           CharsetConverter& charsets, const Defects& defects) {
  std::vector<Parameter> parameters;
  std::vector<std::string_view> done;
  for (std::size_t first = 0; first < raw.size(); ++first) {
    const std::string& base = raw[first].base;
    if (std::find(done.begin(), done.end(), std::string_view(base)) != done.end()) continue;
    done.push_back(base);
    std::vector<const RawParameter*> sections;
    const RawParameter* extended = nullptr;
    const RawParameter* plain = nullptr;
    for (std::size_t i = first; i < raw.size(); ++i) {
      const RawParameter& p = raw[i];
      if (p.base != base) continue;
      if (p.section >= 0) {
        sections.push_back(&p);
      } else if (p.extended) {
        if (extended == nullptr) extended = &p;
      } else if (plain == nullptr) {
        plain = &p;
      }
    }
    Parameter out{base, {}};
    if (!sections.empty()) {
      std::stable_sort(sections.begin(), sections.end(),
                       [](auto* a, auto* b) { return a->section < b->section; });
      std::string bytes;
      std::string_view charset;
      int expected = 0;
      for (const RawParameter* p : sections) {
        if (p->section < expected) continue;  // a duplicate section: the first counts
        if (p->section > expected) {
          defects.add(DefectKind::InvalidParameter);  // a gap: RFC 2231 §3 stops here
          break;
        }
        std::string_view text = p->value;
        if (p->section == 0 && p->extended) split_extended(p->value, charset, text);
        bytes += p->extended ? percent_decode(text) : std::string(text);
        ++expected;
      }
      if (expected == 0) {
        defects.add(DefectKind::InvalidParameter);
      }
      charsets.append_utf8(bytes, charset, out.value, defects);
    } else if (extended != nullptr) {
      std::string_view charset, text;
      split_extended(extended->value, charset, text);
      charsets.append_utf8(percent_decode(text), charset, out.value, defects);
    } else if (plain != nullptr) {
      // Not allowed by RFC 2047 §5, but common: filename="=?utf-8?b?...?=".
      out.value = decode_text(plain->value, charsets, defects);
    }
    parameters.push_back(std::move(out));
  }
  return parameters;
}

}  // namespace

ContentValue parse_content_value(std::string_view value, CharsetConverter& charsets,
                                 const Defects& defects) {
  const std::string unfolded = unfold(value);
  const std::string_view s = unfolded;
  ContentValue out;
  std::size_t i = 0;
  while (i < s.size() && s[i] != ';') {
    if (s[i] == '(') {
      skip_comment(s, i);
    } else {
      if (!is_space(s[i]) && s[i] != '"') out.value.push_back(ascii_lower(s[i]));
      ++i;
    }
  }
  std::vector<RawParameter> raw;
  while (i < s.size()) {
    if (s[i] == ';' || is_space(s[i])) {
      ++i;
      continue;
    }
    if (s[i] == '(') {
      skip_comment(s, i);
      continue;
    }
    const std::size_t name_begin = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
    std::string name = lowercase(trim(s.substr(name_begin, i - name_begin)));
    if (i >= s.size() || s[i] != '=' || name.empty()) {
      defects.add(DefectKind::InvalidParameter);
      while (i < s.size() && s[i] != ';') ++i;  // "=value" without a name
      continue;
    }
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    RawParameter parameter;
    if (i < s.size() && s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        parameter.value.push_back(s[i]);
      }
      while (i < s.size() && s[i] != ';') ++i;  // past the quote and any junk
    } else {
      const std::size_t value_begin = i;
      while (i < s.size() && s[i] != ';') ++i;
      std::string_view text = trim(s.substr(value_begin, i - value_begin));
      // A trailing comment: "charset=us-ascii (Plain text)".
      if (!text.empty() && text.back() == ')') {
        const std::size_t open = text.rfind(" (");
        if (open != std::string_view::npos) text = trim(text.substr(0, open));
      }
      parameter.value = std::string(text);
    }
    split_parameter_name(std::move(name), parameter);
    if (raw.size() >= kMaxParameters) {
      defects.add(DefectKind::InvalidParameter);
      break;
    }
    raw.push_back(std::move(parameter));
  }
  out.parameters = assemble_parameters(raw, charsets, defects);
  return out;
}

ContentValue parse_content_value(std::string_view value) {
  CharsetConverter charsets;
  return parse_content_value(value, charsets, Defects());
}

std::vector<std::string> parse_message_ids(std::string_view value) {
  std::vector<std::string> ids;
  const std::string unfolded = unfold(value);
  const std::string_view s = unfolded;
  std::size_t i = 0;
  bool angled = s.find('<') != std::string_view::npos;
  while (i < s.size()) {
    if (s[i] == '(') {
      skip_comment(s, i);
      continue;
    }
    if (angled) {
      if (s[i] != '<') {
        ++i;
        continue;
      }
      const std::size_t close = s.find('>', i + 1);
      const std::size_t end = close == std::string_view::npos ? s.size() : close;
      std::string id;
      for (char c : s.substr(i + 1, end - i - 1)) {
        if (!is_space(c) && c != '"') id.push_back(c);
      }
      if (!id.empty()) ids.push_back(std::move(id));
      i = end + 1;
    } else {
      // No brackets at all: whitespace-separated ids, as some old mailers send.
      if (is_space(s[i]) || s[i] == ',') {
        ++i;
        continue;
      }
      const std::size_t begin = i;
      while (i < s.size() && !is_space(s[i]) && s[i] != ',' && s[i] != '(') ++i;
      const std::string_view id = s.substr(begin, i - begin);
      if (id.find('@') != std::string_view::npos) ids.emplace_back(id);
    }
  }
  return ids;
}

}  // namespace rampart::mime
