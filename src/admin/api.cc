#include "admin/api.h"

#include <boost/json.hpp>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "delivery/mta_sts.h"
#include "directory/directory.h"
#include "dkim/signer.h"
#include "store/audit_log.h"
#include "store/store.h"

namespace rampart::admin {
namespace {

namespace json = boost::json;

const char* error_name(Errc code) {
  switch (code) {
    case Errc::BadInput:
      return "bad-input";
    case Errc::TooBig:
      return "too-big";
    case Errc::NotFound:
      return "not-found";
    case Errc::Exists:
      return "exists";
    case Errc::NoPermission:
      return "no-permission";
    case Errc::OverQuota:
      return "over-quota";
    case Errc::TryLater:
      return "try-later";
    case Errc::Internal:
      break;
  }
  return "internal";
}

std::string failure(const Error& error) {
  std::string message = errc_name(error.code);
  if (!error.detail.empty()) message += " (" + error.detail + ")";
  json::object answer{{"ok", false}, {"error", error_name(error.code)}, {"message", message}};
  return json::serialize(answer);
}

std::string success(json::value result) {
  return json::serialize(json::object{{"ok", true}, {"result", std::move(result)}});
}

const std::string& text(const Request& request, std::string_view name) {
  static const std::string empty;
  auto it = request.text.find(name);
  return it == request.text.end() ? empty : it->second;
}

json::value record_json(const store::AuditRecord& record) {
  return json::object{
      {"seq", record.seq},           {"time_ms", record.time_ms}, {"kind", record.kind},
      {"account", record.account},   {"actor", record.actor},     {"address", record.address},
      {"protocol", record.protocol}, {"mailbox", record.mailbox}, {"count", record.count},
      {"detail", record.detail},     {"hash", record.hash}};
}

const char* state_name(store::QueuedRecipient::State state) {
  switch (state) {
    case store::QueuedRecipient::State::Pending:
      return "pending";
    case store::QueuedRecipient::State::Delivered:
      return "delivered";
    case store::QueuedRecipient::State::Failed:
      return "failed";
    case store::QueuedRecipient::State::Deferred:
      return "deferred";
  }
  return "pending";
}

json::value entry_json(const store::QueueEntry& entry) {
  json::array recipients;
  for (const auto& recipient : entry.recipients) {
    recipients.emplace_back(json::object{{"address", recipient.address},
                                         {"state", state_name(recipient.state)},
                                         {"reply", recipient.reply},
                                         {"via", recipient.via}});
  }
  return json::object{{"id", entry.id},
                      {"queued_at", entry.queued_at},
                      {"next_attempt", entry.next_attempt},
                      {"size", entry.size},
                      {"sender", entry.sender},
                      {"attempts", entry.attempts},
                      {"held", entry.held},
                      {"delay_reported", entry.delay_reported},
                      {"recipients", std::move(recipients)}};
}

struct DnsRecord {
  std::string name, type, value;  // value as a zone file writes it
};

// A TXT value in strings of at most 255 bytes (RFC 1035 section 3.3.14), quoted.
std::string txt(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); i += 255) {
    out += (out.empty() ? "\"" : " \"") + std::string(value.substr(i, 255)) + "\"";
  }
  return out;
}

// What `domain` publishes for mail to reach it and for its mail to be trusted: MX,
// SPF, each DKIM key, DMARC, TLS-RPT, and the SRV records mail clients look up (RFC
// 6186, RFC 8314) for each service configured.
std::vector<DnsRecord> dns_records(const std::string& domain, const std::vector<dkim::Key>& keys,
                                   const Config& config) {
  const std::string host = config.hostname + ".";
  const std::string zone = domain + ".";
  std::vector<DnsRecord> out{{zone, "MX", "10 " + host}, {zone, "TXT", txt("v=spf1 mx -all")}};
  for (const dkim::Key& key : keys) {
    out.push_back({key.selector + "._domainkey." + zone, "TXT", txt(key.record())});
  }
  out.push_back(
      {"_dmarc." + zone, "TXT", txt("v=DMARC1; p=quarantine; rua=mailto:postmaster@" + domain)});
  out.push_back({"_smtp._tls." + zone, "TXT", txt("v=TLSRPTv1; rua=mailto:postmaster@" + domain)});
  // MTA-STS (RFC 8461): the policy is served over HTTPS at mta-sts.DOMAIN, so only with
  // an https listener; its certificate must name mta-sts.DOMAIN.
  if (!config.listen.https.empty()) {
    out.push_back({"mta-sts." + zone, "CNAME", host});
    out.push_back(
        {"_mta-sts." + zone, "TXT", txt("v=STSv1; id=" + delivery::mta_sts_id(config.hostname))});
  }
  const std::pair<const char*, const std::vector<Endpoint>*> services[] = {
      {"_submissions._tcp.", &config.listen.submissions},
      {"_submission._tcp.", &config.listen.submission},
      {"_imaps._tcp.", &config.listen.imaps},
      {"_imap._tcp.", &config.listen.imap},
      {"_pop3s._tcp.", &config.listen.pop3s},
      {"_pop3._tcp.", &config.listen.pop3}};
  for (const auto& [service, endpoints] : services) {
    for (const Endpoint& endpoint : *endpoints) {
      if (!endpoint.unix_path.empty()) continue;
      out.push_back({service + zone, "SRV", "0 1 " + std::to_string(endpoint.port) + " " + host});
      break;
    }
  }
  return out;
}

}  // namespace

