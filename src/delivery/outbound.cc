#include "delivery/outbound.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "base/address.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "base/log.h"
#include "delivery/delivery.h"
#include "delivery/dsn.h"
#include "delivery/sts_policies.h"
#include "delivery/tls_report.h"
#include "dns/route.h"
#include "net/offload.h"
#include "smtp/client.h"

namespace rampart::delivery {

namespace asio = boost::asio;
using State = store::QueuedRecipient::State;
using Level = smtp::TlsPolicy::Level;

namespace {

// TLS outcomes counted in memory between writes to the store: at most this many
// distinct ones (destination, policy, outcome, host); more are dropped, and logged.
constexpr std::size_t kMaxTlsCounts = 10'000;
// Rows of ended reporting periods read at once.
constexpr std::size_t kMaxTlsRows = 100'000;

// Entries taken from the queue per pass, and in flight at most: what the service
// holds stays small however long the queue grows.
constexpr std::size_t kBatch = 100;
constexpr std::size_t kMaxInFlight = 1000;
// A connection carries at most this many messages, and waits this long for another
// before it says QUIT (as Postfix's connection cache).
constexpr std::size_t kMessagesPerConnection = 100;
constexpr std::chrono::seconds kLinger{2};

bool settled(State state) { return state == State::Delivered || state == State::Failed; }

// RFC 3461 section 4.1: without NOTIFY, failures and delays are reported; NEVER
// reports nothing; SUCCESS only when asked.
bool notify_wants(std::string_view notify, std::string_view what) {
  if (notify.empty()) return what != "SUCCESS";
  return contains_folded(notify, what) && !contains_folded(notify, "NEVER");
}

// "550 5.1.1 text" -> its RFC 3463 code, or `fallback`.
std::string status_of(std::string_view reply, std::string_view fallback) {
  const auto space = reply.find(' ');
  if (space != std::string_view::npos) {
    const auto code = reply.substr(space + 1, reply.find(' ', space + 1) - space - 1);
    if (code.size() >= 5 && code[1] == '.' &&
        (code[0] == '2' || code[0] == '4' || code[0] == '5')) {
      return std::string(code);
    }
  }
  return std::string(fallback);
}

// The policy as a TLS report shows it (RFC 8460 section 4.4), as JSON text: the key
// its sessions are counted under.
std::string sts_report_policy(const std::string& domain, const std::optional<StsPolicy>& policy) {
  boost::json::array lines, mx;
  if (policy) {
    const char* mode = policy->mode == StsPolicy::Mode::Enforce   ? "enforce"
                       : policy->mode == StsPolicy::Mode::Testing ? "testing"
                                                                  : "none";
    lines.emplace_back("version: STSv1");
    lines.emplace_back(std::string("mode: ") + mode);
    for (const std::string& pattern : policy->mx) {
      lines.emplace_back("mx: " + pattern);
      mx.emplace_back(pattern);
    }
    lines.emplace_back("max_age: " + std::to_string(policy->max_age));
  }
  return boost::json::serialize(boost::json::object{{"policy-type", "sts"},
                                                    {"policy-string", std::move(lines)},
                                                    {"policy-domain", domain},
                                                    {"mx-host", std::move(mx)}});
}

// For DANE the policy domain is the TLSA base domain: the MX host (section 4.4).
std::string tlsa_report_policy(const std::string& host, const std::vector<dns::Tlsa>& records) {
  static constexpr char kHex[] = "0123456789abcdef";
  boost::json::array lines;
  for (const dns::Tlsa& record : records) {
    std::string line = std::to_string(record.usage) + " " + std::to_string(record.selector) + " " +
                       std::to_string(record.matching) + " ";
    for (unsigned char c : record.data) {
      line += kHex[c >> 4];
      line += kHex[c & 15];
    }
    lines.emplace_back(line);
  }
  return boost::json::serialize(boost::json::object{{"policy-type", "tlsa"},
                                                    {"policy-string", std::move(lines)},
                                                    {"policy-domain", host},
                                                    {"mx-host", boost::json::array{}}});
}

// Whether a recipient just settled is reported to the sender.
bool wants_report(const store::QueuedRecipient& recipient) {
  return notify_wants(recipient.notify, recipient.state == State::Failed ? "FAILURE" : "SUCCESS");
}

}  // namespace

// A queue entry in flight: its recipients as this run knows them, and how many of its
// destinations have yet to finish.
struct Outbound::Job {
  store::QueueEntry entry;
  std::vector<bool> was_settled;  // before this run, and reported
  std::size_t outstanding = 0;
};

// The recipients of one job at one destination domain: one transaction.
struct Outbound::Item {
  std::shared_ptr<Job> job;
  std::vector<std::size_t> recipients;  // positions in the entry
  int tries = 0;                        // connections it was offered on
};

struct Outbound::Destination {
  std::deque<Item> items;
  std::size_t sessions = 0;
  std::vector<asio::steady_timer*> idle;  // of sessions waiting for items: woken by them
};

// What a host's connection must be, or why the host is not to be used; and the policy
// as TLS reports show it (RFC 8460 section 4.4).
struct Outbound::HostPolicy {
  smtp::TlsPolicy tls;
  bool sts_testing = false;  // an MTA-STS testing policy: a failed check does not stop it
  std::string skip;          // non-empty: do not use this host, for this reason
  std::string skip_failure;  // the RFC 8460 result type of `skip`, if it is one
  std::string report_type = "no-policy-found";  // "tlsa", "sts"
  std::string report_policy;                    // its JSON object (policy-string, ...)
};

Outbound::Outbound(store::Store& store, Delivery& delivery, dns::Resolver& resolver,
                   asio::thread_pool& blocking, asio::any_io_executor executor,
                   OutboundOptions options)
    : store_(store),
      delivery_(delivery),
      resolver_(resolver),
      blocking_(blocking),
      executor_(executor),
      options_(std::move(options)),
      tls_(std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client)),
      wake_(executor) {
  // Certificates are checked only where the policy says (smtp::TlsPolicy): DANE with
  // OpenSSL's own matching, PKIX against these trust anchors.
  tls_->set_verify_mode(asio::ssl::verify_none);
  SSL_CTX_dane_enable(tls_->native_handle());
  boost::system::error_code error;
  if (options_.ca_file.empty()) {
    tls_->set_default_verify_paths(error);
  } else {
    tls_->load_verify_file(options_.ca_file.string(), error);
  }
  if (error) log::warn("outbound: no trust anchors: " + error.message());
  sts_ = std::make_unique<StsPolicies>(resolver_, tls_, executor_);
}

