// The MTA-STS policy (RFC 8461) each hosted domain publishes: TLS is required for mail
// to it, delivered to this server. Served at https://mta-sts.DOMAIN/.well-known/
// mta-sts.txt (http/server.cc) and announced by the `_mta-sts` TXT record whose id
// changes with it (`rampart dns-records`).
#pragma once

#include <string>
#include <string_view>

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

}  // namespace rampart::delivery