Api::Api(store::QueueStore& queue, directory::Directory& directory, store::AuditLog& audit,
         dkim::KeyStore& keys, const Config& config)
    : queue_(queue), directory_(directory), audit_(audit), keys_(keys), config_(config) {}

std::string Api::call(std::string_view request_text, const std::string& caller) {
  auto request = parse_request(request_text);
  if (!request) return failure(request.error());

  // Recorded before it runs, without secrets.
  std::string detail = request->call;
  for (const auto& [name, value] : request->text) {
    if (name != "password") detail += " " + name + "=" + value;
  }
  for (const auto& [name, value] : request->numbers) {
    detail += " " + name + "=" + std::to_string(value);
  }
  const store::AuditEvent event{.time_ms = unix_milliseconds(),
                                .kind = audit::kAdmin,
                                .account = request->account,
                                .actor = audit::kAdminActor,
                                .address = "local",
                                .protocol = "admin",
                                .detail = detail + " (by " + caller + ")"};
  if (auto recorded = audit_.append({event}); !recorded) {
    return failure({recorded.error().code,
                    "the audit trail cannot record the call: " + recorded.error().detail});
  }
  return request->call.starts_with("queue.") || request->call.starts_with("audit.")
             ? report(*request)
             : administer(*request);
}

std::string Api::administer(const Request& request) {
  const std::string& call = request.call;
  const std::string& name = text(request, "name");
  const std::string& address = text(request, "address");
  const std::string& domain = text(request, "domain");
  auto done = [](const Result<void>& result) {
    return result ? success(nullptr) : failure(result.error());
  };
  if (call == "domain.add") {
    auto added = directory_.add_domain(name);
    if (!added) return failure(added.error());
    // Every domain signs what it sends from the start (docs/delivery.md).
    if (auto made = keys_.make(name, true); !made) {
      log::warn("domain " + name + ": no DKIM keys: " + made.error().detail);
    }
    return success(nullptr);
  }
  if (call == "domain.dkim" || call == "domain.records") {
    auto domains = directory_.list_domains();
    if (!domains) return failure(domains.error());
    if (std::none_of(domains->begin(), domains->end(),
                     [&](const store::Domain& domain) { return iequals(domain.name, name); })) {
      return failure({Errc::NotFound, "no domain " + name});
    }
    auto keys = keys_.make(name, call == "domain.records" || request.numbers.at("rotate") == 0);
    if (!keys) return failure(keys.error());
    json::array out;
    for (const DnsRecord& record : dns_records(lowercase(name), *keys, config_)) {
      if (call == "domain.dkim" && record.name.find("._domainkey.") == std::string::npos) continue;
      out.emplace_back(
          json::object{{"name", record.name}, {"type", record.type}, {"value", record.value}});
    }
    return success(std::move(out));
  }
  if (call == "domain.remove") return done(directory_.remove_domain(name));
  if (call == "domain.list") {
    auto domains = directory_.list_domains();
    if (!domains) return failure(domains.error());
    json::array out;
    for (const auto& entry : *domains) out.emplace_back(entry.name);
    return success(std::move(out));
  }
  if (call == "user.add") {
    auto account = directory_.add_account(address, text(request, "password"));
    if (!account) return failure(account.error());
    return success(json::object{{"address", account->address}});
  }
  if (call == "user.passwd") {
    return done(directory_.set_password(address, text(request, "password")));
  }
  if (call == "user.remove") return done(directory_.remove_account(address));
  if (call == "user.list") {
    auto accounts = directory_.list_accounts(domain);
    if (!accounts) return failure(accounts.error());
    json::array out;
    for (const auto& account : *accounts) {
      out.emplace_back(json::object{{"address", account.address},
                                    {"created", account.created},
                                    {"quota_bytes", account.quota_bytes}});
    }
    return success(std::move(out));
  }
  if (call == "user.quota") {
    const std::int64_t bytes = request.numbers.at("bytes");
    if (bytes < 0) return failure({Errc::BadInput, "bytes must not be negative"});
    return done(directory_.set_quota(address, static_cast<std::uint64_t>(bytes)));
  }
  if (call == "app_password.add") {
    auto secret = directory_.add_app_password(address, text(request, "device"));
    if (!secret) return failure(secret.error());
    return success(json::object{{"secret", *secret}});
  }
  if (call == "app_password.remove") {
    return done(directory_.remove_app_password(address, text(request, "device")));
  }
  if (call == "app_password.list") {
    auto passwords = directory_.list_app_passwords(address);
    if (!passwords) return failure(passwords.error());
    json::array out;
    for (const auto& password : *passwords) {
      out.emplace_back(json::object{{"device", password.name}, {"created", password.created}});
    }
    return success(std::move(out));
  }
  if (call == "alias.add") return done(directory_.add_alias(address, text(request, "target")));
  if (call == "alias.remove") return done(directory_.remove_alias(address));
  if (call == "alias.list") {
    auto aliases = directory_.list_aliases(domain);
    if (!aliases) return failure(aliases.error());
    json::array out;
    for (const auto& alias : *aliases) {
      out.emplace_back(json::object{{"address", alias.address}, {"target", alias.target}});
    }
    return success(std::move(out));
  }
  return failure({Errc::NotFound, "no call " + call});
}

