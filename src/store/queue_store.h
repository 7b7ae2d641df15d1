// The queue role of the store: messages accepted for remote recipients, kept durably
// until the delivery service has sent them. Blocking and thread-safe
// (src/store/store.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/types.h"

namespace rampart::store {

// A message accepted for remote recipients, waiting to be sent (the sender is the
// delivery service's; the store only keeps the queue durable). DSN fields (RFC 3461)
// are kept as the client sent them.
struct QueuedRecipient {
  // What became of it so far: the delivery service records each step before the next,
  // so a recipient the remote server took is never sent to again.
  enum class State { Pending = 0, Delivered = 1, Failed = 2, Deferred = 3 };
  std::string address;
  std::string notify;  // NOTIFY=, empty if absent
  std::string orcpt;   // ORCPT=, empty if absent
  State state = State::Pending;
  std::string reply;  // the last reply or reason for its state
  // The last attempt's host, address and TLS ("mx.example[192.0.2.1] dane TLSv1.3 ...").
  std::string via;
  bool reported = false;  // its settled state was reported to the sender (or needed not be)
};

struct QueueEntry {
  std::int64_t id = 0;
  AccountId account = 0;  // who submitted it; 0 if that account is gone
  std::string sender;     // envelope MAIL FROM, empty for <>
  std::string ret;        // RET=FULL|HDRS or empty
  std::string envid;      // ENVID= or empty
  std::vector<QueuedRecipient> recipients;
  std::string blob_id;
  std::uint64_t size = 0;
  std::int64_t queued_at = 0;     // Unix seconds
  std::int64_t next_attempt = 0;  // Unix seconds
  int attempts = 0;
  bool held = false;            // not sent until released
  bool delay_reported = false;  // the sender was told it is late (a delay DSN)
};

// What is due in the queue: at most a batch of entries, and when the next one not
// yet due is (0: none).
struct DueQueue {
  std::vector<QueueEntry> entries;  // not held, next_attempt <= now, soonest first
  std::int64_t next_attempt = 0;
};

// SMTP TLS reporting (RFC 8460): how many sessions to a destination domain, in one
// reporting period, went one way under one policy. Kept until reported.
struct TlsResult {
  std::int64_t period = 0;  // the period's start (Unix seconds)
  std::string domain;       // the policy domain: where the mail went
  std::string policy_type;  // "sts", "tlsa" or "no-policy-found"
  std::string policy;       // the policy as the report shows it (JSON text), or empty
  std::string result_type;  // empty: successful sessions; else the RFC 8460 result type
  std::string mx_host, receiving_ip, info;  // for failures
  std::int64_t count = 0;
};

class QueueStore {
 public:
  virtual ~QueueStore() = default;

  // The outbound queue. enqueue stores the blob and the entry durably (id, blob_id,
  // size, queued_at and next_attempt are filled in) and returns the stored entry.
  virtual Result<QueueEntry> enqueue(const NewMessage& message, const QueueEntry& entry) = 0;
  virtual Result<std::vector<QueueEntry>> list_queue() = 0;
  // The entries not held whose next attempt has come, at most `limit` of them, leaving
  // out those in `skip` (being sent now).
  virtual Result<DueQueue> due_queue(std::int64_t now, std::size_t limit,
                                     const std::vector<std::int64_t>& skip) = 0;
  // One entry; NotFound when there is none.
  virtual Result<QueueEntry> get_queue_entry(std::int64_t id) = 0;
  // A held entry is not sent until released.
  virtual Result<void> hold_queue_entry(std::int64_t id, bool held) = 0;
  // Makes the entry (0: every entry not held) due now; returns how many.
  virtual Result<std::size_t> retry_queue(std::int64_t id) = 0;
  // Removes the entry unsent, and its blob when nothing else holds it.
  virtual Result<void> remove_queue_entry(std::int64_t id) = 0;
  // During a delivery attempt, durably: the state, reply, route and report of the recipients
  // at `positions` (indices into `recipients`, the entry's recipients in order).
  virtual Result<void> record_recipients(std::int64_t id, const std::vector<std::size_t>& positions,
                                         const std::vector<QueuedRecipient>& recipients) = 0;
  // After it: the attempts made, when to try next, and whether the delay was reported.
  virtual Result<void> reschedule(std::int64_t id, int attempts, std::int64_t next_attempt,
                                  bool delay_reported) = 0;

  // TLS results: adds the counts to those kept (same key: summed); reads those of
  // periods that started before `before`, at most `limit` rows, by period and domain;
  // drops one period's results for one domain once reported.
  virtual Result<void> add_tls_results(const std::vector<TlsResult>& results) = 0;
  virtual Result<std::vector<TlsResult>> tls_results_before(std::int64_t before,
                                                            std::size_t limit) = 0;
  virtual Result<void> remove_tls_results(std::int64_t period, const std::string& domain) = 0;
};

}  // namespace rampart::store
