#include "delivery/sts_policies.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/clock.h"
#include "base/log.h"
#include "dns/rdata.h"
#include "dns/resolver.h"
#include "net/stream.h"

namespace rampart::delivery {

namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

// RFC 8461 section 3.3: the fetch is bounded in time and size.
constexpr seconds kConnect{20}, kExchange{60};

}  // namespace

StsPolicies::StsPolicies(dns::Resolver& resolver, std::shared_ptr<asio::ssl::context> tls,
                         asio::any_io_executor executor, std::uint16_t port)
    : resolver_(resolver), tls_(std::move(tls)), executor_(executor), port_(port) {}

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<StsLookup> StsPolicies::get(std::string domain) {
  // Section 3.1: exactly one TXT record starting "v=STSv1"; more than one, or none
  // valid, is no (new) policy.
  const std::string name = "_mta-sts." + domain;
  const dns::Type txt = dns::Type::Txt;
  auto answer = co_await resolver_.query(name, txt);
  std::optional<std::string> id;
  int records = 0;
  if (answer && !answer->bogus) {
    for (const std::string& text : dns::txt_records(*answer)) {
      if (!text.starts_with("v=STSv1")) continue;
      ++records;
      id = parse_sts_record(text);
    }
  }
  // The cache as it is now, after the lookup: another connection may have filled it.
  const std::int64_t now = unix_seconds();
  const auto cached = cache_.find(domain);
  const bool have = cached != cache_.end() && cached->second.expires > now;
  StsLookup lookup;
  if (records != 1 || !id) {
    if (have) lookup.policy = cached->second.policy;  // the record may come back
    co_return lookup;
  }
  if (have && cached->second.id == *id) {
    lookup.policy = cached->second.policy;
    co_return lookup;
  }
  if (auto busy = fetching_.find(domain); busy != fetching_.end()) {
    // Another connection is fetching it: its result, when it comes, is ours.
    asio::steady_timer done(executor_, kConnect + kExchange);
    busy->second.push_back(&done);
    boost::system::error_code ignored;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (auto still = fetching_.find(domain); still != fetching_.end()) {
      std::erase(still->second, &done);
    }
    const auto fresh = cache_.find(domain);
    if (fresh != cache_.end() && fresh->second.expires > unix_seconds()) {
      lookup.policy = fresh->second.policy;
    }
    co_return lookup;
  }
  fetching_[domain];
  Result<StsPolicy> fetched = co_await fetch(domain);
  for (asio::steady_timer* waiting : fetching_[domain]) waiting->cancel();
  fetching_.erase(domain);
  if (!fetched) {
    log::warn("outbound: MTA-STS policy of " + domain + ": " + fetched.error().detail);
    lookup.failure = fetched.error().code == Errc::NoPermission ? "sts-webpki-invalid"
                     : fetched.error().code == Errc::BadInput   ? "sts-policy-invalid"
                                                                : "sts-policy-fetch-error";
    lookup.detail = fetched.error().detail;
    if (have) lookup.policy = cached->second.policy;
    co_return lookup;
  }
  // Refetched meanwhile by another session: the newest wins, either is right.
  cache_[domain] = Cached{.policy = *fetched, .id = *id, .expires = now + fetched->max_age};
  lookup.policy = *fetched;
  co_return lookup;
}

asio::awaitable<Result<StsPolicy>> StsPolicies::fetch(std::string domain) {
  const std::string host = "mta-sts." + domain;
  std::vector<std::string> addresses;
  for (dns::Type type : {dns::Type::Aaaa, dns::Type::A}) {
    auto answer = co_await resolver_.query(host, type);
    if (!answer || answer->bogus) continue;
    for (const std::string& rdata : answer->rdata) {
      auto text = type == dns::Type::A ? dns::parse_a(rdata) : dns::parse_aaaa(rdata);
      if (text) addresses.push_back(std::move(*text));
    }
  }
  if (addresses.empty()) co_return fail(Errc::TryLater, "no address for " + host);
  const seconds connect_timeout = kConnect, exchange_timeout = kExchange;
  const std::uint16_t port = port_;
  std::string why = "cannot connect to " + host;
  bool certificate_refused = false;
  for (const std::string& address : addresses) {
    std::optional<net::Socket> socket =
        co_await net::Stream::connect(executor_, address, port, connect_timeout);
    if (!socket) continue;
    net::Stream stream(std::move(*socket), tls_);
    // Section 3.3: HTTPS with a certificate valid for the host, per RFC 6125.
    const std::function<bool(SSL*)> configure = [&host](SSL* ssl) {
      return net::require_peer_name(ssl, host);
    };
    const bool secured = co_await stream.start_tls_client(host, connect_timeout, configure);
    if (!secured) {
      const long error = stream.tls_verify_result();
      certificate_refused = error != X509_V_OK;
      why = host + "[" + address + "]: " +
            (error == X509_V_OK ? std::string("TLS handshake failed")
                                : std::string("certificate not accepted: ") +
                                      X509_verify_cert_error_string(error));
      continue;
    }
    // HTTP/1.0: the answer ends when the server closes, never chunked.
    const std::string request = "GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: " + host +
                                "\r\nUser-Agent: Rampart\r\nAccept: text/plain\r\n\r\n";
    const bool sent = co_await stream.write(request, exchange_timeout);
    if (!sent) {
      why = host + "[" + address + "]: the request could not be sent";
      continue;
    }
    std::string response;
    bool complete = false;
    while (response.size() <= kMaxStsResponse) {
      const std::size_t room = kMaxStsResponse + 1 - response.size();
      const bool read = co_await stream.read_some(response, room, exchange_timeout);
      if (!read) {
        complete = true;  // closed (or timed out: then the parse decides)
        break;
      }
    }
    stream.close();
    if (!complete) co_return fail(Errc::BadInput, host + ": the policy is over 64 KiB");
    const std::optional<HttpResponse> parsed = parse_http_response(response);
    if (!parsed) co_return fail(Errc::BadInput, host + ": malformed HTTP response");
    // No redirects are followed (section 3.3).
    if (parsed->status != 200) {
      co_return fail(Errc::NotFound, host + ": HTTP status " + std::to_string(parsed->status));
    }
    if (parsed->content_type != "text/plain") {
      co_return fail(Errc::BadInput, host + ": served as " + parsed->content_type);
    }
    std::optional<StsPolicy> policy = parse_sts_policy(parsed->body);
    if (!policy) co_return fail(Errc::BadInput, host + ": not a valid STSv1 policy");
    co_return *policy;
  }
  co_return fail(certificate_refused ? Errc::NoPermission : Errc::TryLater, why);
}

}  // namespace rampart::delivery
