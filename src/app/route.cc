// `rampart route DOMAIN`: how mail for a domain would be routed, looked up as delivery
// looks it up (the [delivery] resolvers and trust anchor): MX hosts in order, their
// addresses, DNSSEC, and the TLSA records DANE would pin.
#include "dns/route.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/open.h"

namespace rampart::app {

namespace asio = boost::asio;

namespace {

const char* security(bool secure) { return secure ? "DNSSEC secure" : "DNSSEC insecure"; }

std::string hex(std::string_view bytes) {
  std::ostringstream out;
  for (unsigned char c : bytes) out << std::hex << std::setw(2) << std::setfill('0') << int{c};
  return out.str();
}

asio::awaitable<int> show(dns::Resolver& resolver, std::string domain) {
  const dns::Route route = co_await dns::route(resolver, domain);
  switch (route.kind) {
    case dns::Route::Kind::NullMx:
      std::cout << domain << ": null MX (RFC 7505): accepts no mail\n";
      co_return kExitFailure;
    case dns::Route::Kind::NoSuchDomain:
      std::cout << domain << ": no such domain\n";
      co_return kExitFailure;
    case dns::Route::Kind::TryLater:
      std::cout << domain << ": cannot be routed now: " << route.detail << "\n";
      co_return kExitFailure;
    case dns::Route::Kind::Hosts:
      break;
  }
  std::cout << domain << ": " << (route.implicit ? "no MX, the domain itself" : "MX") << ", "
            << security(route.mx_secure) << "\n";
  for (const dns::Host& host : route.hosts) {
    std::cout << "  " << host.preference << " " << host.name << " ";
    for (const std::string& address : host.addresses) std::cout << " " << address;
    std::cout << "  " << security(host.secure) << "\n";
    auto tlsa = co_await dns::tlsa(resolver, host.name);
    if (!tlsa) {
      std::cout << "    TLSA: " << tlsa.error().detail << "\n";
      continue;
    }
    for (const dns::Tlsa& record : tlsa->records) {
      std::cout << "    TLSA " << int{record.usage} << " " << int{record.selector} << " "
                << int{record.matching} << " " << hex(record.data) << "  " << security(tlsa->secure)
                << "\n";
    }
  }
  co_return kExitOk;
}

}  // namespace

int route_command(const std::filesystem::path& config_path, const std::string& domain) {
  auto config = load_config_or_report(config_path);
  if (!config) return kExitFailure;
  asio::io_context io;
  auto resolver = dns::Resolver::open(io.get_executor(),
                                      {config->delivery.resolvers, config->delivery.trust_anchor});
  if (!resolver) {
    std::cerr << "rampart: " << resolver.error().detail << "\n";
    return kExitFailure;
  }
  int code = kExitFailure;
  asio::co_spawn(io, show(**resolver, domain), [&](std::exception_ptr error, int result) {
    if (!error) code = result;
  });
  io.run();
  return code;
}

}  // namespace rampart::app