Outbound::~Outbound() = default;

void Outbound::wake() {
  asio::post(executor_, [this] {
    woken_ = true;
    wake_.cancel();
  });
}

asio::awaitable<void> Outbound::run() {
  asio::co_spawn(executor_, tls_reports(), asio::detached);
  for (;;) {
    const std::int64_t next = co_await run_once();
    if (woken_) {
      woken_ = false;
      continue;
    }
    const std::int64_t wait =
        std::clamp<std::int64_t>(next - unix_seconds(), 1, options_.idle_check.count());
    wake_.expires_after(std::chrono::seconds(wait));
    boost::system::error_code ignored;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    woken_ = false;
  }
}

void Outbound::count_tls(const std::string& domain, const std::string& policy_type,
                         const std::string& policy, const std::string& result_type,
                         const std::string& mx_host, const std::string& ip,
                         const std::string& info) {
  const std::int64_t period = options_.tls_report_period.count();
  if (period == 0) return;
  const std::int64_t start = unix_seconds() / period * period;
  // Failures keep their host and reason; the reason is cut to stay one short line.
  const std::string detail = info.substr(0, 200);
  std::string key = std::to_string(start);
  for (const std::string* part :
       {&domain, &policy_type, &policy, &result_type, &mx_host, &ip, &detail}) {
    key += '\0';
    key += *part;
  }
  auto found = tls_counts_.find(key);
  if (found == tls_counts_.end()) {
    if (tls_counts_.size() >= kMaxTlsCounts) {
      log::warn("outbound: TLS report counts full; one dropped for " + domain);
      return;
    }
    found = tls_counts_
                .emplace(std::move(key), store::TlsResult{.period = start,
                                                          .domain = domain,
                                                          .policy_type = policy_type,
                                                          .policy = policy,
                                                          .result_type = result_type,
                                                          .mx_host = mx_host,
                                                          .receiving_ip = ip,
                                                          .info = detail,
                                                          .count = 0})
                .first;
  }
  ++found->second.count;
}

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<void> Outbound::tls_reports() {
  const std::int64_t period = options_.tls_report_period.count();
  if (period == 0) co_return;
  // Each minute, or twice a period when periods are shorter (tests).
  const auto tick = std::chrono::seconds(std::clamp<std::int64_t>(period / 2, 1, 60));
  asio::steady_timer timer(executor_);
  for (;;) {
    timer.expires_after(tick);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (!tls_counts_.empty()) {
      std::vector<store::TlsResult> counts;
      for (auto& [key, result] : tls_counts_) counts.push_back(std::move(result));
      tls_counts_.clear();
      auto added = co_await net::offload(blocking_, [&] { return store_.add_tls_results(counts); });
      if (!added) log::warn("outbound: TLS report counts lost: " + added.error().detail);
    }
    co_await send_tls_reports();
  }
}

