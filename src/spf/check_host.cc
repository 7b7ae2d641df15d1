#include "spf/check_host.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "base/ascii.h"
#include "dns/rdata.h"
#include "spf/address.h"
#include "spf/macro.h"
#include "spf/record.h"

namespace rampart::spf {

namespace asio = boost::asio;

// The coroutines of this file are written in the plain form src/pop3/connection.cc
// explains (GCC 12 builds the frames of compact co_await forms wrongly): every co_await
// is a statement of its own whose value goes to a named local, with named locals as
// arguments.

namespace {

constexpr std::size_t kMaxExplanationBytes = 512;

// What one check_host() carries through its includes and redirects.
struct Evaluation {
  SpfLookup& lookup;
  const SpfRequest& request;
  MacroValues values;  // `domain` set for each record where it is used
  std::chrono::steady_clock::time_point deadline;
  int dns_terms = 0;
  int void_lookups = 0;
};

// One query's records, or why there are none.
struct Fetched {
  enum class Status { Records, Empty, Error } status = Status::Empty;
  std::vector<std::string> rdata;
  std::string why;  // Error: for logs
};

// A mechanism's verdict on <ip>, or the error that ends the evaluation.
enum class Match { Yes, No, TempError, PermError };
struct Step {
  Match match = Match::No;
  std::string reason;
};

// What evaluating one domain's record gave.
struct Outcome {
  Verdict verdict = Verdict::Neutral;
  std::string mechanism;
  std::string reason;
  // A fail's exp= (from the record that decided) and the <domain> it is expanded for.
  std::optional<std::string> explanation_spec;
  std::string explanation_domain;
};

Outcome error(Verdict verdict, std::string reason) {
  return Outcome{.verdict = verdict, .reason = std::move(reason)};
}

std::string_view without_final_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// A name DNS can carry as text: labels of 1 to 63 bytes, 253 in all, printable ASCII
// but a backslash (the resolver would read escapes in it).
bool is_queryable(std::string_view name) {
  if (name.empty() || name.size() > kMaxDomainBytes) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > 63) {
      return false;
    }
  }
  return label > 0;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Section 4.3: a <domain> check_host() can look up: queryable, of two labels or more,
// the last one a toplabel (not all digits; letters, digits and inner hyphens).
bool is_checkable_domain(std::string_view domain) {
  if (!is_queryable(domain)) return false;
  const std::size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view top = domain.substr(dot + 1);
  return std::all_of(top.begin(), top.end(), [](char c) { return is_alnum(c) || c == '-'; }) &&
         is_alnum(top.front()) && is_alnum(top.back()) &&
         !std::all_of(top.begin(), top.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// `name` is `parent` or below it, in any case.
bool is_within(std::string_view name, std::string_view parent) {
  if (name.size() < parent.size() || !iequals(name.substr(name.size() - parent.size()), parent)) {
    return false;
  }
  return name.size() == parent.size() || name[name.size() - parent.size() - 1] == '.';
}

asio::awaitable<Fetched> fetch(Evaluation& e, std::string name, dns::Type type) {
  Fetched fetched;
  if (!is_queryable(name)) {
    co_return fetched;  // RFC 7208 section 4.8 leaves it undefined: as NXDOMAIN
  }
  if (std::chrono::steady_clock::now() > e.deadline) {
    fetched.status = Fetched::Status::Error;
    fetched.why = "time limit reached before looking up " + name;
    co_return fetched;
  }
  const std::string query_name = name;
  const dns::Type query_type = type;
  Result<dns::Answer> answer = co_await e.lookup(query_name, query_type);
  if (!answer) {
    fetched.status = Fetched::Status::Error;
    fetched.why = "DNS error for " + name + ": " + answer.error().detail;
  } else if (answer->bogus) {
    fetched.status = Fetched::Status::Error;
    fetched.why = "DNSSEC validation failed for " + name;
  } else if (answer->rcode != 0 && answer->rcode != 3 && !answer->nxdomain) {
    fetched.status = Fetched::Status::Error;
    fetched.why = "DNS error " + std::to_string(answer->rcode) + " for " + name;
  } else if (!answer->nxdomain && answer->rcode == 0 && !answer->rdata.empty()) {
    fetched.status = Fetched::Status::Records;
    fetched.rdata = std::move(answer->rdata);
  }
  co_return fetched;
}

// Whether one of `name`'s addresses of <ip>'s family is <ip> (section 5.5); a DNS
// error skips the name.
asio::awaitable<bool> validates(Evaluation& e, std::string name) {
  const Address& ip = e.values.ip;
  const dns::Type type = ip.v6 ? dns::Type::Aaaa : dns::Type::A;
  Fetched addresses = co_await fetch(e, name, type);
  const std::string_view wanted(reinterpret_cast<const char*>(ip.bytes.data()), ip.v6 ? 16 : 4);
  const bool found =
      std::find(addresses.rdata.begin(), addresses.rdata.end(), wanted) != addresses.rdata.end();
  co_return found;
}

// The first SpfLimits::names PTR names of <ip>; `empty` set when there were none (a
// void lookup) and not for a DNS error.
asio::awaitable<std::vector<std::string>> ptr_names(Evaluation& e, bool& empty) {
  const std::string reverse = reverse_name(e.values.ip);
  const dns::Type type = dns::Type::Ptr;
  Fetched answer = co_await fetch(e, reverse, type);
  empty = answer.status == Fetched::Status::Empty;
  std::vector<std::string> names;
  for (const std::string& rdata : answer.rdata) {
    if (names.size() == static_cast<std::size_t>(e.request.limits.names)) break;
    if (auto name = dns::parse_ptr(rdata)) names.push_back(std::move(*name));
  }
  co_return names;
}

// %{p} (section 7.3): a validated name of <ip>, `domain` itself or a subdomain of it
// first; "unknown" when none validates.
asio::awaitable<std::string> validated_name(Evaluation& e, std::string domain) {
  bool empty = false;
  std::vector<std::string> names = co_await ptr_names(e, empty);
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    auto rank = [&](const std::string& name) {
      return iequals(name, domain) ? 0 : is_within(name, domain) ? 1 : 2;
    };
    return rank(a) < rank(b);
  });
  for (const std::string& name : names) {
    const std::string candidate = name;
    const bool valid = co_await validates(e, candidate);
    if (valid) {
      co_return candidate;
    }
  }
  co_return std::string("unknown");
}

// The <target-name> of a domain-spec for a record of `domain` (`domain` itself when
// the spec is empty).
struct Target {
  Match match = Match::Yes;  // Yes: `name` holds it; else the error
  std::string name;
  std::string reason;
};

asio::awaitable<Target> target_name(Evaluation& e, std::string spec, std::string domain) {
  Target target;
  if (spec.empty()) {
    target.name = domain;
    co_return target;
  }
  MacroValues values = e.values;
  values.domain = domain;
  if (uses_validated_name(spec)) {
    // Section 4.6.4: the PTR lookup of %{p} counts toward the limit of 10.
    if (++e.dns_terms > e.request.limits.dns_terms) {
      target.match = Match::PermError;
      target.reason = "over the DNS lookup limit at %{p} in " + spec;
      co_return target;
    }
    std::string name = co_await validated_name(e, domain);
    values.validated_name = name;
  }
  Result<std::string> expanded = expand_domain_spec(spec, values);
  if (!expanded) {
    target.match = Match::PermError;
    target.reason = expanded.error().detail + " in " + spec;
    co_return target;
  }
  target.name = std::move(*expanded);
  co_return target;
}

bool over_void_limit(Evaluation& e) { return ++e.void_lookups > e.request.limits.void_lookups; }

bool is_dns_term(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::Include:
    case Mechanism::A:
    case Mechanism::Mx:
    case Mechanism::Ptr:
    case Mechanism::Exists:
      return true;
    case Mechanism::All:
    case Mechanism::Ip4:
    case Mechanism::Ip6:
      return false;
  }
  return false;
}

