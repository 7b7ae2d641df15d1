#include "mailauth/auth_results.h"

#include "base/ascii.h"
#include "dkim/canonical.h"

namespace rampart::mailauth {

namespace {

// RFC 2045 token characters: what RFC 8601's "value" may be without quotes.
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) return false;
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// pvalue's "[ [ local-part ] "@" ] domain-name" (RFC 8601 section 2.2) when both parts
// are plain: written unquoted, as every client expects an address to be.
bool is_plain_address(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos) return false;
  const std::string_view local = text.substr(0, at), domain = text.substr(at + 1);
  if (domain.empty()) return false;
  for (char c : domain) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && c != '.' && c != '-') return false;
  }
  for (char c : local) {
    if (!is_token_char(c) && c != '.') return false;
  }
  return true;
}

std::string clean(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += u < 32 || u == 127 ? ' ' : c;
  }
  return out;
}

std::string value(std::string_view text) {
  const std::string cleaned = clean(text);
  if (is_token(cleaned) || is_plain_address(cleaned)) return cleaned;
  std::string quoted = "\"";
  for (char c : cleaned) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// A comment's text: parentheses and backslashes escaped.
std::string comment(std::string_view text) {
  std::string out = " (";
  for (char c : clean(text)) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out + ")";
}

}  // namespace

std::string authentication_results(std::string_view authserv_id,
                                   const std::vector<MethodResult>& results) {
  std::string header = "Authentication-Results: " + value(authserv_id) + ";";
  if (results.empty()) return header + " none\r\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const MethodResult& result = results[i];
    header += "\r\n\t" + value(lowercase(result.method)) + "=" + value(lowercase(result.result));
    if (!result.reason.empty()) header += comment(result.reason);
    for (const auto& [name, property] : result.properties) {
      header += " " + value(name) + "=" + value(property);
    }
    if (i + 1 < results.size()) header += ";";
  }
  return header + "\r\n";
}

std::string authserv_id_of(std::string_view field_value) {
  std::size_t i = 0;
  // CFWS: white space and (nested) comments.
  for (;;) {
    while (i < field_value.size() && (field_value[i] == ' ' || field_value[i] == '\t' ||
                                      field_value[i] == '\r' || field_value[i] == '\n')) {
      ++i;
    }
    if (i >= field_value.size() || field_value[i] != '(') break;
    int depth = 0;
    for (; i < field_value.size(); ++i) {
      if (field_value[i] == '\\') {
        ++i;
      } else if (field_value[i] == '(') {
        ++depth;
      } else if (field_value[i] == ')' && --depth == 0) {
        ++i;
        break;
      }
    }
  }
  if (i >= field_value.size()) return {};
  std::string id;
  if (field_value[i] == '"') {
    for (++i; i < field_value.size() && field_value[i] != '"'; ++i) {
      if (field_value[i] == '\\' && i + 1 < field_value.size()) ++i;
      id += field_value[i];
    }
    return lowercase(id);
  }
  while (i < field_value.size() && is_token_char(field_value[i])) id += field_value[i++];
  return lowercase(id);
}

std::string remove_own_results(std::string_view message, std::string_view authserv_id) {
  const std::string ours = lowercase(authserv_id);
  const dkim::SplitMessage split = dkim::split_message(message);
  std::string out;
  out.reserve(message.size());
  std::size_t kept_from = 0;
  for (std::string_view field : split.fields) {
    std::string_view name = dkim::field_name(field);
    if (name.size() == field.size()) continue;  // no colon: not a field
    const std::size_t colon = name.size();
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (!iequals(name, "Authentication-Results")) continue;
    if (authserv_id_of(field.substr(colon + 1)) != ours) continue;
    // Drop the field with its CRLF.
    const std::size_t start = static_cast<std::size_t>(field.data() - message.data());
    out.append(message.substr(kept_from, start - kept_from));
    kept_from = std::min(message.size(), start + field.size() + 2);
  }
  out.append(message.substr(kept_from));
  return out;
}

}  // namespace rampart::mailauth