namespace {

// One report's policy, from the JSON text its sessions were counted under.
TlsPolicyResult policy_result(const store::TlsResult& row) {
  TlsPolicyResult policy{.policy_type = row.policy_type, .policy_domain = row.domain};
  boost::system::error_code error;
  const boost::json::value parsed = boost::json::parse(row.policy, error);
  if (error || !parsed.is_object()) return policy;
  const boost::json::object& object = parsed.as_object();
  auto strings = [&](const char* key, std::vector<std::string>& out) {
    if (const auto* list = object.if_contains(key); list && list->is_array()) {
      for (const auto& item : list->as_array()) {
        if (item.is_string()) out.emplace_back(item.as_string());
      }
    }
  };
  strings("policy-string", policy.policy_string);
  strings("mx-host", policy.mx_host);
  if (const auto* name = object.if_contains("policy-domain"); name && name->is_string()) {
    policy.policy_domain = std::string(name->as_string());
  }
  return policy;
}

}  // namespace

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<void> Outbound::send_tls_reports() {
  const std::int64_t period = options_.tls_report_period.count();
  const std::int64_t current = unix_seconds() / period * period;
  const std::size_t limit = kMaxTlsRows;
  auto ended = co_await net::offload(
      blocking_, [this, current, limit] { return store_.tls_results_before(current, limit); });
  if (!ended) {
    log::warn("outbound: cannot read TLS report counts: " + ended.error().detail);
    co_return;
  }
  // One report per period and destination domain, to the addresses its `_smtp._tls`
  // record names (RFC 8460 section 3); none when it names none.
  const std::vector<store::TlsResult>& rows = *ended;
  std::size_t i = 0;
  while (i < rows.size()) {
    const std::int64_t start = rows[i].period;
    const std::string domain = rows[i].domain;
    std::size_t end = i;
    while (end < rows.size() && rows[end].period == start && rows[end].domain == domain) ++end;
    const std::string record_name = "_smtp._tls." + domain;
    const dns::Type txt = dns::Type::Txt;
    auto answer = co_await resolver_.query(record_name, txt);
    if (!dns::answered(answer)) {
      i = end;  // the lookup failed: the next pass tries again
      continue;
    }
    std::vector<std::string> records, to;
    for (std::string& text : dns::txt_records(*answer)) {
      if (text.starts_with("v=TLSRPTv1")) records.push_back(std::move(text));
    }
    const auto uris = records.size() == 1 ? parse_tlsrpt_record(records.front()) : std::nullopt;
    for (const std::string& uri : uris.value_or(std::vector<std::string>{})) {
      // mailto: only (section 3 lets a sender support one of mailto and https).
      if (!uri.starts_with("mailto:")) continue;
      const std::string address = uri.substr(7, uri.find('?') - 7);
      if (address.find('@') != std::string::npos && address.find('%') == std::string::npos) {
        to.push_back(address);
      }
    }
    if (!to.empty()) {
      TlsReport report{.organization_name = options_.hostname,
                       .contact_info = options_.report_from,
                       .report_id = std::to_string(start) + "." + domain + "@" + options_.hostname,
                       .start = start,
                       .end = start + period,
                       .policy_domain = domain,
                       .policies = {}};
      std::map<std::string, std::size_t> by_policy;
      for (std::size_t k = i; k < end; ++k) {
        const store::TlsResult& row = rows[k];
        auto [at, added] = by_policy.try_emplace(row.policy, report.policies.size());
        if (added) report.policies.push_back(policy_result(row));
        TlsPolicyResult& policy = report.policies[at->second];
        if (row.result_type.empty()) {
          policy.successful_sessions += row.count;
          continue;
        }
        policy.failed_sessions += row.count;
        policy.failure_details.push_back({.result_type = row.result_type,
                                          .sending_mta_ip = {},
                                          .receiving_mx_hostname = row.mx_host,
                                          .receiving_ip = row.receiving_ip,
                                          .failure_reason_code = row.info,
                                          .failed_session_count = row.count});
      }
      const std::string mail =
          tls_report_mail(report, options_.report_from, to.front(), unix_seconds());
      Envelope envelope{.mail_from = options_.report_from, .recipients = {}};
      for (const std::string& address : to) envelope.recipients.push_back({.address = address});
      const Origin origin{
          .protocol = "tlsrpt", .actor = {}, .address = {}, .detail = "TLS report for " + domain};
      auto sent = co_await net::offload(blocking_,
                                        [&] { return delivery_.submit(envelope, mail, origin); });
      if (!sent) {
        log::warn("outbound: TLS report for " + domain + " not sent: " + sent.error().detail);
        i = end;
        continue;
      }
      log::info("outbound: TLS report for " + domain + " sent to " + to.front());
    }
    // Reported, or nobody asked for it: dropped.
    auto removed =
        co_await net::offload(blocking_, [&] { return store_.remove_tls_results(start, domain); });
    if (!removed) log::warn("outbound: TLS report counts kept: " + removed.error().detail);
    i = end;
  }
}

