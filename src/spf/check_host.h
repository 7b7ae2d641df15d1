// SPF, the Sender Policy Framework (RFC 7208): whether a client address may send mail
// for a domain, by the domain's SPF record. check_host() follows sections 4 and 5:
// record lookup and selection (4.4, 4.5: none without a record, permerror with more
// than one), the record parsed whole first (4.6, record.h), mechanisms in order, include
// and redirect recursion (5.2, 6.1), exp= (6.2) and macros (7, macro.h).
//
// Used for both identities of section 2: for MAIL FROM, `mail_from` is the reverse-path;
// for HELO (and for MAIL FROM:<>, section 2.4) it is empty and the sender becomes
// postmaster@HELO.
//
// Limits (section 4.6.4), over the whole evaluation, includes and redirects included:
// - 10 terms that cause DNS lookups (include, a, mx, ptr, exists, redirect); the %{p}
//   macro's PTR lookup counts as one more. The 11th is a permerror.
// - 2 void lookups (no records, or NXDOMAIN); the 3rd is a permerror. Counted once per
//   term, by its first query (the MX query of mx, the PTR query of ptr); an MX host
//   without an address of the client's family is common and is not a void lookup.
// - mx: more than 10 MX names is a permerror; ptr and %{p}: only the first 10 PTR
//   names are looked at.
// - SpfLimits::time: a lookup is not started once it has passed (temperror); each
//   lookup is bounded by the resolver (30 s).
// - exp= lookups come after the result and count toward none of these.
//
// Names: a target-name that DNS cannot carry (an empty label, a label over 63 bytes,
// a byte outside printable ASCII, a backslash) is not asked for and is treated as
// NXDOMAIN; RFC 7208 leaves that case undefined (4.8).
//
// The "p" macro (section 7.3): only when a domain-spec or explanation uses it, the PTR
// names of <ip> are looked up and checked as for ptr (5.5), the <domain> itself or a
// subdomain of it preferred; "unknown" when none validates or DNS fails. No other
// lookup is made for macros.
//
// Not done here: the obsolete SPF RR type (RFC 7208 asks for TXT only, section 3.1), a
// clock (%{t} is SpfRequest::timestamp), the Received-SPF and Authentication-Results
// fields (the SMTP session's, from SpfResult).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "dns/resolver.h"

namespace rampart::spf {

// One DNS lookup: production passes dns::Resolver::query; tests pass a fake. Error
// (any Errc) and an answer with rcode other than 0 and 3, or DNSSEC-bogus, are DNS
// errors (temperror where section 5 says so).
using SpfLookup =
    std::function<boost::asio::awaitable<Result<dns::Answer>>(std::string name, dns::Type type)>;

struct SpfLimits {
  int dns_terms = 10;
  int void_lookups = 2;
  int names = 10;  // MX names and PTR names
  std::chrono::seconds time{20};
};

struct SpfRequest {
  std::string client_ip;  // "192.0.2.1" or "2001:db8::1"; ::ffff:192.0.2.1 is IPv4
  std::string mail_from;  // local-part@domain, or empty: postmaster@helo (section 2.4)
  std::string helo;
  std::string receiver;        // the receiving host's name, for %{r}; empty: "unknown"
  std::int64_t timestamp = 0;  // Unix seconds, for %{t}
  // Given as the explanation of a fail without a usable exp= (section 6.2); an
  // explain-string, macros expanded. Empty: no explanation.
  std::string default_explanation = "%{c} is not one of %{d}'s designated mail servers.";
  SpfLimits limits;
};

enum class Verdict { None, Neutral, Pass, Fail, SoftFail, TempError, PermError };

// "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" (section 2.6),
// the words of Received-SPF and Authentication-Results.
const char* verdict_name(Verdict verdict);

struct SpfResult {
  Verdict verdict = Verdict::None;
  // For a fail only: from the deciding record's exp= when present and usable, else the
  // default. Printable ASCII, at most 512 bytes; it comes from a third party.
  std::string explanation;
  std::string domain;     // the <domain> checked: the sender's domain or the HELO name
  std::string mechanism;  // the term that decided, as written (in the top record, or
                          // the record a redirect led to); empty when none did
  std::string reason;     // for logs: what matched or went wrong, and where
};

// Evaluates check_host(<ip>, <domain>, <sender>) for `request`. Runs on the caller's
// executor; `lookup` is called one query at a time.
boost::asio::awaitable<SpfResult> check_host(SpfLookup lookup, SpfRequest request);

}  // namespace rampart::spf
