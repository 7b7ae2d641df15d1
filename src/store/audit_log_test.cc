#include "store/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <thread>

#include "base/network.h"

namespace rampart::store {
namespace {

namespace fs = std::filesystem;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rampart-audit-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto log = open_sqlite_audit_log(dir_);
    ASSERT_TRUE(log) << log.error().detail;
    log_ = std::move(*log);
  }
  void TearDown() override {
    log_.reset();
    fs::remove_all(dir_);
  }

  static AuditEvent event(std::string kind, std::string account, std::string address,
                          std::int64_t time_ms) {
    return {time_ms, std::move(kind), std::move(account), "x", std::move(address), "imap", "INBOX",
            1,       "detail"};
  }

  // Changes the database behind the log's back, as an intruder with the file would.
  void tamper(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "audit.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  fs::path dir_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, AppendsInOrderAndQueriesByAccountAddressKindAndTime) {
  ASSERT_TRUE(log_->append({event("login", "a@x.test", "192.0.2.1", 1000),
                            event("read", "a@x.test", "192.0.2.1", 2000),
                            event("login", "b@x.test", "198.51.100.7", 3000)}));
  ASSERT_TRUE(log_->append({event("login-failed", "a@x.test", "203.0.113.9", 4000)}));
  auto all = log_->query({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  for (std::size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].seq, std::int64_t(i + 1));
  EXPECT_EQ(log_->query({.account = "a@x.test"})->size(), 3u);
  EXPECT_EQ(log_->query({.address = "198.51.100.7"})->size(), 1u);
  EXPECT_EQ(log_->query({.kind = "login"})->size(), 2u);
  EXPECT_EQ(log_->query({.since_ms = 2000, .until_ms = 3000})->size(), 2u);
  EXPECT_EQ(log_->query({.after_seq = 2, .limit = 1})->front().seq, 3);
  auto newest = log_->query({.limit = 2, .newest = true});
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].seq, 3);
  EXPECT_EQ((*newest)[1].seq, 4);
}

TEST_F(AuditLogTest, AWholeChainVerifies) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(log_->append({event("read", "a@x.test", "::1", i)}));
  auto verified = log_->verify();
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->records, 50);
  EXPECT_EQ(verified->first_bad_seq, 0);
  EXPECT_EQ(verified->head, log_->query({.after_seq = 49})->front().hash);
}

TEST_F(AuditLogTest, UpdatesAndDeletesAreRefusedByTheDatabase) {
  ASSERT_TRUE(log_->append({event("login", "a@x.test", "192.0.2.1", 1)}));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "audit.db").c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE events SET detail = 'x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM events", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(log_->query({})->size(), 1u);
}

TEST_F(AuditLogTest, AnEditIsFoundAtTheRecordThatWasChanged) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log_->append({event("read", "a@x.test", "::1", i)}));
  tamper("DROP TRIGGER events_no_update; UPDATE events SET address = '10.0.0.1' WHERE seq = 4");
  auto verified = log_->verify();
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->first_bad_seq, 4);
  EXPECT_NE(verified->problem.find("record 4"), std::string::npos);
}

TEST_F(AuditLogTest, ARemovedRecordIsFound) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log_->append({event("read", "a@x.test", "::1", i)}));
  tamper("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 6");
  EXPECT_EQ(log_->verify()->first_bad_seq, 6);
}

TEST_F(AuditLogTest, ARewrittenRecordWithARecomputedHashBreaksTheNextLink) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log_->append({event("read", "a@x.test", "::1", i)}));
  auto records = *log_->query({});
  AuditEvent forged = records[1];
  forged.address = "10.9.9.9";
  const std::string forged_hash = audit_hash(records[0].hash, 2, forged);
  tamper(("DROP TRIGGER events_no_update; UPDATE events SET address = '10.9.9.9', hash = '" +
          forged_hash + "' WHERE seq = 2")
             .c_str());
  EXPECT_EQ(log_->verify()->first_bad_seq, 3);
}

TEST_F(AuditLogTest, ConcurrentAppendersKeepOneChain) {
  auto other = open_sqlite_audit_log(dir_);
  ASSERT_TRUE(other);
  auto append = [](AuditLog& log) {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(log.append({event("read", "a@x.test", "::1", i)}));
  };
  std::thread first(append, std::ref(*log_)), second(append, std::ref(**other));
  first.join();
  second.join();
  auto verified = log_->verify();
  EXPECT_EQ(verified->records, 200);
  EXPECT_EQ(verified->first_bad_seq, 0);
}

TEST_F(AuditLogTest, LoginHistoryIsPerNetwork) {
  ASSERT_TRUE(log_->append({event("login", "a@x.test", "192.0.2.1", 1000),
                            event("login-failed", "a@x.test", "198.51.100.1", 1000)}));
  auto history = log_->login_history("a@x.test", rampart::address_network("192.0.2.200"), 0);
  EXPECT_TRUE(history->any_login);
  EXPECT_TRUE(history->from_network);
  EXPECT_FALSE(
      log_->login_history("a@x.test", rampart::address_network("198.51.100.1"), 0)->from_network);
  EXPECT_FALSE(
      log_->login_history("a@x.test", rampart::address_network("192.0.2.1"), 2000)->from_network);
  EXPECT_FALSE(log_->login_history("b@x.test", "", 0)->any_login);
}

TEST(AddressNetwork, IsASlash24OrASlash64) {
  EXPECT_EQ(rampart::address_network("192.0.2.77"), "192.0.2.0/24");
  EXPECT_EQ(rampart::address_network("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(rampart::address_network("::1"), "0:0:0:0::/64");
  EXPECT_EQ(rampart::address_network(""), "");
}

}  // namespace
}  // namespace rampart::store