asio::awaitable<std::int64_t> Outbound::run_once() {
  const std::int64_t now = unix_seconds();
  std::int64_t next = now + options_.idle_check.count();
  if (in_flight_.size() >= kMaxInFlight) co_return next;  // each finished job wakes us
  const std::vector<std::int64_t> skip(in_flight_.begin(), in_flight_.end());
  const std::size_t limit = std::min(kBatch, kMaxInFlight - in_flight_.size());
  auto due = co_await net::offload(
      blocking_, [this, now, &skip, limit] { return store_.due_queue(now, limit, skip); });
  if (!due) {
    log::warn("outbound: cannot read the queue: " + due.error().detail);
    co_return next;
  }
  if (due->next_attempt != 0) next = std::min(next, due->next_attempt);
  for (store::QueueEntry& entry : due->entries) {
    auto job = std::make_shared<Job>();
    job->entry = std::move(entry);
    dispatch(std::move(job));
  }
  // A full batch: more may be due already.
  if (due->entries.size() == limit) next = now;
  co_return next;
}

void Outbound::dispatch(std::shared_ptr<Job> job) {
  const std::vector<store::QueuedRecipient>& recipients = job->entry.recipients;
  std::map<std::string, std::vector<std::size_t>> domains;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    job->was_settled.push_back(settled(recipients[i].state) && recipients[i].reported);
    if (!settled(recipients[i].state))
      domains[lowercase(domain_of(recipients[i].address))].push_back(i);
  }
  in_flight_.insert(job->entry.id);
  if (domains.empty()) {  // nothing left to send: only its end
    asio::co_spawn(executor_, finish_job(job), asio::detached);
    return;
  }
  job->outstanding = domains.size();
  for (auto& [domain, positions] : domains) {
    destinations_[domain].items.push_back(Item{.job = job, .recipients = std::move(positions)});
    start_sessions(domain);
  }
}

void Outbound::start_sessions(const std::string& domain) {
  Destination& destination = destinations_.at(domain);
  for (asio::steady_timer* idle : destination.idle) idle->cancel();  // they take items first
  std::size_t takers = destination.idle.size();
  while (destination.items.size() > takers &&
         destination.sessions < options_.max_connections_per_domain &&
         sessions_ < options_.max_connections) {
    ++takers;
    ++destination.sessions;
    ++sessions_;
    asio::co_spawn(executor_, session(domain), asio::detached);
  }
  if (destination.sessions == 0 && !destination.items.empty() &&
      std::find(starved_.begin(), starved_.end(), domain) == starved_.end()) {
    starved_.push_back(domain);  // no slot now: when a session ends
  }
}

