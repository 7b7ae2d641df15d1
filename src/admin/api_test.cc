#include "admin/api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/config.h"
#include "directory/directory.h"
#include "dkim/signer.h"
#include "store/audit_log.h"
#include "store/store.h"

namespace rampart::admin {
namespace {

TEST(Request, DecodesTheFieldsOfItsCall) {
  auto request =
      parse_request(R"({"call":"user.quota","address":"Ann@Example.Test","bytes":2048})");
  ASSERT_TRUE(request) << request.error().detail;
  EXPECT_EQ(request->call, "user.quota");
  EXPECT_EQ(request->text.at("address"), "Ann@Example.Test");
  EXPECT_EQ(request->numbers.at("bytes"), 2048);
  EXPECT_EQ(request->account, "ann@example.test");
  EXPECT_TRUE(parse_request(R"({"call":"user.list"})"));
  EXPECT_TRUE(parse_request(R"({"call":"user.list","domain":"example.test"})"));
}

TEST(Request, RefusesWhatItsCallDoesNotDeclare) {
  const std::pair<const char*, Errc> bad[] = {
      {"", Errc::BadInput},
      {"[1,2]", Errc::BadInput},
      {R"({"call":1})", Errc::BadInput},
      {R"({"address":"a@b.test"})", Errc::BadInput},
      {R"({"call":"user.drop"})", Errc::NotFound},
      {R"({"call":"user.add","address":"a@b.test"})", Errc::BadInput},
      {R"({"call":"user.add","address":"a@b.test","password":"x","admin":true})", Errc::BadInput},
      {R"({"call":"user.quota","address":"a@b.test","bytes":"1M"})", Errc::BadInput},
      {R"({"call":"domain.add","name":["x"]})", Errc::BadInput},
      {"{\"call\":\"domain.list\"", Errc::BadInput},
  };
  for (const auto& [text, code] : bad) {
    auto request = parse_request(text);
    ASSERT_FALSE(request) << text;
    EXPECT_EQ(request.error().code, code) << text;
    EXPECT_FALSE(request.error().detail.empty());
  }
  EXPECT_EQ(parse_request(std::string(70000, ' ')).error().code, Errc::TooBig);
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rampart-admin-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    store_ = std::move(*store::open_sqlite_store({.data_dir = dir_}));
    audit_ = std::move(*store::open_sqlite_audit_log(dir_));
    directory_ = std::make_unique<directory::Directory>(*store_);
    keys_ = std::make_unique<dkim::KeyStore>(dir_ / "dkim");
    config_.hostname = "mail.example.test";
    api_ = std::make_unique<Api>(*store_, *directory_, *audit_, *keys_, config_);
  }
  void TearDown() override {
    api_.reset();
    directory_.reset();
    audit_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::AuditLog> audit_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<dkim::KeyStore> keys_;
  Config config_;
  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, RunsCallsAndRecordsEachWithoutItsPassword) {
  EXPECT_EQ(api_->call(R"({"call":"domain.add","name":"example.test"})", "uid 0"),
            R"({"ok":true,"result":null})");
  EXPECT_EQ(
      api_->call(R"({"call":"user.add","address":"Ann@example.test","password":"a-long-password"})",
                 "uid 0"),
      R"({"ok":true,"result":{"address":"ann@example.test"}})");
  EXPECT_EQ(api_->call(R"({"call":"domain.list"})", "uid 0"),
            R"({"ok":true,"result":["example.test"]})");
  EXPECT_TRUE(directory_->authenticate("ann@example.test", "a-long-password"));

  auto records = audit_->query({});
  ASSERT_EQ(records->size(), 3u);
  const store::AuditRecord& add = (*records)[1];
  EXPECT_EQ(add.kind, "admin");
  EXPECT_EQ(add.actor, "admin");
  EXPECT_EQ(add.protocol, "admin");
  EXPECT_EQ(add.account, "ann@example.test");
  EXPECT_EQ(add.detail, "user.add address=Ann@example.test (by uid 0)");
  for (const auto& record : *records) {
    EXPECT_EQ(record.detail.find("a-long-password"), std::string::npos);
  }
}

TEST_F(ApiTest, ErrorsAreTypedAndStillRecorded) {
  EXPECT_EQ(api_->call(R"({"call":"user.remove","address":"nobody@example.test"})", "uid 0")
                .substr(0, 37),
            R"({"ok":false,"error":"not-found","mess)");
  EXPECT_EQ(audit_->query({})->size(), 1u);
  // An undecodable request runs nothing and records nothing.
  EXPECT_EQ(api_->call("not json", "uid 0").substr(0, 31), R"({"ok":false,"error":"bad-input")");
  EXPECT_EQ(audit_->query({})->size(), 1u);
}

TEST_F(ApiTest, AuditCalls) {
  api_->call(R"({"call":"domain.add","name":"example.test"})", "uid 0");
  const std::string queried = api_->call(R"({"call":"audit.query","limit":2})", "uid 0");
  EXPECT_NE(queried.find(R"x("detail":"domain.add name=example.test (by uid 0)")x"),
            std::string::npos)
      << queried;
  const std::string verified = api_->call(R"({"call":"audit.verify"})", "uid 0");
  EXPECT_NE(verified.find(R"("records":3)"), std::string::npos) << verified;
  EXPECT_NE(verified.find(R"("first_bad_seq":0)"), std::string::npos) << verified;
}

}  // namespace
}  // namespace rampart::admin
