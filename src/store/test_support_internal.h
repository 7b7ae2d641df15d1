// Helpers for the store tests: a temporary data directory and test messages.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "base/sha256.h"
#include "store/store.h"

namespace rampart::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "rampart-store-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<Store> open_store(const std::filesystem::path& dir) {
  auto opened = open_sqlite_store({.data_dir = dir});
  EXPECT_TRUE(opened.has_value()) << opened.error().detail;
  return opened ? std::move(*opened) : nullptr;
}

inline NewMessage message(std::string body, Flags flags = {}) {
  NewMessage message;
  message.raw = "Subject: test\r\n\r\n" + std::move(body) + "\r\n";
  message.structure = "structure of " + sha256_hex(message.raw);
  message.flags = std::move(flags);
  return message;
}

// An account on example.test with its default mailboxes.
inline Account add_account(Store& store, std::string_view local = "alice") {
  if (!*store.has_domain("example.test")) {
    EXPECT_TRUE(store.add_domain("example.test"));
  }
  auto account = store.add_account(std::string(local) + "@example.test", "$argon2id$x");
  EXPECT_TRUE(account.has_value()) << account.error().detail;
  return *account;
}

inline MailboxId inbox(Store& store, AccountId account) {
  return store.find_mailbox(account, "INBOX")->id;
}

// A mailbox by id (no component needs this lookup: the tests read it from a snapshot).
inline Result<Mailbox> mailbox_by_id(Store& store, MailboxId id) {
  auto snapshot = store.snapshot(id);
  if (!snapshot) return tl::unexpected(snapshot.error());
  return snapshot->mailbox;
}

// A message by id, whichever account holds it; NotFound if none does.
inline Result<MessageMeta> message_by_id(Store& store, MessageId id) {
  auto accounts = store.list_accounts();
  if (!accounts) return tl::unexpected(accounts.error());
  for (const Account& account : *accounts) {
    auto found = store.find_messages(account.id, {id});
    if (!found) return tl::unexpected(found.error());
    if (!found->empty()) return found->front();
  }
  return fail(Errc::NotFound, "no such message");
}

}  // namespace rampart::store::testing
