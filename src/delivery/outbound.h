// The delivery service: sends the outbound queue to other servers. Each due entry's
// recipients not yet answered are grouped by domain, routed by DNS (dns/route.h) and
// offered to the MX hosts in order (smtp/client.h); each recipient's state is recorded
// durably after every session, before the next step, so a recipient a server took is
// never sent the message again. A recipient still waiting is retried with growing
// delays (5 minutes doubling, at most 4 hours) until `max_age`; a failed one, and one
// given up on, bounces to the sender (dsn.h), and one asking NOTIFY=SUCCESS gets a
// success report. An entry every recipient of which is settled leaves the queue.
// docs/delivery.md.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "store/store.h"

namespace rampart::dns {
class Resolver;
}

namespace rampart::delivery {

class Delivery;

struct OutboundOptions {
  std::string hostname;                         // EHLO name and Reporting-MTA
  std::chrono::seconds max_age{5 * 24 * 3600};  // then a waiting recipient fails
  std::chrono::seconds first_retry{300};        // doubled each attempt
  std::chrono::seconds max_retry{4 * 3600};
  std::chrono::seconds idle_check{60};  // looked at at least this often
};

class Outbound {
 public:
  // Runs on `executor` (one thread's); store calls go to `blocking`.
  Outbound(store::Store& store, Delivery& delivery, dns::Resolver& resolver,
           boost::asio::thread_pool& blocking, boost::asio::any_io_executor executor,
           OutboundOptions options);

  // From any thread: look at the queue now (a message was queued, an admin asked).
  void wake();

  // Forever: sends what is due, then waits for the next due time or a wake.
  boost::asio::awaitable<void> run();

 private:
  // One pass: a batch of the entries due now. Returns when to look again.
  boost::asio::awaitable<std::int64_t> run_once();
  // Returns the entry's next attempt, 0 once it has left the queue.
  boost::asio::awaitable<std::int64_t> send_entry(store::QueueEntry entry);

  store::Store& store_;
  Delivery& delivery_;
  dns::Resolver& resolver_;
  boost::asio::thread_pool& blocking_;
  boost::asio::any_io_executor executor_;
  OutboundOptions options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::steady_timer wake_;
  bool woken_ = false;  // a wake came while a pass was running
};

}  // namespace rampart::delivery
