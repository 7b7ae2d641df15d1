#include "http/target.h"

#include <optional>

#include "base/ascii.h"
#include "base/base64.h"
#include "base/utf8.h"

namespace rampart::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one path segment or query component. `in_path`: '/' may not appear encoded.
Result<std::string> decode(std::string_view text, bool in_path) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte <= 0x20 || byte >= 0x7f || byte == '\\' || byte == '#') {
      return fail(Errc::BadInput, "a byte a request target may not hold");
    }
    if (byte != '%') {
      out += static_cast<char>(byte);
      continue;
    }
    const int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return fail(Errc::BadInput, "a bad %-escape");
    }
    const auto decoded = static_cast<unsigned char>(high * 16 + low);
    if (decoded < 0x20 || decoded == 0x7f || decoded == '\\' || decoded == '%' ||
        (in_path && decoded == '/')) {
      return fail(Errc::BadInput, "an encoded byte a request target may not hold");
    }
    out += static_cast<char>(decoded);
    i += 2;
  }
  if (!is_valid_utf8(out)) return fail(Errc::BadInput, "a target that is not UTF-8");
  return out;
}

}  // namespace

Result<Target> parse_target(std::string_view raw) {
  if (raw.empty() || raw.front() != '/') return fail(Errc::BadInput, "not an origin-form target");
  if (raw.size() > 8192) return fail(Errc::TooBig, "target over 8 KiB");
  Target target;
  const auto question = raw.find('?');
  std::string_view path = raw.substr(0, question);
  if (question != std::string_view::npos) {
    target.query = std::string(raw.substr(question + 1));
    for (const char c : target.query) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte <= 0x20 || byte >= 0x7f || c == '#' || c == '\\') {
        return fail(Errc::BadInput, "a byte a query may not hold");
      }
    }
  }
  if (path.find(';') != std::string_view::npos) return fail(Errc::BadInput, "';' parameters");
  path.remove_prefix(1);
  if (!path.empty()) {
    if (path.back() == '/') path.remove_suffix(1);  // one trailing slash: the same resource
    for (;;) {
      const auto slash = path.find('/');
      const std::string_view raw_segment = path.substr(0, slash);
      if (raw_segment.empty()) return fail(Errc::BadInput, "an empty path segment");
      auto segment = decode(raw_segment, true);
      if (!segment) return tl::unexpected(segment.error());
      if (*segment == "." || *segment == "..") return fail(Errc::BadInput, "a dot segment");
      target.segments.push_back(std::move(*segment));
      if (slash == std::string_view::npos) break;
      path.remove_prefix(slash + 1);
    }
  }
  target.path = "/";
  for (std::size_t i = 0; i < target.segments.size(); ++i) {
    if (i > 0) target.path += '/';
    target.path += target.segments[i];
  }
  return target;
}

Result<std::string> query_value(std::string_view query, std::string_view name) {
  std::optional<std::string> found;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto equals = pair.find('=');
    auto key = decode(pair.substr(0, equals), false);
    if (!key) return tl::unexpected(key.error());
    if (*key == name) {
      if (found) return fail(Errc::BadInput, "query parameter " + std::string(name) + " twice");
      std::string raw_value(equals == std::string_view::npos ? "" : pair.substr(equals + 1));
      for (char& c : raw_value) {
        if (c == '+') c = ' ';
      }
      auto value = decode(raw_value, false);
      if (!value) return tl::unexpected(value.error());
      found = std::move(*value);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  if (!found) return fail(Errc::NotFound, "no query parameter " + std::string(name));
  return std::move(*found);
}

std::optional<Credentials> parse_credentials(std::string_view header) {
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() > kBearer.size() && iequals(header.substr(0, kBearer.size()), kBearer)) {
    std::string_view token = header.substr(kBearer.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.empty()) return std::nullopt;
    return Credentials{{}, std::string(token), true};
  }
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size() || !iequals(header.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  auto decoded = base64_decode(token);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1), false};
}

}  // namespace rampart::http
