#include "dkim/signer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace rampart::dkim {
namespace {

class Signer : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("dkim-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::filesystem::path directory_;
};

TEST_F(Signer, MakesKeysForTheServiceUserOnly) {
  KeyStore store(directory_);
  EXPECT_TRUE(store.keys("example.test").empty());
  auto made = store.make("Example.TEST", true);
  ASSERT_TRUE(made) << made.error().detail;
  ASSERT_EQ(made->size(), 2u);
  EXPECT_EQ((*made)[0].algorithm, Algorithm::Rsa);
  EXPECT_TRUE((*made)[0].selector.starts_with("rsa-"));
  EXPECT_EQ((*made)[1].algorithm, Algorithm::Ed25519);
  EXPECT_TRUE((*made)[1].record().starts_with("v=DKIM1; k=ed25519; p="));
  EXPECT_TRUE(
      (*made)[0].record().starts_with("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"));
  for (const auto& entry : std::filesystem::directory_iterator(directory_ / "example.test")) {
    struct stat status {};
    ASSERT_EQ(::stat(entry.path().c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u) << entry.path();
  }
  // Kept when asked only if none; new selectors when rotated, and those are used.
  auto again = store.make("example.test", true);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0].selector, (*made)[0].selector);
  auto rotated = store.make("example.test", false);
  ASSERT_TRUE(rotated);
  EXPECT_NE((*rotated)[0].selector, (*made)[0].selector);
  EXPECT_EQ(store.keys("example.test")[1].selector, (*rotated)[1].selector);
  EXPECT_FALSE(store.make("../etc", false));
}

TEST_F(Signer, SignsWithEachKey) {
  KeyStore store(directory_);
  auto keys = store.make("example.test", true);
  ASSERT_TRUE(keys);
  const std::string message = "From: a@example.test\r\nTo: b@remote.test\r\nSubject: hi\r\n\r\n";
  const std::string fields = sign(message, "example.test", *keys, 1700000000);
  EXPECT_EQ(
      fields.find("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=rsa-"),
      0u);
  EXPECT_NE(fields.find("DKIM-Signature: v=1; a=ed25519-sha256;"), std::string::npos);
  EXPECT_NE(fields.find("t=1700000000; h=from:from:to:subject;"), std::string::npos);
  // The empty body's hash.
  EXPECT_NE(fields.find("bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"), std::string::npos);
  EXPECT_TRUE(fields.ends_with("\r\n"));
}

}  // namespace
}  // namespace rampart::dkim
