#include "delivery/mta_sts.h"

#include <algorithm>
#include <charconv>

#include "base/ascii.h"
#include "base/utf8.h"

namespace rampart::delivery {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string_view trim_wsp(std::string_view text) {
  while (!text.empty() && is_wsp(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_wsp(text.back())) text.remove_suffix(1);
  return text;
}

// RFC 5321 section 4.1.2: Domain = sub-domain *("." sub-domain), each a letter or digit,
// then letters, digits and hyphens, ending in a letter or digit; DNS bounds the lengths.
bool is_domain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;  // length of the label so far
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') return false;
      label = 0;
    } else if (is_alnum(c) || (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0 && name.back() != '-';
}

// The field names of both RFCs' grammars: sts-ext-name, sts-policy-ext-name and
// tlsrpt-ext-name are all (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
bool is_field_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || !is_alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

// RFC 8461 section 3.2, sts-policy-ext-value: printable ASCII or UTF-8, inner spaces.
// `value` has had its surrounding spaces and tabs taken off.
bool is_policy_value(std::string_view value) {
  if (value.empty()) return false;
  while (!value.empty()) {
    const auto byte = static_cast<unsigned char>(value.front());
    if (byte >= 0x80) {
      const std::size_t length = utf8_sequence_length(value);
      if (length == 0) return false;
      value.remove_prefix(length);
      continue;
    }
    if (byte < 0x20 || byte == 0x7f) return false;  // a control character, a tab among them
    value.remove_prefix(1);
  }
  return true;
}

// sts-ext-value and tlsrpt-ext-value: 1*(%x21-3A / %x3C / %x3E-7E).
bool is_record_value(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return c >= 0x21 && c <= 0x7e && c != ';' && c != '=';
  });
}

std::optional<StsPolicy::Mode> parse_mode(std::string_view value) {
  if (value == "enforce") return StsPolicy::Mode::Enforce;
  if (value == "testing") return StsPolicy::Mode::Testing;
  if (value == "none") return StsPolicy::Mode::None;
  return std::nullopt;
}

// sts-policy-max-age-value = 1*10(DIGIT), at most kMaxStsMaxAge.
std::optional<std::int64_t> parse_max_age(std::string_view value) {
  if (value.empty() || value.size() > 10 || !std::all_of(value.begin(), value.end(), is_digit)) {
    return std::nullopt;
  }
  std::int64_t seconds = 0;
  std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (seconds > kMaxStsMaxAge) return std::nullopt;
  return seconds;
}

// sts-policy-mx-value = ["*."] Domain
bool is_mx_pattern(std::string_view value) {
  return is_domain(value.starts_with("*.") ? value.substr(2) : value);
}

struct Field {
  std::string_view name, value;
};

// The fields of a TXT record of either RFC after its version tag:
//   record = version 1*(field-delim field) [field-delim]
//   field-delim = *WSP ";" *WSP
// No field may hold a ';' (RFC 8460 section 3 has URIs encode theirs), so the record
// splits there. Nullopt when the grammar is broken; the values are left to the caller.
std::optional<std::vector<Field>> record_fields(std::string_view txt, std::string_view version) {
  if (!txt.starts_with(version)) return std::nullopt;
  std::string_view rest = txt.substr(version.size());
  const std::size_t first = rest.find(';');
  if (first == std::string_view::npos || !trim_wsp(rest.substr(0, first)).empty()) {
    return std::nullopt;  // "v=STSv1" alone, or "v=STSv10;"
  }
  rest.remove_prefix(first + 1);
  std::vector<Field> fields;
  for (;;) {
    const std::size_t end = rest.find(';');
    std::string_view part = rest.substr(0, end);
    while (!part.empty() && is_wsp(part.front())) part.remove_prefix(1);
    if (end == std::string_view::npos) {
      // The last part: the spaces of a final delimiter, or a field with nothing after it.
      if (part.empty()) break;
      if (is_wsp(part.back())) return std::nullopt;
    } else {
      while (!part.empty() && is_wsp(part.back())) part.remove_suffix(1);
      if (part.empty()) return std::nullopt;  // ";;"
    }
    const std::size_t equals = part.find('=');
    if (equals == std::string_view::npos || !is_field_name(part.substr(0, equals))) {
      return std::nullopt;
    }
    fields.push_back({part.substr(0, equals), part.substr(equals + 1)});
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  if (fields.empty()) return std::nullopt;
  return fields;
}

// RFC 3986 section 3: scheme ":" and the rest of the URI in its characters (unreserved,
// pct-encoded, sub-delims, ":", "@", "/", "?", "#", "[", "]"), less the ',', '!' and ';'
// that RFC 8460 section 3 requires encoded. The scheme comes back lowercase.
std::optional<std::string> parse_uri(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos || !is_alpha(text.front())) {
    return std::nullopt;
  }
  const std::string_view scheme = text.substr(0, colon);
  if (!std::all_of(scheme.begin(), scheme.end(),
                   [](char c) { return is_alnum(c) || c == '+' || c == '-' || c == '.'; })) {
    return std::nullopt;
  }
  constexpr std::string_view kAllowed = "-._~$&'()*+=:@/?#[]";
  const std::string_view rest = text.substr(colon + 1);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '%') {
      if (i + 2 >= rest.size() || !is_hex(rest[i + 1]) || !is_hex(rest[i + 2])) {
        return std::nullopt;
      }
      i += 2;
    } else if (!is_alnum(c) && kAllowed.find(c) == std::string_view::npos) {
      return std::nullopt;
    }
  }
  if (std::count(rest.begin(), rest.end(), '#') > 1) return std::nullopt;
  return lowercase(scheme) + ":" + std::string(rest);
}

