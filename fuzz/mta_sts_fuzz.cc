// MTA-STS and TLS-RPT from the network (RFC 8461, RFC 8460): a policy response from any
// HTTPS server a TXT record names, and the TXT records themselves. Every parser takes
// any bytes, and what it gives back keeps within the grammar and the limits.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "delivery/mta_sts.h"

namespace {

using rampart::delivery::StsPolicy;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool has_upper(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void check_policy(const StsPolicy& policy) {
  check(policy.max_age >= 0 && policy.max_age <= rampart::delivery::kMaxStsMaxAge);
  check(!policy.mx.empty() || policy.mode == StsPolicy::Mode::None);
  for (const std::string& pattern : policy.mx) {
    check(!pattern.empty() && !has_upper(pattern));
    // Every pattern matches a host of its own shape, with or without the final dot.
    const bool wildcard = pattern.starts_with("*.");
    const std::string host = wildcard ? "mx" + pattern.substr(1) : pattern;
    if (host.size() > 253) continue;  // a wildcard over a 252-byte domain matches nothing
    check(rampart::delivery::sts_mx_matches(policy, host));
    check(rampart::delivery::sts_mx_matches(policy, host + "."));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (auto response = rampart::delivery::parse_http_response(bytes)) {
    check(response->status >= 0 && response->status <= 999);
    check(response->body.size() <= rampart::delivery::kMaxStsPolicy);
    check(bytes.find(response->body) != bytes.npos);
    check(response->content_type.find(';') == std::string::npos &&
          !has_upper(response->content_type));
    if (auto policy = rampart::delivery::parse_sts_policy(response->body)) check_policy(*policy);
  }

  if (auto policy = rampart::delivery::parse_sts_policy(bytes)) check_policy(*policy);

  const StsPolicy fixed{.mode = StsPolicy::Mode::Enforce,
                        .mx = {"mx.example.com", "*.example.net"}};
  if (rampart::delivery::sts_mx_matches(fixed, bytes)) {
    check(bytes.size() <= 254 && bytes.find('*') == bytes.npos);
  }

  if (auto id = rampart::delivery::parse_sts_record(bytes)) {
    check(bytes.starts_with("v=STSv1") && !id->empty() && id->size() <= 32);
    check(bytes.find(*id) != bytes.npos);
  }

  if (auto uris = rampart::delivery::parse_tlsrpt_record(bytes)) {
    check(bytes.starts_with("v=TLSRPTv1") && !uris->empty());
    for (const std::string& uri : *uris) {
      check(uri.find(':') != std::string::npos && uri.size() <= bytes.size());
      check(uri.find_first_of(",;! \t") == std::string::npos);
    }
  }
  return 0;
}
