// The request target, decoded and normalised once (docs/architecture.md, rule 1):
// routing, authorisation and the handler all use this one result, and nothing
// rewrites it afterwards. Anything that could be read two ways is refused, so that no
// two components can disagree about which resource a request names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace rampart::http {

struct Target {
  std::vector<std::string> segments;  // decoded path segments: "/jmap/api" -> {"jmap", "api"}
  std::string path;                   // "/" + segments joined by "/"
  std::string query;                  // after '?', still encoded (see query_value)
};

// An origin-form target ("/path?query"). BadInput for: anything but origin-form, a
// fragment, an encoded slash or backslash, a raw backslash, %00 or any control byte,
// "." or ".." segments (raw or encoded), ';' parameters, empty segments ("//", but a
// single trailing slash is allowed and dropped), double encoding (a '%' left after
// decoding), bad %-escapes, and decoded bytes that are not UTF-8.
Result<Target> parse_target(std::string_view raw);

// The decoded value of `name` in a query ("a=1&b=x%20y"); the same refusals as the
// path, except that '/' is allowed. NotFound when absent; BadInput when given twice.
Result<std::string> query_value(std::string_view query, std::string_view name);

// An Authorization header: "Basic base64(user:password)" or "Bearer <token>"
// (scheme names in any case); nullopt for anything else or a malformed value.
struct Credentials {
  std::string user, secret;
  bool bearer = false;
};
std::optional<Credentials> parse_credentials(std::string_view header);

}  // namespace rampart::http