Verdict verdict_of(Qualifier qualifier) {
  switch (qualifier) {
    case Qualifier::Pass:
      return Verdict::Pass;
    case Qualifier::Fail:
      return Verdict::Fail;
    case Qualifier::SoftFail:
      return Verdict::SoftFail;
    case Qualifier::Neutral:
      return Verdict::Neutral;
  }
  return Verdict::Neutral;
}

asio::awaitable<Outcome> evaluate(Evaluation& e, std::string domain);

// Whether any of `addresses` (A or AAAA rdata) holds <ip> within the directive's CIDR.
bool any_address_matches(const Evaluation& e, const std::vector<std::string>& addresses,
                         const Directive& directive) {
  const Address& ip = e.values.ip;
  for (const std::string& rdata : addresses) {
    if (rdata.size() != (ip.v6 ? 16u : 4u)) continue;
    Address address{.v6 = ip.v6, .bytes = {}};
    std::copy(rdata.begin(), rdata.end(), address.bytes.begin());
    if (in_network(ip, address, ip.v6 ? directive.cidr6 : directive.cidr4)) return true;
  }
  return false;
}

Step dns_failure(const Fetched& fetched) { return Step{Match::TempError, fetched.why}; }
Step void_limit(const std::string& term) {
  return Step{Match::PermError, "more than the allowed void lookups at " + term};
}

