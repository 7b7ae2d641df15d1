// The delivery service: sends the outbound queue to other servers. Due entries are
// taken from the queue in batches; each entry's recipients not yet answered are
// grouped by domain and handed to that domain's destination, whose sessions (at most
// `max_connections_per_domain`, `max_connections` in all) route it by DNS
// (dns/route.h), choose each MX host's TLS policy (DANE, MTA-STS, the domain's
// overrides: docs/delivery.md), and send one message after another over each
// connection (smtp/client.h). Each recipient's state is recorded durably after its
// transaction, before the next step, so a recipient a server took is never sent the
// message again. A recipient still waiting is retried with growing delays (5 minutes
// doubling, at most 4 hours) until `give_up`; a failed one, one given up on, and one
// waiting past `delay_notice` are reported to the sender (dsn.h), and one asking
// NOTIFY=SUCCESS gets a success report. An entry every recipient of which is settled
// leaves the queue.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace rampart::dns {
class Resolver;
}

namespace rampart::delivery {

class Delivery;
class StsPolicies;

struct OutboundOptions {
  std::string hostname;                         // EHLO name and Reporting-MTA
  std::chrono::seconds give_up{5 * 24 * 3600};  // then a waiting recipient fails
  std::chrono::seconds delay_notice{4 * 3600};  // then the sender is told (0: never)
  std::chrono::seconds first_retry{300};        // doubled each attempt
  std::chrono::seconds max_retry{4 * 3600};
  std::chrono::seconds idle_check{60};  // looked at at least this often
  std::size_t max_connections = 100;
  std::size_t max_connections_per_domain = 20;
  std::uint16_t port = 25;            // of the MX hosts (other ports: tests)
  std::filesystem::path ca_file;      // PKIX trust anchors; empty: the system's
  std::set<std::string> require_tls;  // domains whose MX hosts must have trusted TLS
  std::set<std::string> dane_off;     // domains whose TLSA records are not used
  // SMTP TLS reports (RFC 8460): the period each covers (0: none kept or sent), and
  // the address they come from.
  std::chrono::seconds tls_report_period{24 * 3600};
  std::string report_from;
};

class Outbound {
 public:
  // Runs on `executor` (one thread's); store calls go to `blocking`.
  Outbound(store::Store& store, Delivery& delivery, dns::Resolver& resolver,
           boost::asio::thread_pool& blocking, boost::asio::any_io_executor executor,
           OutboundOptions options);
  ~Outbound();

  // From any thread: look at the queue now (a message was queued, an admin asked).
  void wake();

  // Forever: takes what is due to the destinations, then waits for the next due time
  // or a wake.
  boost::asio::awaitable<void> run();

 private:
  struct Job;
  struct Item;
  struct Destination;
  struct HostPolicy;

  // One pass: the entries due now and not in flight. Returns when to look again.
  boost::asio::awaitable<std::int64_t> run_once();
  void dispatch(std::shared_ptr<Job> job);
  void start_sessions(const std::string& domain);
  // One connection's life for `domain`: items taken from its destination until none
  // is left for a moment.
  boost::asio::awaitable<void> session(std::string domain);
  boost::asio::awaitable<HostPolicy> host_policy(std::string domain, bool mx_secure,
                                                 std::string host, bool host_secure);
  // Counts one session's TLS outcome for the destination's next TLS report (an empty
  // `result_type`: success).
  void count_tls(const std::string& domain, const std::string& policy_type,
                 const std::string& policy, const std::string& result_type,
                 const std::string& mx_host, const std::string& ip, const std::string& info);
  // Forever: the counts written to the store each minute, and the reports of each
  // period that ended sent to the domains that publish where they want them.
  boost::asio::awaitable<void> tls_reports();
  boost::asio::awaitable<void> send_tls_reports();
  // Settles one item's part of its job; the job's end when it was the last.
  boost::asio::awaitable<void> finish(Item item);
  boost::asio::awaitable<void> finish_job(std::shared_ptr<Job> job);

  store::Store& store_;
  Delivery& delivery_;
  dns::Resolver& resolver_;
  boost::asio::thread_pool& blocking_;
  boost::asio::any_io_executor executor_;
  OutboundOptions options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<StsPolicies> sts_;
  boost::asio::steady_timer wake_;
  bool woken_ = false;                // a wake came while a pass was running
  std::set<std::int64_t> in_flight_;  // entries handed to destinations
  std::map<std::string, Destination> destinations_;
  std::deque<std::string> starved_;  // destinations waiting for a connection slot
  std::size_t sessions_ = 0;
  std::map<std::string, store::TlsResult> tls_counts_;  // not yet in the store
};

}  // namespace rampart::delivery
