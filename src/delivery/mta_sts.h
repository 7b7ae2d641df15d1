// MTA-STS (RFC 8461) and SMTP TLS reporting (RFC 8460).
//
// First, the policy each hosted domain publishes: TLS is required for mail to it,
// delivered to this server. Served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt
// (http/server.cc) and announced by the `_mta-sts` TXT record whose id changes with it
// (`rampart dns-records`).
//
// Then the pure parsers the delivery service uses for the domains it sends to: the
// `_mta-sts` and `_smtp._tls` TXT records, the HTTP response that carries a policy, the
// policy itself and its MX patterns. No I/O: bytes in, a value or nullopt out. The input
// is hostile and every parser is fuzzed (fuzz/mta_sts_fuzz.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"

namespace rampart::delivery {

// `hostname` is the MX the domains publish (the config's hostname).
inline std::string mta_sts_policy(std::string_view hostname) {
  return "version: STSv1\r\nmode: enforce\r\nmx: " + std::string(hostname) +
         "\r\nmax_age: 604800\r\n";
}

// The TXT record's id (RFC 8461 section 3.1: 1 to 32 letters and digits): the first 20
// hex digits of the policy's SHA-256, so it changes exactly when the policy does.
inline std::string mta_sts_id(std::string_view hostname) {
  return sha256_hex(mta_sts_policy(hostname)).substr(0, 20);
}

// RFC 8461 section 3.3 suggests 64 kilobytes at most for a policy; with 8 KiB of status
// line and headers, the most of a policy response we take. The caller stops reading
// past kMaxStsResponse bytes (parse_http_response refuses what is longer).
constexpr std::size_t kMaxStsPolicy = 64 * 1024;
constexpr std::size_t kMaxStsHead = 8 * 1024;
constexpr std::size_t kMaxStsResponse = kMaxStsPolicy + kMaxStsHead;
constexpr std::int64_t kMaxStsMaxAge = 31557600;  // RFC 8461 section 3.2: one year

struct StsPolicy {
  enum class Mode { Enforce, Testing, None };
  Mode mode = Mode::None;
  std::vector<std::string> mx;  // patterns, lowercase, e.g. "mail.example.com", "*.example.net"
  std::int64_t max_age = 0;     // seconds, at most kMaxStsMaxAge
};

// The policy body (RFC 8461 section 3.2), at most kMaxStsPolicy bytes: "key: value"
// fields, each ended by CRLF or LF (the last one may have no line end), with the
// section's ABNF taken literally: names are case-sensitive, no space before the colon,
// spaces and tabs after it and at the end of a line, no empty or indented line.
// "version: STSv1", "mode" and "max_age" (0 to kMaxStsMaxAge) must each appear, in any
// order, and "mx" at least once unless the mode is none; every "mx" must be a domain or
// "*." and a domain (RFC 5321 section 4.1.2). A field the RFC does not define is
// ignored if it is well-formed, and so is a repeat of version, mode or max_age (the
// first one counts). Nullopt when any of that fails.
std::optional<StsPolicy> parse_sts_policy(std::string_view body);

// RFC 8461 section 4.1: whether the MX host name `host` (any case, with or without the
// final dot) matches one of the policy's mx patterns. "*." matches exactly one
// leftmost label: "*.example.com" matches "mx1.example.com", not "a.b.example.com" nor
// "example.com". A `host` that is not a domain name matches nothing.
bool sts_mx_matches(const StsPolicy& policy, std::string_view host);

// The `_mta-sts` TXT record (RFC 8461 section 3.1), its strings already joined:
// "v=STSv1; id=20160831085700Z;" gives its id (1 to 32 letters and digits). Other
// well-formed "name=value" fields are ignored. Nullopt when the text breaks the
// section's ABNF or has no id; every "id" field must be a valid one, the first counts.
// The caller picks the one record to parse: of all the TXT records at `_mta-sts`, the
// RFC discards those that do not begin with "v=STSv1;" and requires exactly one left.
std::optional<std::string> parse_sts_record(std::string_view txt);

// The `_smtp._tls` TXT record (RFC 8460 section 3), its strings already joined:
// "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://example.com/tlsrpt" gives the rua
// URIs in order (at least one), each an RFC 3986 URI of any scheme (lowercased) with no
// ',', '!' or ';' in it, checked for its characters rather than its whole structure: the
// caller uses those it supports ("mailto" and "https"). Other well-formed fields are
// ignored. Nullopt when the text breaks the ABNF or has no rua; every "rua" field must
// be a valid list, the first counts. The caller picks the one record to parse as for
// parse_sts_record, by "v=TLSRPTv1;".
std::optional<std::vector<std::string>> parse_tlsrpt_record(std::string_view txt);

// The answer to the policy fetch: an HTTP/1.0 GET read until the server closes, so no
// chunked encoding (a response with Transfer-Encoding is refused). The status line
// ("HTTP/1.x", three digits, a reason), header fields (names case-insensitive; a folded
// line is refused), every line ended by CRLF, then the body. A Content-Length is
// honoured: a shorter body is invalid, a longer one is cut. Nullopt when malformed, when
// the status line and headers pass kMaxStsHead, the body kMaxStsPolicy, or `bytes`
// kMaxStsResponse. RFC 8461 section 3.3 is the caller's to check: status 200, no
// redirect followed, Content-Type text/plain.
struct HttpResponse {
  int status = 0;
  std::string content_type;  // the media type, lowercase, no parameters: "text/plain"; or ""
  std::string body;
  bool has_location = false;  // a Location field was sent (a redirect)
};
std::optional<HttpResponse> parse_http_response(std::string_view bytes);

}  // namespace rampart::delivery
