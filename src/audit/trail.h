// The audit service (docs/architecture.md, rule 6). Front ends and the admin command record
// what happened: logins, mailbox reads, changes, deliveries, admin and config actions.
// A writer thread appends the records to the hash-chained store::AuditLog in groups,
// and watches them for what an administrator must hear about at once:
//
//   new-network     a login from a network (IPv4 /24, IPv6 /64) the account has not
//                   logged in from during the last 30 days (not its first login ever)
//   bulk-download   one account's messages read faster than `bulk_read_messages`
//                   per `window`
//   mass-deletion   more than `mass_delete_messages` expunged per `window`
//   failed-logins   `failed_logins` failures per `window` for one account or address
//   admin-access    the admin reading anyone's mail (always)
//   disk-low        deliveries refused for the free-space reserve (raised by the server)
//
// Each alert is itself recorded (kind "alert") and handed to the sinks (the log, a
// webhook, a mail to the admin) on a thread of its own, so a slow webhook never
// delays the trail.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/audit_log.h"

namespace rampart::audit {

// Record kinds.
inline constexpr char kLogin[] = "login";
inline constexpr char kLoginFailed[] = "login-failed";
inline constexpr char kOpen[] = "open";        // a mailbox selected
inline constexpr char kRead[] = "read";        // message content served
inline constexpr char kChange[] = "change";    // flags, copies, moves, appends, mailboxes
inline constexpr char kExpunge[] = "expunge";  // messages removed for good
inline constexpr char kDelivery[] = "delivery";
inline constexpr char kRefused[] = "refused";  // a message refused for what it holds
inline constexpr char kAdmin[] = "admin";      // an admin command
inline constexpr char kConfig[] = "config";    // the server started or reloaded
inline constexpr char kAlert[] = "alert";

// The actor of admin commands.
inline constexpr char kAdminActor[] = "admin";

struct AlertRules {
  std::int64_t bulk_read_messages = 1000;
  std::int64_t mass_delete_messages = 200;
  std::int64_t failed_logins = 20;
  std::chrono::seconds window{600};
  std::chrono::hours familiar_for{24 * 30};
};

struct Alert {
  std::string kind;  // "new-network", "bulk-download", ...
  std::string account;
  std::string address;
  std::string text;  // one line for people
};

using AlertSink = std::function<void(const Alert&)>;

class Trail {
 public:
  Trail(store::AuditLog& log, AlertRules rules, std::vector<AlertSink> sinks);
  ~Trail();  // writes what is queued, then stops
  Trail(const Trail&) = delete;
  Trail& operator=(const Trail&) = delete;

  // Queues one record (time_ms 0: now). Never blocks on I/O; written in order within
  // kLinger, in transactions of up to kBatch records.
  void record(store::AuditEvent event);
  // Raises an alert the server found itself (disk-low): recorded and sent to the sinks
  // like those the records raise.
  void raise(Alert alert);
  // Returns once everything recorded before the call is durable and its alerts sent
  // to the sinks.
  void flush();

 private:
  struct Window {
    std::deque<std::pair<std::int64_t, std::int64_t>> entries;  // (time_ms, count)
    std::int64_t total = 0;
    std::int64_t alerted_ms = -1;  // one alert per window
  };
  void write_loop();
  void send_loop();
  // Alerts raised by `event`; `log` is read for login history.
  std::vector<Alert> watch(const store::AuditEvent& event);
  bool over(Window& window, std::int64_t now_ms, std::int64_t count, std::int64_t limit);

  store::AuditLog& log_;
  const AlertRules rules_;
  const std::vector<AlertSink> sinks_;

  std::mutex mutex_;
  std::condition_variable wake_, send_wake_, done_;
  std::vector<store::AuditEvent> queue_;
  std::vector<Alert> raised_directly_;                     // by raise(), not yet recorded
  std::vector<Alert> alerts_;                              // waiting for the sinks
  static constexpr std::size_t kBatch = 1000;              // records per transaction, at most
  static constexpr std::chrono::milliseconds kLinger{50};  // waited for a batch to fill
  std::uint64_t queued_ = 0;                               // records ever queued
  std::uint64_t written_ = 0;                              // of those, written (or failed for good)
  std::uint64_t raised_ = 0;                               // alerts ever raised
  std::uint64_t sent_ = 0;                                 // of those, handed to every sink
  int flushing_ = 0;                                       // flush() callers waiting: no lingering
  bool stopping_ = false;                                  // the writer's end
  bool sender_stopping_ = false;                           // the sender's, after the writer's

  // Writer thread only.
  std::map<std::string, Window> reads_, deletions_, failures_;
  // Account -> networks of its successful logins in the batch being written.
  std::map<std::string, std::set<std::string>> batch_logins_;

  std::thread writer_, sender_;
};

}  // namespace rampart::audit
