#include "directory/directory.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "store/store.h"

namespace rampart::directory {
namespace {

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rampart-directory-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto opened = store::open_sqlite_store({.data_dir = dir_});
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
    directory_ = std::make_unique<Directory>(*store_);
    ASSERT_TRUE(directory_->add_domain("Example.TEST"));
  }
  void TearDown() override {
    directory_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Directory> directory_;
};

TEST(Address, NormalizesCaseAndRefusesJunk) {
  EXPECT_EQ(*normalize_address("Demo@Example.TEST"), "demo@example.test");
  for (const char* bad : {"", "demo", "@example.test", "demo@", "de mo@example.test",
                          "demo@exa_mple.test", "demo@-example.test", "a..b@example.test",
                          ".a@example.test", "demo@example..test", "de\"mo@example.test"}) {
    EXPECT_FALSE(normalize_address(bad)) << bad;
  }
  EXPECT_FALSE(normalize_address(std::string(65, 'a') + "@example.test"));
  EXPECT_FALSE(normalize_address(std::string("a\0b@example.test", 16)));
}

TEST(Password, HashIsArgon2idAndVerifies) {
  auto hash = hash_password("correct horse");
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password(*hash, "correct horse"));
  EXPECT_FALSE(verify_password(*hash, "correct horsE"));
  EXPECT_FALSE(verify_password("garbage", "correct horse"));
  EXPECT_NE(*hash, *hash_password("correct horse")) << "salts must differ";
}

TEST_F(DirectoryTest, AppPasswordsLogInUntilRevoked) {
  ASSERT_TRUE(directory_->add_account("ivy@example.test", "main-password"));
  auto phone = directory_->add_app_password("ivy@example.test", "phone");
  ASSERT_TRUE(phone) << phone.error().detail;
  EXPECT_EQ(phone->size(), 29u);  // 24 characters in six groups of four
  auto laptop = *directory_->add_app_password("IVY@example.test", "laptop");
  EXPECT_NE(*phone, laptop);
  EXPECT_EQ(directory_->add_app_password("ivy@example.test", "phone").error().code, Errc::Exists);
  EXPECT_EQ(directory_->add_app_password("ivy@example.test", "").error().code, Errc::BadInput);
  EXPECT_EQ(directory_->add_app_password("nobody@example.test", "x").error().code, Errc::NotFound);
  EXPECT_TRUE(directory_->authenticate("ivy@example.test", *phone));
  EXPECT_TRUE(directory_->authenticate("ivy@example.test", laptop));
  EXPECT_TRUE(directory_->authenticate("ivy@example.test", "main-password"));
  EXPECT_EQ(directory_->list_app_passwords("ivy@example.test")->size(), 2u);
  ASSERT_TRUE(directory_->remove_app_password("ivy@example.test", "phone"));
  EXPECT_EQ(directory_->authenticate("ivy@example.test", *phone).error().code, Errc::NoPermission);
  EXPECT_TRUE(directory_->authenticate("ivy@example.test", laptop));
}

TEST_F(DirectoryTest, AccountLifecycleAndAuthentication) {
  auto account = directory_->add_account("Demo@example.test", "s3cret-password");
  ASSERT_TRUE(account) << account.error().detail;
  EXPECT_EQ(account->address, "demo@example.test");
  EXPECT_EQ(directory_->add_account("demo@example.test", "another-password").error().code,
            Errc::Exists);
  EXPECT_EQ(directory_->add_account("x@nowhere.test", "s3cret-password").error().code,
            Errc::NotFound);
  EXPECT_EQ(directory_->add_account("short@example.test", "short").error().code, Errc::BadInput);

  EXPECT_TRUE(directory_->authenticate("DEMO@example.test", "s3cret-password"));
  EXPECT_EQ(directory_->authenticate("demo@example.test", "wrong-password").error().code,
            Errc::NoPermission);
  EXPECT_EQ(directory_->authenticate("nobody@example.test", "s3cret-password").error().code,
            Errc::NotFound);
  EXPECT_EQ(directory_->authenticate("not an address", "x").error().code, Errc::NotFound);

  ASSERT_TRUE(directory_->set_password("demo@example.test", "new-password-1"));
  EXPECT_FALSE(directory_->authenticate("demo@example.test", "s3cret-password"));
  EXPECT_TRUE(directory_->authenticate("demo@example.test", "new-password-1"));

  ASSERT_TRUE(directory_->remove_account("demo@example.test"));
  EXPECT_EQ(directory_->authenticate("demo@example.test", "new-password-1").error().code,
            Errc::NotFound);
}

TEST_F(DirectoryTest, ResolvesPlusAddressingAliasesAndCatchAll) {
  ASSERT_TRUE(directory_->add_account("demo@example.test", "s3cret-password"));
  ASSERT_TRUE(directory_->add_account("boss@example.test", "s3cret-password"));
  EXPECT_EQ(directory_->resolve_recipient("demo+lists@Example.test")->address, "demo@example.test");
  EXPECT_EQ(directory_->resolve_recipient("nobody@example.test").error().code, Errc::NotFound);

  ASSERT_TRUE(directory_->add_alias("info@example.test", "demo@example.test"));
  ASSERT_TRUE(directory_->add_alias("sales@example.test", "info@example.test"));
  EXPECT_EQ(directory_->resolve_recipient("info@example.test")->address, "demo@example.test");
  EXPECT_EQ(directory_->resolve_recipient("sales+x@example.test")->address, "demo@example.test");
  EXPECT_EQ(directory_->add_alias("demo@example.test", "boss@example.test").error().code,
            Errc::Exists);
  EXPECT_EQ(directory_->add_alias("x@example.test", "ghost@example.test").error().code,
            Errc::NotFound);
  EXPECT_EQ(directory_->add_account("info@example.test", "s3cret-password").error().code,
            Errc::Exists);

  ASSERT_TRUE(directory_->add_alias("@example.test", "boss@example.test"));
  EXPECT_EQ(directory_->resolve_recipient("anyone@example.test")->address, "boss@example.test");
  EXPECT_EQ(directory_->list_aliases("example.test")->size(), 3u);
  ASSERT_TRUE(directory_->remove_alias("@example.test"));
  EXPECT_EQ(directory_->resolve_recipient("anyone@example.test").error().code, Errc::NotFound);
}

}  // namespace
}  // namespace rampart::directory
