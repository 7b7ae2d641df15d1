// The MTA-STS policies (RFC 8461) of the domains mail goes to: looked up through the
// `_mta-sts` TXT record, fetched over HTTPS from https://mta-sts.DOMAIN/.well-known/
// mta-sts.txt with the certificate checked against the trust anchors, and cached in
// memory for the policy's max_age. A fresh record id refetches; a failed fetch keeps the
// cached policy while it lasts (section 5.1), so an attacker who blocks the fetch
// cannot downgrade a policy already seen.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "delivery/mta_sts.h"

namespace rampart::dns {
class Resolver;
}

namespace rampart::delivery {

struct StsLookup {
  std::optional<StsPolicy> policy;  // in force; nullopt: none
  // A record is published but no policy could be had: RFC 8460's
  // "sts-policy-fetch-error", "sts-policy-invalid" or "sts-webpki-invalid"; else empty.
  std::string failure;
  std::string detail;  // why, in words
};

class StsPolicies {
 public:
  // Runs on `executor` (one thread's); `tls` holds the trust anchors; `port` is 443
  // but for tests.
  StsPolicies(dns::Resolver& resolver, std::shared_ptr<boost::asio::ssl::context> tls,
              boost::asio::any_io_executor executor, std::uint16_t port = 443);

  // The policy in force for `domain` (lowercase), if any.
  boost::asio::awaitable<StsLookup> get(std::string domain);

 private:
  struct Cached {
    StsPolicy policy;
    std::string id;
    std::int64_t expires = 0;
  };
  boost::asio::awaitable<Result<StsPolicy>> fetch(std::string domain);

  dns::Resolver& resolver_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::any_io_executor executor_;
  std::uint16_t port_;
  std::map<std::string, Cached> cache_;
  // Domains being fetched, with the lookups waiting for that fetch: one fetch per
  // domain however many connections ask at once.
  std::map<std::string, std::vector<boost::asio::steady_timer*>> fetching_;
};

}  // namespace rampart::delivery
