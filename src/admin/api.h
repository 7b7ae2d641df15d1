// The admin API (docs/security.md, "Admin plane"): every administrative action is
// one typed call, the same whether it arrives on the server's admin socket or is run
// by `rampart` in-process while no server is running. A request is one JSON object:
//
//   {"call": "user.add", "address": "a@example.org", "password": "..."}
//
// with the fields its call declares (strings or integers; an unknown or missing field
// is refused). The answer is {"ok": true, "result": ...} or
// {"ok": false, "error": "not-found", "message": "..."}. Each call is written to the
// audit trail, durably and before it runs, as an admin action (never with a password);
// a call the trail cannot take is not run. Mail accounts have no way in: the socket
// admits only root and the service user (SO_PEERCRED), and no call takes a login.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace rampart::store {
class AuditLog;
class QueueStore;
}  // namespace rampart::store
namespace rampart::directory {
class Directory;
}
namespace rampart::dkim {
class KeyStore;
}
namespace rampart {
struct Config;
}

namespace rampart::admin {

struct Request {
  std::string call;
  std::map<std::string, std::string, std::less<>> text;
  std::map<std::string, std::int64_t, std::less<>> numbers;
  std::string account;  // whose account the call concerns (lowercase), if any
};

// Decodes and checks a request against its call's fields; BadInput says what is wrong
// (NotFound for an unknown call, TooBig past 64 KiB). Never throws, whatever the bytes.
Result<Request> parse_request(std::string_view json);

class Api {
 public:
  // `config` says what `domain.records` publishes (host name, listeners); `keys` are
  // the domains' DKIM keys.
  Api(store::QueueStore& queue, directory::Directory& directory, store::AuditLog& audit,
      dkim::KeyStore& keys, const Config& config);

  // Called after a call that makes queued mail due (retry, release): the delivery
  // service's wake-up.
  void on_queue_due(std::function<void()> wake) { on_queue_due_ = std::move(wake); }

  // Runs one request from `caller` ("uid 0"); returns the answer's JSON. Blocking.
  std::string call(std::string_view request, const std::string& caller);

 private:
  // Domains, accounts, app passwords and aliases.
  std::string administer(const Request& request);
  // The queue and the audit trail.
  std::string report(const Request& request);

  store::QueueStore& queue_;
  directory::Directory& directory_;
  store::AuditLog& audit_;
  dkim::KeyStore& keys_;
  const Config& config_;
  std::function<void()> on_queue_due_;
};

}  // namespace rampart::admin
