// Where mail for a domain goes (RFC 5321 section 5.1): its MX hosts by preference, equal
// ones in random order, or the domain itself when it has no MX; a null MX (RFC 7505)
// or a domain that does not exist is a permanent failure. Each host's addresses come
// IPv6 first, then IPv4, to be tried in that order.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "dns/rdata.h"
#include "dns/resolver.h"

namespace rampart::dns {

struct Host {
  std::string name;
  std::uint16_t preference = 0;
  std::vector<std::string> addresses;  // IPv6, then IPv4
  bool secure = false;                 // its addresses validated by DNSSEC
};

struct Route {
  enum class Kind {
    Hosts,         // deliver to `hosts`, in order
    NullMx,        // the domain accepts no mail (permanent)
    NoSuchDomain,  // NXDOMAIN (permanent)
    TryLater,      // the lookups failed, or DNSSEC found them bogus
  };
  Kind kind = Kind::TryLater;
  bool mx_secure = false;  // the MX answer (or its absence) validated by DNSSEC
  bool implicit = false;   // no MX: the domain is its own host
  std::vector<Host> hosts;
  std::string detail;  // why, for TryLater
};

boost::asio::awaitable<Route> route(Resolver& resolver, std::string domain);

// The TLSA records of a host's SMTP service (_25._tcp.HOST, RFC 7672 section 2.2), with
// whether they were validated; only validated ones may be used.
struct TlsaSet {
  bool secure = false;
  std::vector<Tlsa> records;
};
boost::asio::awaitable<Result<TlsaSet>> tlsa(Resolver& resolver, std::string host);

}  // namespace rampart::dns
