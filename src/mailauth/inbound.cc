#include "mailauth/inbound.h"

#include <algorithm>
#include <map>
#include <random>

#include "base/address.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "dns/resolver.h"
#include "mailauth/auth_results.h"
#include "mime/header.h"

namespace rampart::mailauth {

namespace asio = boost::asio;

namespace {}  // namespace

std::string Verdicts::summary() const {
  std::string text =
      "spf=" + std::string(spf.checked ? spf::verdict_name(spf.result.verdict) : "none");
  if (dkim.empty()) text += " dkim=none";
  for (const dkim::Verdict& verdict : dkim) {
    text += " dkim=" + std::string(dkim::result_name(verdict.result)) + "(" + verdict.domain + ")";
  }
  text += " dmarc=" + std::string(to_string(dmarc.outcome));
  if (dmarc.outcome == DmarcResult::Outcome::Fail) {
    text += "(" + std::string(to_string(dmarc.disposition)) + ")";
    if (arc_overridden != DmarcRecord::Policy::None) {
      text += "(" + std::string(to_string(arc_overridden)) + " overridden by ARC)";
    }
  }
  text += " arc=" + std::string(dkim::arc_result_name(arc.result));
  if (arc.result == dkim::ArcVerdict::Result::Pass) text += "(" + arc.sealer + ")";
  return text;
}

Inbound::Inbound(dns::Resolver& resolver, std::string authserv_id, PublicSuffixList suffixes,
                 std::vector<std::string> trusted_sealers)
    : resolver_(resolver),
      authserv_id_(std::move(authserv_id)),
      suffixes_(std::move(suffixes)),
      trusted_sealers_(std::move(trusted_sealers)) {}

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<SpfOutcome> Inbound::check_spf(std::string client_ip, std::string mail_from,
                                               std::string helo) {
  SpfOutcome outcome;
  outcome.checked = true;
  outcome.helo = mail_from.empty();
  outcome.identity = mail_from.empty() ? helo : mail_from;
  outcome.domain = mail_from.empty() ? lowercase(helo) : lowercase(domain_of(mail_from));
  spf::SpfRequest request;
  request.client_ip = std::move(client_ip);
  request.mail_from = std::move(mail_from);
  request.helo = std::move(helo);
  request.receiver = authserv_id_;
  request.timestamp = unix_seconds();
  dns::Resolver& resolver = resolver_;
  const spf::SpfLookup lookup = [&resolver](std::string name, dns::Type type) {
    return resolver.query(std::move(name), type);
  };
  outcome.result = co_await spf::check_host(lookup, request);
  co_return outcome;
}

asio::awaitable<Verdicts> Inbound::check_message(std::string_view message, SpfOutcome spf) {
  Verdicts verdicts;
  verdicts.spf = std::move(spf);
  // Every DKIM signature, its key looked up between the two steps (dkim/verifier.h).
  const std::int64_t now = unix_seconds();
  for (const dkim::SignatureRef& signature : dkim::signatures(message)) {
    std::vector<std::string> records;
    if (!signature.domain.empty() && !signature.selector.empty()) {
      const std::string name = signature.selector + "._domainkey." + signature.domain;
      const dns::Type txt = dns::Type::Txt;
      auto answer = co_await resolver_.query(name, txt);
      if (!dns::answered(answer)) {
        dkim::Verdict verdict;
        verdict.result = dkim::Verdict::Result::TempError;
        verdict.domain = signature.domain;
        verdict.selector = signature.selector;
        verdict.reason = "key lookup failed";
        verdicts.dkim.push_back(std::move(verdict));
        continue;
      }
      records = dns::txt_records(*answer);
    }
    verdicts.dkim.push_back(dkim::verify(message, signature.index, records, now));
  }
  // The ARC chain (RFC 8617 section 5.2), its keys looked up the same way. A key that
  // cannot be looked up fails the chain: ARC has no temporary result.
  std::map<dkim::ArcKey, std::vector<std::string>> arc_records;
  for (const dkim::ArcKey& key : dkim::arc_keys(message)) {
    const std::string name = key.second + "._domainkey." + key.first;
    const dns::Type txt = dns::Type::Txt;
    auto answer = co_await resolver_.query(name, txt);
    if (dns::answered(answer)) arc_records[key] = dns::txt_records(*answer);
  }
  verdicts.arc = dkim::verify_arc(message, arc_records, now);
  // DMARC for the one From domain (RFC 7489 section 6.6.1).
  const std::string_view header = mime::header_block(message);
  std::vector<std::string> from_domains;
  for (std::string_view value : mime::find_header(header, "From")) {
    for (const mime::Address& address : mime::parse_address_list(value)) {
      if (address.kind != mime::Address::Kind::Mailbox) continue;
      const std::string domain = lowercase(domain_of(mime::address_spec(address)));
      if (std::find(from_domains.begin(), from_domains.end(), domain) == from_domains.end()) {
        from_domains.push_back(domain);
      }
    }
  }
  if (from_domains.size() == 1 && !from_domains.front().empty()) {
    verdicts.from_domain = from_domains.front();
    DmarcInput input;
    input.from_domain = verdicts.from_domain;
    input.from_organizational = suffixes_.organizational_domain(input.from_domain);
    input.spf_pass = verdicts.spf.checked && verdicts.spf.result.verdict == spf::Verdict::Pass;
    input.spf_domain = verdicts.spf.domain;
    input.spf_organizational = suffixes_.organizational_domain(input.spf_domain);
    for (const dkim::Verdict& verdict : verdicts.dkim) {
      if (verdict.result != dkim::Verdict::Result::Pass) continue;
      const std::string domain = lowercase(verdict.domain);
      input.dkim_pass.emplace_back(domain, suffixes_.organizational_domain(domain));
    }
    // The From domain's record, else its organizational domain's (section 6.6.3).
    bool temporary = false;
    std::vector<std::string> candidates{input.from_domain};
    if (input.from_organizational != input.from_domain) {
      candidates.push_back(input.from_organizational);
    }
    for (std::size_t i = 0; i < candidates.size() && !input.record && !temporary; ++i) {
      const std::string name = "_dmarc." + candidates[i];
      const dns::Type txt = dns::Type::Txt;
      auto answer = co_await resolver_.query(name, txt);
      if (!dns::answered(answer)) {
        temporary = true;
        break;
      }
      std::vector<DmarcRecord> found;
      for (const std::string& text : dns::txt_records(*answer)) {
        if (!text.starts_with("v=DMARC1")) continue;
        if (auto record = parse_dmarc_record(text)) found.push_back(std::move(*record));
      }
      if (found.size() == 1) {  // several: none applies
        input.record = std::move(found.front());
        input.record_is_from_domain = i == 0;
      }
    }
    thread_local std::mt19937 random{std::random_device{}()};
    input.sample = static_cast<int>(random() % 100);
    verdicts.dmarc = evaluate_dmarc(input);
    if (temporary) verdicts.dmarc.outcome = DmarcResult::Outcome::TempError;
  } else if (from_domains.size() > 1) {
    verdicts.dmarc.outcome = DmarcResult::Outcome::PermError;  // several authors
  }
  // Local policy (RFC 7489 section 7.2, RFC 8617 section 7.2): a forwarder this server
  // trusts saw the message pass DMARC before forwarding broke it.
  const dkim::ArcVerdict& chain = verdicts.arc;
  if (verdicts.dmarc.outcome == DmarcResult::Outcome::Fail &&
      verdicts.dmarc.disposition != DmarcRecord::Policy::None &&
      chain.result == dkim::ArcVerdict::Result::Pass &&
      std::find(trusted_sealers_.begin(), trusted_sealers_.end(), lowercase(chain.sealer)) !=
          trusted_sealers_.end() &&
      contains_folded(chain.newest_results, "dmarc=pass")) {
    verdicts.arc_overridden = verdicts.dmarc.disposition;
    verdicts.dmarc.disposition = DmarcRecord::Policy::None;
  }
  // The one Authentication-Results field.
  std::vector<MethodResult> results;
  if (verdicts.spf.checked) {
    MethodResult spf_result{.method = "spf",
                            .result = spf::verdict_name(verdicts.spf.result.verdict),
                            .reason = verdicts.spf.result.reason,
                            .properties = {}};
    spf_result.properties.emplace_back(verdicts.spf.helo ? "smtp.helo" : "smtp.mailfrom",
                                       verdicts.spf.identity);
    results.push_back(std::move(spf_result));
  }
  if (verdicts.dkim.empty()) results.push_back({.method = "dkim", .result = "none"});
  for (const dkim::Verdict& verdict : verdicts.dkim) {
    MethodResult dkim_result{.method = "dkim",
                             .result = std::string(dkim::result_name(verdict.result)),
                             .reason = verdict.reason,
                             .properties = {}};
    if (!verdict.domain.empty()) dkim_result.properties.emplace_back("header.d", verdict.domain);
    if (!verdict.selector.empty()) {
      dkim_result.properties.emplace_back("header.s", verdict.selector);
    }
    if (!verdict.header_b.empty())
      dkim_result.properties.emplace_back("header.b", verdict.header_b);
    results.push_back(std::move(dkim_result));
  }
  MethodResult dmarc_result{.method = "dmarc",
                            .result = to_string(verdicts.dmarc.outcome),
                            .reason = {},
                            .properties = {}};
  if (verdicts.dmarc.outcome == DmarcResult::Outcome::Fail) {
    dmarc_result.reason = std::string("p=") + to_string(verdicts.dmarc.disposition) +
                          (verdicts.dmarc.sampled_out ? ", sampled out by pct" : "");
    if (verdicts.arc_overridden != DmarcRecord::Policy::None) {
      dmarc_result.reason = std::string("p=") + to_string(verdicts.arc_overridden) +
                            ", overridden by the ARC seal of " + chain.sealer;
    }
  }
  if (!verdicts.from_domain.empty()) {
    dmarc_result.properties.emplace_back("header.from", verdicts.from_domain);
  }
  results.push_back(std::move(dmarc_result));
  // RFC 8617 section 10.1 registers no property this server knows for a chain (its
  // header.oldest-pass is optional): how long the chain is and who sealed it last go in
  // the comment.
  const dkim::ArcVerdict& arc = verdicts.arc;
  MethodResult arc_result{
      .method = "arc",
      .result = std::string(dkim::arc_result_name(arc.result)),
      .reason = arc.result == dkim::ArcVerdict::Result::Pass
                    ? std::to_string(arc.instances) + " sets, the last sealed by " + arc.sealer
                    : arc.reason,
      .properties = {}};
  results.push_back(std::move(arc_result));
  verdicts.header = authentication_results(authserv_id_, results);
  constexpr std::string_view kName = "Authentication-Results: ";
  verdicts.results =
      verdicts.header.substr(kName.size(), verdicts.header.size() - kName.size() - 2);
  co_return verdicts;
}

}  // namespace rampart::mailauth