// tlsrpt-rua value: tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
std::optional<std::vector<std::string>> parse_rua(std::string_view value) {
  std::vector<std::string> uris;
  for (;;) {
    const std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    // The first URI follows "rua=" directly, the last runs to the field's end.
    if (!uris.empty()) {
      while (!item.empty() && is_wsp(item.front())) item.remove_prefix(1);
    }
    if (comma != std::string_view::npos) {
      while (!item.empty() && is_wsp(item.back())) item.remove_suffix(1);
    }
    auto uri = parse_uri(item);
    if (!uri) return std::nullopt;
    uris.push_back(std::move(*uri));
    if (comma == std::string_view::npos) return uris;
    value.remove_prefix(comma + 1);
  }
}

// RFC 9110 section 5.6.2: tchar.
bool is_token(std::string_view text) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return is_alnum(c) || kSymbols.find(c) != std::string_view::npos;
  });
}

// RFC 9110 section 5.5: field-vchar and inner spaces and tabs; obs-text allowed.
bool is_field_value(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 ? byte != 0x7f : c == '\t';
  });
}

// RFC 9112 section 4: "HTTP/1." DIGIT SP 3DIGIT SP reason-phrase.
std::optional<int> parse_status_line(std::string_view line) {
  if (line.size() < 13 || !line.starts_with("HTTP/1.") || !is_digit(line[7]) || line[8] != ' ' ||
      !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) || line[12] != ' ' ||
      !is_field_value(line.substr(13))) {
    return std::nullopt;
  }
  return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

// Content-Type (RFC 9110 section 8.3.1): type "/" subtype, then parameters we skip.
std::optional<std::string> parse_media_type(std::string_view value) {
  const std::string_view type = trim_wsp(value.substr(0, value.find(';')));
  const std::size_t slash = type.find('/');
  if (slash == std::string_view::npos || !is_token(type.substr(0, slash)) ||
      !is_token(type.substr(slash + 1))) {
    return std::nullopt;
  }
  return lowercase(type);
}

}  // namespace

std::optional<StsPolicy> parse_sts_policy(std::string_view body) {
  if (body.empty() || body.size() > kMaxStsPolicy) return std::nullopt;
  StsPolicy policy;
  bool has_version = false, has_mode = false, has_max_age = false;
  while (!body.empty()) {
    // sts-policy-term = LF / CRLF; the last field may have none.
    const std::size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    if (end != std::string_view::npos && line.ends_with('\r')) line.remove_suffix(1);
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);

    // sts-policy-field *WSP, the field being name ":" *WSP value; no room for a space
    // before the colon or at the start of a line, nor for an empty line.
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_wsp(line.substr(colon + 1));
    if (!is_field_name(name) || !is_policy_value(value)) return std::nullopt;

    // Section 3.2: of a repeated field other than mx, only the first counts.
    if (name == "version" && !has_version) {
      if (value != "STSv1") return std::nullopt;
      has_version = true;
    } else if (name == "mode" && !has_mode) {
      const auto mode = parse_mode(value);
      if (!mode) return std::nullopt;
      policy.mode = *mode;
      has_mode = true;
    } else if (name == "max_age" && !has_max_age) {
      const auto max_age = parse_max_age(value);
      if (!max_age) return std::nullopt;
      policy.max_age = *max_age;
      has_max_age = true;
    } else if (name == "mx") {
      if (!is_mx_pattern(value)) return std::nullopt;
      policy.mx.push_back(lowercase(value));
    }
  }
  if (!has_version || !has_mode || !has_max_age) return std::nullopt;
  if (policy.mx.empty() && policy.mode != StsPolicy::Mode::None) return std::nullopt;
  return policy;
}

