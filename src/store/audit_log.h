// The audit trail's storage (docs/architecture.md, rule 6): an append-only, hash-chained list
// of who did what to which mailbox, from where. Each record's hash covers the
// previous record's hash and all of its own fields, so an edit, insertion or removal
// anywhere shows up in verify() at the first record that no longer matches. Kept apart
// from the mail store (its own database file), so audit writes never wait on mail ones.
//
// Threading: every method is blocking and thread-safe; several processes (the server
// and the admin command) may append at once, and the chain stays one chain.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace rampart::store {

struct AuditEvent {
  std::int64_t time_ms = 0;  // when it happened, Unix milliseconds
  std::string kind;          // "login", "login-failed", "read", "change", ... (src/audit)
  std::string account;       // whose mail or login; empty for none
  std::string actor;         // who acted: an account, "admin" or "system"
  std::string address;       // the client's IP address; empty for local actions
  std::string protocol;      // "imap", "smtp", "cli", ...
  std::string mailbox;       // the mailbox concerned, if one
  std::int64_t count = 0;    // messages concerned (read, expunged, ...)
  std::string detail;        // what exactly: "UID 1:40 BODY.PEEK[]", "user add x@y"
};

struct AuditRecord : AuditEvent {
  std::int64_t seq = 0;  // 1, 2, 3, ... in append order
  std::string hash;      // 64 hex digits
};

struct AuditFilter {
  std::string account, address, kind;  // empty: any
  std::int64_t since_ms = 0;
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();
  std::int64_t after_seq = 0;  // for paging: only records after this one
  std::size_t limit = 1000;
  bool newest = false;  // the last `limit` matches rather than the first (still oldest first)
};

struct AuditVerification {
  std::int64_t records = 0;  // records checked
  std::string head;          // the last record's hash (anchor it elsewhere to detect rewrites)
  std::int64_t first_bad_seq = 0;  // 0: the chain is whole
  std::string problem;             // why first_bad_seq fails
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends in order, in one durable transaction: returns once they survive a crash.
  virtual Result<void> append(const std::vector<AuditEvent>& events) = 0;
  // Oldest first.
  virtual Result<std::vector<AuditRecord>> query(const AuditFilter& filter) = 0;
  // True when `account` logged in successfully from `network` (as `address_network`
  // makes it) at or after `since_ms`; and whether it ever logged in at all.
  struct LoginHistory {
    bool any_login = false;
    bool from_network = false;
  };
  virtual Result<LoginHistory> login_history(const std::string& account, const std::string& network,
                                             std::int64_t since_ms) = 0;
  // Recomputes every hash from the first record.
  virtual Result<AuditVerification> verify() = 0;
};

// The hash of a record: SHA-256 over the previous hash and each field, length-prefixed.
std::string audit_hash(const std::string& previous_hash, std::int64_t seq, const AuditEvent& event);

// data_dir/audit.db, created on first use.
Result<std::unique_ptr<AuditLog>> open_sqlite_audit_log(const std::filesystem::path& data_dir);

}  // namespace rampart::store
