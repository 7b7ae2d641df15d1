// DNS lookups for delivery through libunbound: DNSSEC-validating, with its own cache,
// one background worker thread for every lookup (none per lookup), its answers handed
// over on the resolver's executor and resumed on the caller's.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/config.h"
#include "base/result.h"

namespace rampart::dns {

enum class Type : std::uint16_t { A = 1, Ptr = 12, Mx = 15, Txt = 16, Aaaa = 28, Tlsa = 52 };

struct Answer {
  bool nxdomain = false;           // the name does not exist
  bool secure = false;             // validated by DNSSEC (data, or its proven absence)
  bool bogus = false;              // DNSSEC says it was tampered with or broken: never use it
  int rcode = 0;                   // 0 NOERROR, 2 SERVFAIL, ...
  std::vector<std::string> rdata;  // each record's data, wire format
  std::string why_bogus;
};

// An answer that can be used: the lookup worked, DNSSEC did not find it bogus, and the
// name exists (NOERROR) or is proven not to (NXDOMAIN).
bool answered(const Result<Answer>& answer);
// Each TXT record of an answer, its strings joined (RFC 7208 section 3.3).
std::vector<std::string> txt_records(const Answer& answer);

struct ResolverOptions {
  std::vector<Endpoint> forwarders;    // empty: /etc/resolv.conf
  std::filesystem::path trust_anchor;  // empty: the root key, when Debian's dns-root-data has it
};

class Resolver {
 public:
  // The resolver's work runs on `executor` (one thread's).
  static Result<std::unique_ptr<Resolver>> open(boost::asio::any_io_executor executor,
                                                const ResolverOptions& options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // One lookup, from any executor; TryLater when the resolver fails or takes over
  // 30 s.
  boost::asio::awaitable<Result<Answer>> query(std::string name, Type type);

 private:
  struct State;
  explicit Resolver(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace rampart::dns
