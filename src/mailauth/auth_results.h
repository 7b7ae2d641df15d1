// The Authentication-Results header field (RFC 8601): what this server found about a
// message's sender (SPF, DKIM, DMARC, ARC), added at the top for the user's client and
// for filters; and the removal of such fields claiming to be ours that arrive from
// outside (section 5: a forgery otherwise trusted). Pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::mailauth {

// One method's result: "spf=pass smtp.mailfrom=a@example.org".
struct MethodResult {
  std::string method;  // "spf", "dkim", "dmarc", "arc", "iprev"
  std::string result;  // "pass", "fail", "none", ...
  std::string reason;  // a comment for people, or empty
  std::vector<std::pair<std::string, std::string>> properties;  // "smtp.mailfrom" -> "a@b"
};

// "Authentication-Results: ID;\r\n\tspf=pass ...;\r\n\tdkim=pass ...\r\n", or "ID; none"
// when there are no results. Values that are not RFC 8601 tokens or addresses are
// written as quoted strings; control characters (CR and LF among them) become spaces,
// so nothing from a message can start a field of its own.
std::string authentication_results(std::string_view authserv_id,
                                   const std::vector<MethodResult>& results);

// The authserv-id an Authentication-Results field's value names (comments and white
// space skipped; a quoted string unquoted), lowercase; empty when there is none.
std::string authserv_id_of(std::string_view field_value);

// `message` without its Authentication-Results fields whose authserv-id is
// `authserv_id` (compared without case). Other fields and the body are kept byte for
// byte.
std::string remove_own_results(std::string_view message, std::string_view authserv_id);

}  // namespace rampart::mailauth