bool sts_mx_matches(const StsPolicy& policy, std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (!is_domain(host)) return false;
  // RFC 8461 section 4.1: "*." stands for the whole leftmost label, and only for it.
  const std::size_t first_dot = host.find('.');
  const std::string_view parent =
      first_dot == std::string_view::npos ? std::string_view() : host.substr(first_dot + 1);
  for (const std::string& pattern : policy.mx) {
    const bool matches =
        pattern.starts_with("*.")
            ? !parent.empty() && iequals(parent, std::string_view(pattern).substr(2))
            : iequals(host, pattern);
    if (matches) return true;
  }
  return false;
}

std::optional<std::string> parse_sts_record(std::string_view txt) {
  const auto fields = record_fields(txt, "v=STSv1");
  if (!fields) return std::nullopt;
  std::optional<std::string> id;
  for (const Field& field : *fields) {
    if (field.name == "id") {
      // sts-id = %s"id=" 1*32(ALPHA / DIGIT); a repeated id counts once (RFC 8461 3.2).
      if (field.value.empty() || field.value.size() > 32 ||
          !std::all_of(field.value.begin(), field.value.end(), is_alnum)) {
        return std::nullopt;
      }
      if (!id) id = std::string(field.value);
    } else if (!is_record_value(field.value)) {
      return std::nullopt;
    }
  }
  return id;
}

std::optional<std::vector<std::string>> parse_tlsrpt_record(std::string_view txt) {
  const auto fields = record_fields(txt, "v=TLSRPTv1");
  if (!fields) return std::nullopt;
  std::optional<std::vector<std::string>> rua;
  for (const Field& field : *fields) {
    if (field.name == "rua") {
      auto uris = parse_rua(field.value);
      if (!uris) return std::nullopt;
      if (!rua) rua = std::move(uris);
    } else if (!is_record_value(field.value)) {
      return std::nullopt;
    }
  }
  return rua;
}

std::optional<HttpResponse> parse_http_response(std::string_view bytes) {
  if (bytes.size() > kMaxStsResponse) return std::nullopt;
  const std::size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos || head_end + 4 > kMaxStsHead) return std::nullopt;
  std::string_view head = bytes.substr(0, head_end + 2);  // each line with its CRLF
  std::string_view body = bytes.substr(head_end + 4);

  HttpResponse response;
  std::optional<std::size_t> content_length;
  bool first = true;
  while (!head.empty()) {
    const std::size_t end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(end + 2);
    if (first) {
      const auto status = parse_status_line(line);
      if (!status) return std::nullopt;
      response.status = *status;
      first = false;
      continue;
    }
    // RFC 9112 section 5: name ":" OWS value OWS, no space before the colon; a line
    // that starts with a space or tab is obs-fold, which section 5.2 lets us refuse.
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return std::nullopt;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_wsp(line.substr(colon + 1));
    if (!is_field_value(value)) return std::nullopt;
    if (iequals(name, "Content-Length")) {
      // RFC 9112 section 6.3: a repeated Content-Length must not disagree.
      std::size_t length = 0;
      if (value.empty() || value.size() > 9 || !std::all_of(value.begin(), value.end(), is_digit)) {
        return std::nullopt;
      }
      std::from_chars(value.data(), value.data() + value.size(), length);
      if (content_length && *content_length != length) return std::nullopt;
      content_length = length;
    } else if (iequals(name, "Transfer-Encoding")) {
      return std::nullopt;  // not for an HTTP/1.0 request, and no decoding here
    } else if (iequals(name, "Content-Type")) {
      auto type = parse_media_type(value);
      if (!type || !response.content_type.empty()) return std::nullopt;
      response.content_type = std::move(*type);
    } else if (iequals(name, "Location")) {
      response.has_location = true;
    }
  }
  if (content_length) {
    if (body.size() < *content_length) return std::nullopt;  // the connection broke early
    body = body.substr(0, *content_length);
  }
  if (body.size() > kMaxStsPolicy) return std::nullopt;
  response.body = std::string(body);
  return response;
}

}  // namespace rampart::delivery