asio::awaitable<Step> match_mx(Evaluation& e, std::string target, const Directive& directive) {
  const dns::Type mx_type = dns::Type::Mx;
  Fetched mx = co_await fetch(e, target, mx_type);
  if (mx.status == Fetched::Status::Error) {
    co_return dns_failure(mx);
  }
  if (mx.status == Fetched::Status::Empty) {
    co_return over_void_limit(e) ? void_limit(directive.text) : Step{};
  }
  // Section 4.6.4: more than 10 MX names is a permerror.
  if (mx.rdata.size() > static_cast<std::size_t>(e.request.limits.names)) {
    co_return Step{Match::PermError, "more than 10 MX names for " + target};
  }
  // Section 5.4: no implicit MX; a null MX (RFC 7505) names no host.
  const dns::Type type = e.values.ip.v6 ? dns::Type::Aaaa : dns::Type::A;
  for (const std::string& rdata : mx.rdata) {
    std::optional<dns::Mx> exchanger = dns::parse_mx(rdata);
    if (!exchanger || exchanger->host.empty()) continue;
    const std::string host = exchanger->host;
    Fetched addresses = co_await fetch(e, host, type);
    if (addresses.status == Fetched::Status::Error) {
      co_return dns_failure(addresses);
    }
    if (any_address_matches(e, addresses.rdata, directive)) {
      co_return Step{Match::Yes, {}};
    }
  }
  co_return Step{};
}

asio::awaitable<Step> match_ptr(Evaluation& e, std::string target, const Directive& directive) {
  bool empty = false;
  std::vector<std::string> names = co_await ptr_names(e, empty);
  // Section 5.5: a DNS error on the PTR lookup is no match, not a temperror.
  if (empty && over_void_limit(e)) {
    co_return void_limit(directive.text);
  }
  const std::string parent(without_final_dot(target));
  for (const std::string& name : names) {
    if (!is_within(name, parent)) continue;  // only names that could match need checking
    const std::string candidate = name;
    const bool valid = co_await validates(e, candidate);
    if (valid) {
      co_return Step{Match::Yes, {}};
    }
  }
  co_return Step{};
}

asio::awaitable<Step> match_include(Evaluation& e, std::string target) {
  Outcome included = co_await evaluate(e, target);
  // Section 5.2's table.
  switch (included.verdict) {
    case Verdict::Pass:
      co_return Step{Match::Yes, {}};
    case Verdict::Fail:
    case Verdict::SoftFail:
    case Verdict::Neutral:
      co_return Step{};
    case Verdict::TempError:
      co_return Step{Match::TempError, included.reason};
    case Verdict::PermError:
      co_return Step{Match::PermError, included.reason};
    case Verdict::None:
      co_return Step{Match::PermError, "include of " + target + ", which has no SPF record"};
  }
  co_return Step{};
}

