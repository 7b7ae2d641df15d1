#include "dns/route.h"

#include <algorithm>
#include <random>

namespace rampart::dns {

namespace asio = boost::asio;

namespace {

// A bogus or failed answer must not be acted on.
std::string failure(const Result<Answer>& answer, const std::string& what) {
  if (!answer) return answer.error().detail;
  if (answer->bogus) return what + ": DNSSEC validation failed (" + answer->why_bogus + ")";
  if (answer->rcode != 0 && !answer->nxdomain) {
    return what + ": DNS error " + std::to_string(answer->rcode);
  }
  return {};
}

}  // namespace

asio::awaitable<Route> route(Resolver& resolver, std::string domain) {
  Route route;
  auto mx = co_await resolver.query(domain, Type::Mx);
  if (const std::string why = failure(mx, "MX of " + domain); !why.empty()) {
    route.detail = why;
    co_return route;
  }
  if (mx->nxdomain) {
    route.kind = Route::Kind::NoSuchDomain;
    co_return route;
  }
  route.mx_secure = mx->secure;
  std::vector<Mx> exchangers;
  for (const std::string& rdata : mx->rdata) {
    if (auto parsed = parse_mx(rdata)) exchangers.push_back(std::move(*parsed));
  }
  if (exchangers.size() == 1 && exchangers.front().host.empty()) {
    route.kind = Route::Kind::NullMx;
    co_return route;
  }
  // A null MX among others is ignored, as a root host cannot be reached.
  std::erase_if(exchangers, [](const Mx& mx) { return mx.host.empty(); });
  if (mx->rdata.empty()) {
    route.implicit = true;
    exchangers.push_back({0, domain});
  }
  // By preference, equal preferences in random order (RFC 5321 section 5.1).
  std::shuffle(exchangers.begin(), exchangers.end(), std::mt19937(std::random_device{}()));
  std::stable_sort(exchangers.begin(), exchangers.end(),
                   [](const Mx& a, const Mx& b) { return a.preference < b.preference; });
  std::string last_failure;
  for (const Mx& exchanger : exchangers) {
    Host host{.name = exchanger.host,
              .preference = exchanger.preference,
              .addresses = {},
              .secure = true};
    for (Type type : {Type::Aaaa, Type::A}) {
      auto addresses = co_await resolver.query(exchanger.host, type);
      if (const std::string why = failure(addresses, exchanger.host); !why.empty()) {
        last_failure = why;
        continue;
      }
      host.secure = host.secure && addresses->secure;
      for (const std::string& rdata : addresses->rdata) {
        auto text = type == Type::A ? parse_a(rdata) : parse_aaaa(rdata);
        if (text) host.addresses.push_back(std::move(*text));
      }
    }
    if (!host.addresses.empty()) route.hosts.push_back(std::move(host));
  }
  if (route.hosts.empty()) {
    route.detail = last_failure.empty() ? "no address for any host of " + domain : last_failure;
    co_return route;
  }
  route.kind = Route::Kind::Hosts;
  co_return route;
}

asio::awaitable<Result<TlsaSet>> tlsa(Resolver& resolver, std::string host) {
  auto answer = co_await resolver.query("_25._tcp." + host, Type::Tlsa);
  if (const std::string why = failure(answer, "TLSA of " + host); !why.empty()) {
    co_return fail(Errc::TryLater, why);
  }
  TlsaSet set{.secure = answer->secure, .records = {}};
  for (const std::string& rdata : answer->rdata) {
    if (auto parsed = parse_tlsa(rdata)) set.records.push_back(std::move(*parsed));
  }
  co_return set;
}

}  // namespace rampart::dns
