#include "delivery/outbound.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "base/ascii.h"
#include "base/clock.h"
#include "base/log.h"
#include "delivery/delivery.h"
#include "delivery/dsn.h"
#include "dns/route.h"
#include "net/offload.h"
#include "smtp/client.h"

namespace rampart::delivery {

namespace asio = boost::asio;
using State = store::QueuedRecipient::State;

namespace {

// Entries taken from the queue per pass: what a pass holds stays small however long
// the queue grows.
constexpr std::size_t kBatch = 100;

bool settled(State state) { return state == State::Delivered || state == State::Failed; }

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : lowercase(address.substr(at + 1));
}

// RFC 3461 section 4.1: without NOTIFY, failures (and delays) are reported; NEVER
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

}  // namespace

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
  // Opportunistic TLS (RFC 7435): encrypted when offered, the certificate not required.
  tls_->set_verify_mode(asio::ssl::verify_none);
}

void Outbound::wake() {
  asio::post(executor_, [this] {
    woken_ = true;
    wake_.cancel();
  });
}

asio::awaitable<void> Outbound::run() {
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

asio::awaitable<std::int64_t> Outbound::run_once() {
  const std::int64_t now = unix_seconds();
  auto due =
      co_await net::offload(blocking_, [this, now] { return store_.due_queue(now, kBatch); });
  std::int64_t next = now + options_.idle_check.count();
  if (!due) {
    log::warn("outbound: cannot read the queue: " + due.error().detail);
    co_return next;
  }
  if (due->next_attempt != 0) next = std::min(next, due->next_attempt);
  for (store::QueueEntry& entry : due->entries) {
    store::QueueEntry current = std::move(entry);
    const std::int64_t again = co_await send_entry(current);
    if (again != 0) next = std::min(next, again);
  }
  // A full batch: more may be due already.
  if (due->entries.size() == kBatch) next = now;
  co_return next;
}

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<std::int64_t> Outbound::send_entry(store::QueueEntry entry) {
  const std::string blob_id = entry.blob_id;
  auto blob = co_await net::offload(blocking_, [&] { return store_.read_blob(blob_id); });
  if (!blob) {
    log::error("outbound: queue " + std::to_string(entry.id) + ": " + blob.error().detail);
    co_return unix_seconds() + options_.first_retry.count();
  }
  std::vector<store::QueuedRecipient>& recipients = entry.recipients;
  auto record = [&](int attempts, std::int64_t next) {
    return net::offload(blocking_, [this, &entry, &recipients, attempts, next] {
      return store_.record_attempt(entry.id, recipients, attempts, next);
    });
  };
  std::vector<bool> was_settled;
  for (const store::QueuedRecipient& recipient : recipients) {
    was_settled.push_back(settled(recipient.state));
  }
  std::map<std::string, std::vector<std::size_t>> domains;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    if (!settled(recipients[i].state)) domains[domain_of(recipients[i].address)].push_back(i);
  }
  const smtp::ClientOptions client{.helo_name = options_.hostname, .port = 25, .tls = tls_};
  for (const auto& [domain_name, indices] : domains) {
    auto settle = [&](const std::vector<std::size_t>& which, State state, std::string reply) {
      for (std::size_t i : which) {
        recipients[i].state = state;
        recipients[i].reply = reply;
      }
    };
    const std::string domain = domain_name;
    const dns::Route route = co_await dns::route(resolver_, domain);
    if (route.kind == dns::Route::Kind::NullMx) {
      settle(indices, State::Failed, "556 5.1.10 " + domain + " accepts no mail (null MX)");
      continue;
    }
    if (route.kind == dns::Route::Kind::NoSuchDomain) {
      settle(indices, State::Failed, "550 5.1.2 no such domain: " + domain);
      continue;
    }
    if (route.kind == dns::Route::Kind::TryLater) {
      settle(indices, State::Deferred, "451 4.4.3 " + route.detail);
      continue;
    }
    std::vector<std::size_t> waiting = indices;
    std::string last = "451 4.4.1 no host of " + domain + " answered";
    for (const dns::Host& host : route.hosts) {
      for (const std::string& address : host.addresses) {
        if (waiting.empty()) break;
        smtp::OutboundMessage message{.mail_from = entry.sender,
                                      .recipients = {},
                                      .ret = entry.ret,
                                      .envid = entry.envid,
                                      .data = *blob};
        for (std::size_t i : waiting) {
          message.recipients.push_back(
              {recipients[i].address, recipients[i].notify, recipients[i].orcpt});
        }
        const std::string host_name = host.name;
        const std::string host_address = address;
        const smtp::SessionOutcome outcome =
            co_await smtp::send_message(executor_, client, host_name, host_address, message);
        std::vector<std::size_t> still;
        for (std::size_t k = 0; k < waiting.size(); ++k) {
          const smtp::Attempt& attempt = outcome.recipients[k];
          store::QueuedRecipient& recipient = recipients[waiting[k]];
          recipient.reply = attempt.text;
          if (attempt.delivered()) {
            recipient.state = State::Delivered;
          } else if (attempt.permanent()) {
            recipient.state = State::Failed;
          } else if (attempt.enhanced == "4.4.1") {
            still.push_back(waiting[k]);  // this host could not be reached: the next
            last = attempt.text;
          } else {
            recipient.state = State::Deferred;  // the server said later
          }
          log::info("outbound: queue " + std::to_string(entry.id) + " to <" + recipient.address +
                    "> via " + host_name + "[" + host_address + "]" +
                    (outcome.tls ? " (" + outcome.tls_description + ")" : "") + ": " +
                    attempt.text);
        }
        // Each recipient's fate is durable before anything else is tried.
        auto recorded = co_await record(entry.attempts, entry.next_attempt);
        if (!recorded) log::error("outbound: cannot record: " + recorded.error().detail);
        waiting = std::move(still);
      }
    }
    settle(waiting, State::Deferred, last);
  }
  const std::int64_t now = unix_seconds();
  const bool expired = now - entry.queued_at >= options_.max_age.count();
  for (store::QueuedRecipient& recipient : recipients) {
    if (expired && !settled(recipient.state)) {
      recipient.state = State::Failed;
      recipient.reply = "554 4.4.7 gave up after " +
                        std::to_string(options_.max_age.count() / 3600) +
                        " hours: " + recipient.reply;
    }
  }
  // Reports for what was settled in this pass, as the sender asked (RFC 3461): a
  // failure is told at once, not when the last recipient is done.
  Dsn report{.reporting_mta = options_.hostname,
             .to = entry.sender,
             .envid = entry.envid,
             .arrival = entry.queued_at,
             .now = now,
             .retry_until = 0,
             .headers_only = iequals(entry.ret, "HDRS"),
             .recipients = {}};
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    const store::QueuedRecipient& recipient = recipients[i];
    if (!settled(recipient.state) || was_settled[i]) continue;
    const bool failed = recipient.state == State::Failed;
    if (!notify_wants(recipient.notify, failed ? "FAILURE" : "SUCCESS")) continue;
    report.recipients.push_back(
        {.address = recipient.address,
         .orcpt = recipient.orcpt,
         .action = failed ? DsnRecipient::Action::Failed : DsnRecipient::Action::Delivered,
         .status = status_of(recipient.reply, failed ? "5.0.0" : "2.0.0"),
         .remote_mta = {},
         .diagnostic = recipient.reply});
  }
  // Never to the null sender: nothing answers a report (RFC 3461 section 6.2).
  if (!entry.sender.empty() && !report.recipients.empty()) {
    const std::string dsn = make_dsn(report, *blob);
    const Envelope envelope{.mail_from = "", .recipients = {{.address = entry.sender}}};
    const Origin origin{.protocol = "dsn",
                        .actor = {},
                        .address = {},
                        .detail = "delivery report for queue " + std::to_string(entry.id)};
    auto sent =
        co_await net::offload(blocking_, [&] { return delivery_.submit(envelope, dsn, origin); });
    if (!sent) log::warn("outbound: no report to <" + entry.sender + ">: " + sent.error().detail);
  }
  const bool done = std::all_of(recipients.begin(), recipients.end(),
                                [](const auto& r) { return settled(r.state); });
  if (!done) {
    const int attempts = entry.attempts + 1;
    const std::int64_t delay = std::min<std::int64_t>(
        options_.first_retry.count() << std::min(attempts - 1, 20), options_.max_retry.count());
    const std::int64_t next = now + delay;
    auto recorded = co_await record(attempts, next);
    if (!recorded) log::error("outbound: cannot record: " + recorded.error().detail);
    co_return next;
  }
  const std::int64_t id = entry.id;
  auto removed = co_await net::offload(blocking_, [&] { return store_.remove_queue_entry(id); });
  if (!removed) log::error("outbound: cannot remove queue " + std::to_string(id));
  co_return 0;
}

}  // namespace rampart::delivery
