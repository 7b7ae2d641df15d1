#include "store/audit_log.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "base/network.h"
#include "base/sha256.h"
#include "store/sqlite/connection_internal.h"

namespace rampart::store {
namespace {

using sqlite::Connection;
using sqlite::Failure;
using sqlite::Query;

constexpr char kGenesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  account TEXT NOT NULL,
  actor TEXT NOT NULL,
  address TEXT NOT NULL,
  network TEXT NOT NULL,
  protocol TEXT NOT NULL,
  mailbox TEXT NOT NULL,
  count INTEGER NOT NULL,
  detail TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_account ON events(account, time_ms);
CREATE INDEX IF NOT EXISTS events_address ON events(address, time_ms);
CREATE INDEX IF NOT EXISTS events_time ON events(time_ms);
CREATE INDEX IF NOT EXISTS events_logins ON events(account, kind, network, time_ms);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
)sql";

constexpr char kColumns[] =
    "seq, time_ms, kind, account, actor, address, protocol, mailbox, count, detail, hash";

AuditRecord read_record(const Query& query) {
  AuditRecord record;
  record.seq = query.get<std::int64_t>(0);
  record.time_ms = query.get<std::int64_t>(1);
  record.kind = query.get<std::string>(2);
  record.account = query.get<std::string>(3);
  record.actor = query.get<std::string>(4);
  record.address = query.get<std::string>(5);
  record.protocol = query.get<std::string>(6);
  record.mailbox = query.get<std::string>(7);
  record.count = query.get<std::int64_t>(8);
  record.detail = query.get<std::string>(9);
  record.hash = query.get<std::string>(10);
  return record;
}

class SqliteAuditLog final : public AuditLog {
 public:
  explicit SqliteAuditLog(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)) {}

  Result<void> append(const std::vector<AuditEvent>& events) override {
    if (events.empty()) return {};
    std::lock_guard lock(mutex_);
    return in_transaction([&] {
      std::int64_t seq = 0;
      std::string previous = kGenesis;
      {
        Query last(*connection_, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
        if (last.next()) {
          seq = last.get<std::int64_t>(0);
          previous = last.get<std::string>(1);
        }
      }
      for (const AuditEvent& event : events) {
        ++seq;
        previous = audit_hash(previous, seq, event);
        Query(*connection_,
              "INSERT INTO events(seq, time_ms, kind, account, actor, address, network, "
              "protocol, mailbox, count, detail, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
              seq, event.time_ms, event.kind, event.account, event.actor, event.address,
              address_network(event.address), event.protocol, event.mailbox, event.count,
              event.detail, previous)
            .run();
      }
    });
  }

  Result<std::vector<AuditRecord>> query(const AuditFilter& filter) override {
    std::lock_guard lock(mutex_);
    std::vector<AuditRecord> records;
    try {
      Query query(*connection_,
                  std::string("SELECT ") + kColumns +
                      " FROM events WHERE seq > ?1 AND time_ms >= ?2 AND time_ms <= ?3"
                      " AND (?4 = '' OR account = ?4) AND (?5 = '' OR address = ?5)"
                      " AND (?6 = '' OR kind = ?6) ORDER BY seq " +
                      (filter.newest ? "DESC" : "ASC") + " LIMIT ?7",
                  filter.after_seq, filter.since_ms, filter.until_ms, filter.account,
                  filter.address, filter.kind, static_cast<std::int64_t>(filter.limit));
      while (query.next()) records.push_back(read_record(query));
    } catch (const Failure& failure) {
      return tl::unexpected(sqlite::to_error(failure));
    }
    if (filter.newest) std::reverse(records.begin(), records.end());
    return records;
  }

  Result<LoginHistory> login_history(const std::string& account, const std::string& network,
                                     std::int64_t since_ms) override {
    std::lock_guard lock(mutex_);
    LoginHistory history;
    try {
      Query any(*connection_, "SELECT 1 FROM events WHERE account = ? AND kind = 'login' LIMIT 1",
                account);
      history.any_login = any.next();
      Query from(*connection_,
                 "SELECT 1 FROM events WHERE account = ? AND kind = 'login' AND network = ? "
                 "AND time_ms >= ? LIMIT 1",
                 account, network, since_ms);
      history.from_network = from.next();
    } catch (const Failure& failure) {
      return tl::unexpected(sqlite::to_error(failure));
    }
    return history;
  }

  Result<AuditVerification> verify() override {
    std::lock_guard lock(mutex_);
    AuditVerification verification;
    std::string previous = kGenesis;
    try {
      // One read transaction: appends by other processes wait for the end of the check
      // rather than moving the chain under it.
      Query(*connection_, "BEGIN").run();
      Query query(*connection_, std::string("SELECT ") + kColumns + " FROM events ORDER BY seq");
      while (query.next()) {
        const AuditRecord record = read_record(query);
        ++verification.records;
        if (record.seq != verification.records) {
          verification.first_bad_seq = verification.records;
          verification.problem = "record " + std::to_string(verification.records) +
                                 " is missing (next is " + std::to_string(record.seq) + ")";
          break;
        }
        const std::string expected = audit_hash(previous, record.seq, record);
        if (expected != record.hash) {
          verification.first_bad_seq = record.seq;
          verification.problem = "record " + std::to_string(record.seq) +
                                 " does not match its hash: changed, or an earlier one was";
          break;
        }
        previous = record.hash;
      }
      Query(*connection_, "COMMIT").run();
    } catch (const Failure& failure) {
      if (connection_->in_transaction()) Query(*connection_, "ROLLBACK").run();
      return tl::unexpected(sqlite::to_error(failure));
    }
    verification.head = previous;
    return verification;
  }

 private:
  template <class Work>
  Result<void> in_transaction(Work work) {
    try {
      Query(*connection_, "BEGIN IMMEDIATE").run();
      work();
      Query(*connection_, "COMMIT").run();
    } catch (const Failure& failure) {
      if (connection_->in_transaction()) {
        try {
          Query(*connection_, "ROLLBACK").run();
        } catch (const Failure&) {
        }
      }
      return tl::unexpected(sqlite::to_error(failure));
    }
    return {};
  }

  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace

std::string audit_hash(const std::string& previous_hash, std::int64_t seq,
                       const AuditEvent& event) {
  std::string input;
  auto field = [&input](std::string_view value) {
    input += std::to_string(value.size());
    input += ':';
    input += value;
  };
  field(previous_hash);
  field(std::to_string(seq));
  field(std::to_string(event.time_ms));
  field(event.kind);
  field(event.account);
  field(event.actor);
  field(event.address);
  field(event.protocol);
  field(event.mailbox);
  field(std::to_string(event.count));
  field(event.detail);
  return sha256_hex(input);
}

Result<std::unique_ptr<AuditLog>> open_sqlite_audit_log(const std::filesystem::path& data_dir) {
  auto connection = Connection::open(data_dir / "audit.db", Connection::Mode::Write);
  if (!connection) return tl::unexpected(connection.error());
  try {
    (*connection)->execute_script(kSchema);
  } catch (const Failure& failure) {
    return tl::unexpected(sqlite::to_error(failure));
  }
  return std::unique_ptr<AuditLog>(new SqliteAuditLog(std::move(*connection)));
}

}  // namespace rampart::store