asio::awaitable<Step> match(Evaluation& e, const Directive& directive, std::string domain) {
  const Address& ip = e.values.ip;
  switch (directive.mechanism) {
    case Mechanism::All:
      co_return Step{Match::Yes, {}};
    case Mechanism::Ip4:
    case Mechanism::Ip6: {
      const int prefix = directive.mechanism == Mechanism::Ip4 ? directive.cidr4 : directive.cidr6;
      co_return Step{in_network(ip, directive.network, prefix) ? Match::Yes : Match::No, {}};
    }
    case Mechanism::Include:
    case Mechanism::A:
    case Mechanism::Mx:
    case Mechanism::Ptr:
    case Mechanism::Exists:
      break;
  }
  const std::string spec = directive.domain_spec;
  Target target = co_await target_name(e, spec, domain);
  if (target.match != Match::Yes) {
    co_return Step{target.match, target.reason};
  }
  const std::string name(without_final_dot(target.name));
  if (directive.mechanism == Mechanism::Include) {
    Step step = co_await match_include(e, name);
    co_return step;
  }
  if (directive.mechanism == Mechanism::Mx) {
    Step step = co_await match_mx(e, name, directive);
    co_return step;
  }
  if (directive.mechanism == Mechanism::Ptr) {
    Step step = co_await match_ptr(e, name, directive);
    co_return step;
  }
  // a: the client's family; exists: always A (section 5.7).
  const bool exists = directive.mechanism == Mechanism::Exists;
  const dns::Type type = !exists && ip.v6 ? dns::Type::Aaaa : dns::Type::A;
  Fetched addresses = co_await fetch(e, name, type);
  if (addresses.status == Fetched::Status::Error) {
    co_return dns_failure(addresses);
  }
  if (addresses.status == Fetched::Status::Empty) {
    co_return over_void_limit(e) ? void_limit(directive.text) : Step{};
  }
  if (exists || any_address_matches(e, addresses.rdata, directive)) {
    co_return Step{Match::Yes, {}};
  }
  co_return Step{};
}

asio::awaitable<Outcome> evaluate(Evaluation& e, std::string domain) {
  if (!is_checkable_domain(domain)) {
    co_return error(Verdict::None, "not a domain SPF can check: " + domain);
  }
  // Sections 4.4 and 4.5: the TXT records, exactly one of them an SPF record.
  const dns::Type type = dns::Type::Txt;
  Fetched txt = co_await fetch(e, domain, type);
  if (txt.status == Fetched::Status::Error) {
    co_return error(Verdict::TempError, txt.why);
  }
  std::vector<std::string> records;
  for (const std::string& rdata : txt.rdata) {
    std::optional<std::string> text = dns::parse_txt(rdata);
    if (text && is_spf_record(*text)) records.push_back(std::move(*text));
  }
  if (records.empty()) {
    co_return error(Verdict::None, "no SPF record at " + domain);
  }
  if (records.size() > 1) {
    co_return error(Verdict::PermError, "more than one SPF record at " + domain);
  }
  Result<Record> record = parse_record(records.front());
  if (!record) {
    co_return error(Verdict::PermError, record.error().detail + " at " + domain);
  }

  for (const Directive& directive : record->directives) {
    if (is_dns_term(directive.mechanism) && ++e.dns_terms > e.request.limits.dns_terms) {
      co_return error(Verdict::PermError,
                      "over the DNS lookup limit at " + directive.text + " in " + domain);
    }
    Step step = co_await match(e, directive, domain);
    if (step.match == Match::TempError) {
      co_return error(Verdict::TempError, directive.text + " in " + domain + ": " + step.reason);
    }
    if (step.match == Match::PermError) {
      co_return error(Verdict::PermError, directive.text + " in " + domain + ": " + step.reason);
    }
    if (step.match == Match::Yes) {
      Outcome outcome{.verdict = verdict_of(directive.qualifier),
                      .mechanism = directive.text,
                      .reason = directive.text + " matched in " + domain};
      if (outcome.verdict == Verdict::Fail) {
        outcome.explanation_spec = record->explanation;
        outcome.explanation_domain = domain;
      }
      co_return outcome;
    }
  }
  if (!record->redirect) {
    co_return error(Verdict::Neutral, "no mechanism matched in " + domain);
  }
  // Section 6.1: the redirect's record decides, its exp= with it; none is a permerror.
  if (++e.dns_terms > e.request.limits.dns_terms) {
    co_return error(Verdict::PermError, "over the DNS lookup limit at redirect in " + domain);
  }
  const std::string spec = *record->redirect;
  Target target = co_await target_name(e, spec, domain);
  if (target.match != Match::Yes) {
    co_return error(Verdict::PermError, "redirect=" + spec + ": " + target.reason);
  }
  const std::string next(without_final_dot(target.name));
  Outcome outcome = co_await evaluate(e, next);
  if (outcome.verdict == Verdict::None) {
    co_return error(Verdict::PermError, "redirect to " + next + ", which has no SPF record");
  }
  co_return outcome;
}

