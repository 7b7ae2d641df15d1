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
  std::string address;
  std::string notify;  // NOTIFY=, empty if absent
  std::string orcpt;   // ORCPT=, empty if absent
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
};

class QueueStore {
 public:
  virtual ~QueueStore() = default;

  // The outbound queue. enqueue stores the blob and the entry durably (id, blob_id,
  // size, queued_at and next_attempt are filled in) and returns the stored entry.
  virtual Result<QueueEntry> enqueue(const NewMessage& message, const QueueEntry& entry) = 0;
  virtual Result<std::vector<QueueEntry>> list_queue() = 0;
};

}  // namespace rampart::store