std::string Api::report(const Request& request) {
  const std::string& call = request.call;
  if (call == "queue.list") {
    auto entries = queue_.list_queue();
    if (!entries) return failure(entries.error());
    json::array out;
    for (const auto& entry : *entries) out.emplace_back(entry_json(entry));
    return success(std::move(out));
  }
  const auto id = request.numbers.find("id");
  if (call == "queue.show") {
    auto entry = queue_.get_queue_entry(id->second);
    return entry ? success(entry_json(*entry)) : failure(entry.error());
  }
  if (call == "queue.hold" || call == "queue.release") {
    auto done = queue_.hold_queue_entry(id->second, call == "queue.hold");
    if (done && call == "queue.release" && on_queue_due_) on_queue_due_();
    return done ? success(nullptr) : failure(done.error());
  }
  if (call == "queue.retry") {
    auto count = queue_.retry_queue(id == request.numbers.end() ? 0 : id->second);
    if (count && on_queue_due_) on_queue_due_();
    return count ? success(static_cast<std::int64_t>(*count)) : failure(count.error());
  }
  if (call == "queue.remove") {
    auto done = queue_.remove_queue_entry(id->second);
    return done ? success(nullptr) : failure(done.error());
  }
  if (call == "audit.query") {
    store::AuditFilter filter{.account = text(request, "account"),
                              .address = text(request, "address"),
                              .kind = text(request, "kind"),
                              .limit = 100,
                              .newest = true};
    for (const auto& [field, target] :
         {std::pair{"since_ms", &filter.since_ms}, std::pair{"until_ms", &filter.until_ms}}) {
      if (auto it = request.numbers.find(field); it != request.numbers.end()) {
        *target = it->second;
      }
    }
    if (auto it = request.numbers.find("limit"); it != request.numbers.end()) {
      if (it->second < 1 || it->second > 1'000'000) {
        return failure({Errc::BadInput, "limit must be from 1 to 1000000"});
      }
      filter.limit = static_cast<std::size_t>(it->second);
    }
    auto records = audit_.query(filter);
    if (!records) return failure(records.error());
    json::array out;
    for (const auto& record : *records) out.push_back(record_json(record));
    return success(std::move(out));
  }
  // audit.verify
  auto verified = audit_.verify();
  if (!verified) return failure(verified.error());
  return success(json::object{{"records", verified->records},
                              {"head", verified->head},
                              {"first_bad_seq", verified->first_bad_seq},
                              {"problem", verified->problem}});
}

}  // namespace rampart::admin