// Printable ASCII only (the explanation goes into an SMTP reply), at most 512 bytes.
std::string printable(std::string text) {
  for (char& c : text) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (text.size() > kMaxExplanationBytes) text.resize(kMaxExplanationBytes);
  return text;
}

// Section 6.2: the exp= TXT record, expanded, when there is exactly one and it is a
// valid ASCII explain-string; otherwise the default.
asio::awaitable<std::string> explain(Evaluation& e, const Outcome& outcome) {
  MacroValues values = e.values;
  values.domain = outcome.explanation_domain;
  std::string text = e.request.default_explanation;
  if (outcome.explanation_spec) {
    const std::string spec = *outcome.explanation_spec;
    if (uses_validated_name(spec)) {
      const std::string domain = values.domain;
      std::string name = co_await validated_name(e, domain);
      values.validated_name = name;
    }
    Result<std::string> target = expand_domain_spec(spec, values);
    if (target) {
      const std::string name(without_final_dot(*target));
      const dns::Type type = dns::Type::Txt;
      Fetched txt = co_await fetch(e, name, type);
      std::optional<std::string> record;
      if (txt.rdata.size() == 1) record = dns::parse_txt(txt.rdata.front());
      if (record && is_ascii(*record) && is_valid_macro_text(*record, MacroText::Explanation)) {
        text = std::move(*record);
      }
    }
  }
  if (text.empty()) {
    co_return text;
  }
  if (uses_validated_name(text) && values.validated_name == "unknown") {
    const std::string domain = values.domain;
    std::string name = co_await validated_name(e, domain);
    values.validated_name = name;
  }
  Result<std::string> expanded = expand_explanation(text, values);
  co_return expanded ? printable(std::move(*expanded)) : std::string();
}

}  // namespace

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::None:
      return "none";
    case Verdict::Neutral:
      return "neutral";
    case Verdict::Pass:
      return "pass";
    case Verdict::Fail:
      return "fail";
    case Verdict::SoftFail:
      return "softfail";
    case Verdict::TempError:
      return "temperror";
    case Verdict::PermError:
      return "permerror";
  }
  return "none";
}

asio::awaitable<SpfResult> check_host(SpfLookup lookup, SpfRequest request) {
  SpfResult result;
  // Section 4.3: <sender> is MAIL FROM, or postmaster@HELO; an empty local-part is
  // "postmaster".
  std::string sender = request.mail_from.empty() ? "postmaster@" + request.helo : request.mail_from;
  const std::size_t at = sender.rfind('@');
  std::string local_part = at == std::string::npos ? "" : sender.substr(0, at);
  const std::string domain(without_final_dot(at == std::string::npos
                                                 ? std::string_view(sender)
                                                 : std::string_view(sender).substr(at + 1)));
  if (local_part.empty()) {
    local_part = "postmaster";
    sender = "postmaster@" + domain;
  }
  result.domain = domain;
  std::optional<Address> ip = parse_address(request.client_ip, true);
  if (!ip) {
    result.reason = "no IP address to check: " + request.client_ip;
    co_return result;
  }
  Evaluation e{
      .lookup = lookup,
      .request = request,
      .values = MacroValues{.sender = sender,
                            .local_part = local_part,
                            .sender_domain = domain,
                            .domain = domain,
                            .ip = *ip,
                            .helo = request.helo,
                            .receiver = request.receiver.empty() ? "unknown" : request.receiver,
                            .timestamp = request.timestamp},
      .deadline = std::chrono::steady_clock::now() + request.limits.time};
  const std::string start = domain;
  Outcome outcome = co_await evaluate(e, start);
  result.verdict = outcome.verdict;
  result.mechanism = outcome.mechanism;
  result.reason = outcome.reason;
  if (outcome.verdict == Verdict::Fail) {
    std::string explanation = co_await explain(e, outcome);
    result.explanation = explanation;
  }
  co_return result;
}

}  // namespace rampart::spf
