#include "audit/trail.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace rampart::audit {
namespace {

namespace fs = std::filesystem;

class TrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rampart-trail-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = std::move(*store::open_sqlite_audit_log(dir_));
    rules_.bulk_read_messages = 100;
    rules_.mass_delete_messages = 50;
    rules_.failed_logins = 5;
  }
  void TearDown() override {
    trail_.reset();
    log_.reset();
    fs::remove_all(dir_);
  }
  Trail& trail() {
    if (!trail_) {
      trail_ =
          std::make_unique<Trail>(*log_, rules_, std::vector<AlertSink>{[this](const Alert& a) {
            std::lock_guard lock(mutex_);
            alerts_.push_back(a);
          }});
    }
    return *trail_;
  }
  std::vector<std::string> alert_kinds() {
    trail().flush();
    std::lock_guard lock(mutex_);
    std::vector<std::string> kinds;
    for (const auto& alert : alerts_) kinds.push_back(alert.kind);
    return kinds;
  }
  static store::AuditEvent event(const char* kind, std::string account, std::string address,
                                 std::int64_t count = 1) {
    return {0, kind, account, account, std::move(address), "imap", "INBOX", count, ""};
  }

  fs::path dir_;
  std::unique_ptr<store::AuditLog> log_;
  AlertRules rules_;
  std::unique_ptr<Trail> trail_;
  std::mutex mutex_;
  std::vector<Alert> alerts_;
};

TEST_F(TrailTest, RecordsAreDurableAfterFlushInOrder) {
  for (int i = 0; i < 500; ++i) trail().record(event(kOpen, "a@x.test", "192.0.2.1"));
  trail().flush();
  auto records = log_->query({.limit = 1000});
  ASSERT_EQ(records->size(), 500u);
  EXPECT_EQ(records->back().seq, 500);
  EXPECT_GT(records->front().time_ms, 0);
  EXPECT_EQ(log_->verify()->first_bad_seq, 0);
}

TEST_F(TrailTest, DestructionWritesWhatIsQueued) {
  for (int i = 0; i < 100; ++i) trail().record(event(kOpen, "a@x.test", "192.0.2.1"));
  trail_.reset();
  EXPECT_EQ(log_->query({})->size(), 100u);
}

TEST_F(TrailTest, ALoginFromANewNetworkAlertsButNotTheFirstOrAFamiliarOne) {
  trail().record(event(kLogin, "a@x.test", "192.0.2.1"));  // first login ever: no alert
  trail().flush();
  trail().record(event(kLogin, "a@x.test", "192.0.2.99"));  // same /24
  EXPECT_TRUE(alert_kinds().empty());
  trail().record(event(kLogin, "a@x.test", "203.0.113.5"));
  EXPECT_EQ(alert_kinds(), std::vector<std::string>{"new-network"});
  std::lock_guard lock(mutex_);
  EXPECT_EQ(alerts_[0].account, "a@x.test");
  EXPECT_EQ(alerts_[0].address, "203.0.113.5");
  EXPECT_NE(alerts_[0].text.find("203.0.113.0/24"), std::string::npos);
}

TEST_F(TrailTest, LoginsInOneBatchSeeEachOther) {
  // No flush between them: both are written in one transaction.
  trail().record(event(kLogin, "a@x.test", "192.0.2.1"));
  trail().record(event(kLogin, "a@x.test", "192.0.2.7"));
  trail().record(event(kLogin, "a@x.test", "198.51.100.3"));
  EXPECT_EQ(alert_kinds(), std::vector<std::string>{"new-network"});
}

TEST_F(TrailTest, TheAlertIsRecordedInTheTrailToo) {
  trail().record(event(kLogin, "a@x.test", "192.0.2.1"));
  trail().flush();
  trail().record(event(kLogin, "a@x.test", "2001:db8::1"));
  trail().flush();
  auto alerts = log_->query({.kind = kAlert});
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ(alerts->front().actor, "system");
  EXPECT_EQ(alerts->front().detail.rfind("new-network: ", 0), 0u);
}

TEST_F(TrailTest, BulkDownloadAlertsOncePerWindow) {
  for (int i = 0; i < 9; ++i) trail().record(event(kRead, "a@x.test", "192.0.2.1", 10));
  EXPECT_TRUE(alert_kinds().empty());
  trail().record(event(kRead, "a@x.test", "192.0.2.1", 10));
  for (int i = 0; i < 20; ++i) trail().record(event(kRead, "a@x.test", "192.0.2.1", 10));
  EXPECT_EQ(alert_kinds(), std::vector<std::string>{"bulk-download"});
}

TEST_F(TrailTest, ReadsOfDifferentAccountsAreCountedApart) {
  for (int i = 0; i < 10; ++i) {
    trail().record(event(kRead, "a@x.test", "192.0.2.1", 9));
    trail().record(event(kRead, "b@x.test", "192.0.2.1", 9));
  }
  EXPECT_TRUE(alert_kinds().empty());
}

TEST_F(TrailTest, MassDeletionAlerts) {
  trail().record(event(kExpunge, "a@x.test", "192.0.2.1", 49));
  EXPECT_TRUE(alert_kinds().empty());
  trail().record(event(kExpunge, "a@x.test", "192.0.2.1", 1));
  EXPECT_EQ(alert_kinds(), std::vector<std::string>{"mass-deletion"});
}

TEST_F(TrailTest, FailedLoginsAlertPerAccountAndPerAddress) {
  for (int i = 0; i < 5; ++i) {
    trail().record(event(kLoginFailed, "a@x.test", "198.51.100." + std::to_string(i)));
  }
  EXPECT_EQ(alert_kinds(), std::vector<std::string>{"failed-logins"});  // the account's
  for (int i = 0; i < 5; ++i) {
    trail().record(event(kLoginFailed, "user" + std::to_string(i) + "@x.test", "203.0.113.1"));
  }
  EXPECT_EQ(alert_kinds(), (std::vector<std::string>{"failed-logins", "failed-logins"}));
  std::lock_guard lock(mutex_);
  EXPECT_NE(alerts_[1].text.find("address 203.0.113.1"), std::string::npos);
}

TEST_F(TrailTest, TheAdminReadingMailAlwaysAlerts) {
  store::AuditEvent read = event(kRead, "a@x.test", "");
  read.actor = kAdminActor;
  trail().record(read);
  EXPECT_EQ(alert_kinds(), std::vector<std::string>{"admin-access"});
}

TEST_F(TrailTest, ASinkThatThrowsDoesNotStopTheOthers) {
  int calls = 0;
  Trail trail(*log_, rules_,
              {[](const Alert&) { throw std::runtime_error("down"); },
               [&calls](const Alert&) { ++calls; }});
  store::AuditEvent read = event(kRead, "a@x.test", "");
  read.actor = kAdminActor;
  trail.record(read);
  trail.flush();
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace rampart::audit