asio::awaitable<Outbound::HostPolicy> Outbound::host_policy(std::string domain, bool mx_secure,
                                                            std::string host, bool host_secure) {
  HostPolicy policy;
  // DANE first (RFC 7672 section 2.2): only when the MX answer and the host's addresses
  // were validated, and then its TLSA records decide, whatever else applies.
  if (!options_.dane_off.contains(domain) && mx_secure && host_secure) {
    auto tlsa = co_await dns::tlsa(resolver_, host);
    if (!tlsa) {
      // A secure host whose TLSA cannot be looked up is not used (section 2.2.2).
      policy.skip = "451 4.4.3 " + tlsa.error().detail;
      policy.skip_failure = "dnssec-invalid";
      policy.report_type = "tlsa";
      policy.report_policy = tlsa_report_policy(host, {});
      co_return policy;
    }
    if (tlsa->secure && !tlsa->records.empty()) {
      for (const dns::Tlsa& record : tlsa->records) {
        // DANE-TA(2) and DANE-EE(3) only; PKIX-TA(0) and PKIX-EE(1) are unusable for
        // SMTP (section 3.1.3), as are unknown selectors and matching types.
        if ((record.usage == 2 || record.usage == 3) && record.selector <= 1 &&
            record.matching <= 2) {
          policy.tls.tlsa.push_back(record);
        }
      }
      // Records but none usable: TLS is still required, not authenticated (2.2).
      policy.tls.level = policy.tls.tlsa.empty() ? Level::Encrypt : Level::Dane;
      if (policy.tls.level == Level::Dane) {
        policy.report_type = "tlsa";
        policy.report_policy = tlsa_report_policy(host, policy.tls.tlsa);
        co_return policy;
      }
    }
  }
  // Then MTA-STS (RFC 8461 section 4): the host must be one the policy names, and its
  // certificate trusted and naming it.
  const StsLookup lookup = co_await sts_->get(domain);
  if (!lookup.failure.empty()) {
    count_tls(domain, "sts", sts_report_policy(domain, std::nullopt), lookup.failure, host, "",
              lookup.detail);
  }
  const std::optional<StsPolicy>& sts = lookup.policy;
  if (sts && sts->mode != StsPolicy::Mode::None) {
    const bool enforce = sts->mode == StsPolicy::Mode::Enforce;
    policy.report_type = "sts";
    policy.report_policy = sts_report_policy(domain, sts);
    if (!sts_mx_matches(*sts, host)) {
      if (enforce) {
        policy.skip = "451 4.7.5 " + host + " is not an MX host of " + domain + "'s MTA-STS policy";
        policy.skip_failure = "validation-failure";
        co_return policy;
      }
      log::warn("outbound: MTA-STS (testing): " + host + " not in " + domain + "'s policy");
    }
    policy.tls.level = Level::Verify;
    policy.sts_testing = !enforce;
    co_return policy;
  }
  if (options_.require_tls.contains(domain)) policy.tls.level = Level::Verify;
  co_return policy;
}

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<void> Outbound::session(std::string domain) {
  Destination& destination = destinations_.at(domain);
  const dns::Route route = co_await dns::route(resolver_, domain);
  // A route that says where nothing goes settles every item of the destination now.
  std::string verdict;
  State verdict_state = State::Deferred;
  if (route.kind == dns::Route::Kind::NullMx) {
    verdict = "556 5.1.10 " + domain + " accepts no mail (null MX)";
    verdict_state = State::Failed;
  } else if (route.kind == dns::Route::Kind::NoSuchDomain) {
    verdict = "550 5.1.2 no such domain: " + domain;
    verdict_state = State::Failed;
  } else if (route.kind == dns::Route::Kind::TryLater) {
    verdict = "451 4.4.3 " + route.detail;
  }
  struct Candidate {
    const dns::Host* host;
    std::string address;
  };
  std::vector<Candidate> candidates;
  for (const dns::Host& host : route.hosts) {
    for (const std::string& address : host.addresses) candidates.push_back({&host, address});
  }
  std::map<std::string, HostPolicy> policies;  // per host name, looked up once
  std::size_t cursor = 0;                      // the candidate in use or to try next
  std::unique_ptr<smtp::Client> client;
  std::string client_via;
  std::size_t sent_here = 0;
  const smtp::ClientOptions client_options{
      .helo_name = options_.hostname, .port = options_.port, .tls = tls_};
  std::string last = "451 4.4.1 no host of " + domain + " answered";
  for (;;) {
    if (destination.items.empty()) {
      // Linger a moment for more to the same place, then end.
      asio::steady_timer more(executor_, kLinger);
      destination.idle.push_back(&more);
      boost::system::error_code waited;
      co_await more.async_wait(asio::redirect_error(asio::use_awaitable, waited));
      std::erase(destination.idle, &more);
      if (destination.items.empty()) break;
    }
    Item item = std::move(destination.items.front());
    destination.items.pop_front();
    std::vector<store::QueuedRecipient>& recipients = item.job->entry.recipients;
    auto settle_item = [&](State state, const std::string& reply, const std::string& via) {
      for (std::size_t i : item.recipients) {
        recipients[i].state = state;
        recipients[i].reply = reply;
        if (!via.empty()) recipients[i].via = via;
      }
    };
    if (!verdict.empty()) {
      settle_item(verdict_state, verdict, "");
      co_await finish(std::move(item));
      continue;
    }
    if (client && (!client->usable() || sent_here >= kMessagesPerConnection)) {
      co_await client->quit();
      client.reset();
    }
    // A connection: the candidates in order from the one in use, each host under its
    // TLS policy; a host that cannot be used or reached passes to the next.
    while (!client && cursor < candidates.size()) {
      const Candidate& candidate = candidates[cursor];
      const dns::Host& host = *candidate.host;
      if (!policies.contains(host.name)) {
        const std::string host_name = host.name;
        HostPolicy looked_up =
            co_await host_policy(domain, route.mx_secure, host_name, host.secure);
        policies.emplace(host.name, std::move(looked_up));
      }
      const HostPolicy& policy = policies.at(host.name);
      if (!policy.skip.empty()) {
        last = policy.skip;
        if (!policy.skip_failure.empty()) {
          count_tls(domain, policy.report_type, policy.report_policy, policy.skip_failure,
                    host.name, candidate.address, policy.skip);
        }
        ++cursor;
        continue;
      }
      const std::string host_name = host.name, address = candidate.address;
      smtp::TlsPolicy tls = policy.tls;
      auto opened = co_await smtp::Client::open(executor_, client_options, host_name, address, tls);
      bool reported = false;  // this session's TLS outcome already counted
      if (auto* failed = std::get_if<smtp::Attempt>(&opened);
          failed && policy.sts_testing && failed->enhanced == "4.7.5") {
        // MTA-STS testing (RFC 8461 section 5): the failure is reported, not enforced.
        log::warn("outbound: MTA-STS (testing) for " + domain + ": " + failed->text);
        count_tls(domain, policy.report_type, policy.report_policy, failed->tls_failure, host_name,
                  address, failed->text);
        reported = true;
        tls = smtp::TlsPolicy{};
        opened = co_await smtp::Client::open(executor_, client_options, host_name, address, tls);
      }
      if (auto* failed = std::get_if<smtp::Attempt>(&opened)) {
        last = failed->text;
        log::info("outbound: " + domain + ": " + last);
        if (!reported && !failed->tls_failure.empty()) {
          count_tls(domain, policy.report_type, policy.report_policy, failed->tls_failure,
                    host_name, address, failed->text);
        }
        ++cursor;
        continue;
      }
      client = std::move(std::get<std::unique_ptr<smtp::Client>>(opened));
      if (!reported) {
        // A session counts as successful when it negotiated TLS (RFC 8460 4.4).
        count_tls(domain, policy.report_type, policy.report_policy,
                  client->tls() ? "" : "starttls-not-supported", host_name, address,
                  client->tls() ? "" : "no STARTTLS");
      }
      client_via =
          host_name + "[" + address + "] " +
          (client->tls() ? std::string(smtp::to_string(tls.level)) + " " + client->tls_description()
                         : std::string("cleartext"));
      sent_here = 0;
    }
    if (!client) {
      // No host could take it now: every item here waits for the next attempt.
      settle_item(State::Deferred, last, "");
      co_await finish(std::move(item));
      verdict = last;
      continue;
    }
    const std::string blob_id = item.job->entry.blob_id;
    auto blob = co_await net::offload(blocking_, [&] { return store_.read_blob(blob_id); });
    if (!blob) {
      log::error("outbound: queue " + std::to_string(item.job->entry.id) + ": " +
                 blob.error().detail);
      settle_item(State::Deferred, "451 4.3.0 cannot read the message", "");
      co_await finish(std::move(item));
      continue;
    }
    const store::QueueEntry& entry = item.job->entry;
    smtp::OutboundMessage message{.mail_from = entry.sender,
                                  .recipients = {},
                                  .ret = entry.ret,
                                  .envid = entry.envid,
                                  .data = *blob};
    for (std::size_t i : item.recipients) {
      message.recipients.push_back(
          {recipients[i].address, recipients[i].notify, recipients[i].orcpt});
    }
    const std::vector<smtp::Attempt> outcome = co_await client->send(message);
    ++sent_here;
    ++item.tries;
    // A connection lost before the server answered: once more on a new connection.
    std::vector<std::size_t> again;
    for (std::size_t k = 0; k < item.recipients.size(); ++k) {
      const smtp::Attempt& attempt = outcome[k];
      store::QueuedRecipient& recipient = recipients[item.recipients[k]];
      recipient.reply = attempt.text;
      recipient.via = client_via;
      if (attempt.delivered()) {
        recipient.state = State::Delivered;
      } else if (attempt.permanent()) {
        recipient.state = State::Failed;
      } else if (attempt.enhanced == "4.4.1" && !client->usable() && item.tries < 2) {
        again.push_back(item.recipients[k]);
        continue;
      } else {
        recipient.state = State::Deferred;
      }
      log::info("outbound: queue " + std::to_string(entry.id) + " to <" + recipient.address +
                "> via " + client_via + ": " + attempt.text);
    }
    if (!again.empty()) {
      Item retry{.job = item.job, .recipients = again, .tries = item.tries};
      item.recipients.erase(std::remove_if(item.recipients.begin(), item.recipients.end(),
                                           [&](std::size_t i) {
                                             return std::find(again.begin(), again.end(), i) !=
                                                    again.end();
                                           }),
                            item.recipients.end());
      ++item.job->outstanding;  // the retry is a part of its own
      destination.items.push_front(std::move(retry));
      ++cursor;  // the next address, when there is one
      if (cursor >= candidates.size()) cursor = 0;
    }
    co_await finish(std::move(item));
  }
  if (client) co_await client->quit();
  --destination.sessions;
  --sessions_;
  if (destination.sessions == 0 && destination.items.empty()) destinations_.erase(domain);
  while (!starved_.empty() && sessions_ < options_.max_connections) {
    const std::string waiting = starved_.front();
    starved_.pop_front();
    if (destinations_.contains(waiting)) start_sessions(waiting);
  }
}

asio::awaitable<void> Outbound::finish(Item item) {
  std::shared_ptr<Job> job = std::move(item.job);
  if (!item.recipients.empty()) {
    // Each recipient's fate is durable before anything else is tried: a copy, as other
    // destinations of the job go on changing theirs meanwhile. The last part of a job
    // needs no record of its own when the job then leaves the queue reporting nothing:
    // the removal is the record.
    const std::vector<store::QueuedRecipient>& all = job->entry.recipients;
    bool quiet_end = job->outstanding == 1;
    for (std::size_t i = 0; quiet_end && i < all.size(); ++i) {
      quiet_end = settled(all[i].state) && (job->was_settled[i] || !wants_report(all[i]));
    }
    if (!quiet_end) {
      const std::int64_t id = job->entry.id;
      const std::vector<std::size_t> positions = item.recipients;
      const std::vector<store::QueuedRecipient> snapshot = job->entry.recipients;
      auto recorded = co_await net::offload(
          blocking_, [&] { return store_.record_recipients(id, positions, snapshot); });
      if (!recorded) log::error("outbound: cannot record: " + recorded.error().detail);
    }
  }
  if (--job->outstanding == 0) co_await finish_job(std::move(job));
}

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<void> Outbound::finish_job(std::shared_ptr<Job> job) {
  store::QueueEntry& entry = job->entry;
  std::vector<store::QueuedRecipient>& recipients = entry.recipients;
  const std::int64_t now = unix_seconds();
  const bool expired = now - entry.queued_at >= options_.give_up.count();
  for (store::QueuedRecipient& recipient : recipients) {
    if (expired && !settled(recipient.state)) {
      recipient.state = State::Failed;
      recipient.reply = "554 4.4.7 gave up after " +
                        std::to_string(options_.give_up.count() / 3600) +
                        " hours: " + recipient.reply;
    }
  }
  const bool done = std::all_of(recipients.begin(), recipients.end(),
                                [](const auto& r) { return settled(r.state); });
  const int attempts = entry.attempts + 1;
  const std::int64_t delay = std::min<std::int64_t>(
      options_.first_retry.count() << std::min(attempts - 1, 20), options_.max_retry.count());
  const std::int64_t next = now + delay;
  // Reports for what was settled in this run, as the sender asked (RFC 3461): a
  // failure is told at once, not when the last recipient is done; a delay once, when
  // the message has waited `delay_notice`.
  const bool report_delay = !done && !entry.delay_reported && options_.delay_notice.count() > 0 &&
                            now - entry.queued_at >= options_.delay_notice.count();
  Dsn report{.reporting_mta = options_.hostname,
             .to = entry.sender,
             .envid = entry.envid,
             .arrival = entry.queued_at,
             .now = now,
             .retry_until = entry.queued_at + options_.give_up.count(),
             .headers_only = iequals(entry.ret, "HDRS"),
             .recipients = {}};
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    const store::QueuedRecipient& recipient = recipients[i];
    DsnRecipient::Action action;
    if (!settled(recipient.state)) {
      if (!report_delay || !notify_wants(recipient.notify, "DELAY")) continue;
      action = DsnRecipient::Action::Delayed;
    } else {
      if (job->was_settled[i] || !wants_report(recipient)) continue;
      action = recipient.state == State::Failed ? DsnRecipient::Action::Failed
                                                : DsnRecipient::Action::Delivered;
    }
    const std::string_view fallback = action == DsnRecipient::Action::Failed    ? "5.0.0"
                                      : action == DsnRecipient::Action::Delayed ? "4.0.0"
                                                                                : "2.0.0";
    const auto bracket = recipient.via.find('[');
    report.recipients.push_back(
        {.address = recipient.address,
         .orcpt = recipient.orcpt,
         .action = action,
         .status = status_of(recipient.reply, fallback),
         .remote_mta = bracket == std::string::npos ? "" : recipient.via.substr(0, bracket),
         .diagnostic = recipient.reply});
  }
  // Never to the null sender: nothing answers a report (RFC 3461 section 6.2).
  if (!entry.sender.empty() && !report.recipients.empty()) {
    const std::string blob_id = entry.blob_id;
    auto blob = co_await net::offload(blocking_, [&] { return store_.read_blob(blob_id); });
    const std::string dsn = make_dsn(report, blob ? std::string_view(*blob) : std::string_view());
    const Envelope envelope{.mail_from = "", .recipients = {{.address = entry.sender}}};
    const Origin origin{.protocol = "dsn",
                        .actor = {},
                        .address = {},
                        .detail = "delivery report for queue " + std::to_string(entry.id)};
    auto sent =
        co_await net::offload(blocking_, [&] { return delivery_.submit(envelope, dsn, origin); });
    if (!sent) log::warn("outbound: no report to <" + entry.sender + ">: " + sent.error().detail);
  }
  // Only now are the settled recipients reported: a crash before this reports them
  // again rather than never.
  const std::int64_t id = entry.id;
  if (!done) {
    std::vector<std::size_t> newly_reported;
    for (std::size_t i = 0; i < recipients.size(); ++i) {
      if (settled(recipients[i].state) && !recipients[i].reported) {
        recipients[i].reported = true;
        newly_reported.push_back(i);
      }
    }
    const bool delay_reported = entry.delay_reported || report_delay;
    const std::vector<store::QueuedRecipient> snapshot = recipients;
    auto recorded = co_await net::offload(blocking_, [&]() -> Result<void> {
      if (!newly_reported.empty()) {
        auto marked = store_.record_recipients(id, newly_reported, snapshot);
        if (!marked) return marked;
      }
      return store_.reschedule(id, attempts, next, delay_reported);
    });
    if (!recorded) log::error("outbound: cannot record: " + recorded.error().detail);
  } else {
    auto removed = co_await net::offload(blocking_, [&] { return store_.remove_queue_entry(id); });
    if (!removed) log::error("outbound: cannot remove queue " + std::to_string(id));
  }
  const bool was_full = in_flight_.size() >= kMaxInFlight;
  in_flight_.erase(id);
  // The pass that took it did not know its next attempt, or it kept the in-flight limit
  // full: the next pass looks again. An entry that left the queue changes neither.
  if (!done || was_full) wake();
}

}  // namespace rampart::delivery
