// BlobStore::crlf_sizes: kept with each blob when it is written, and computed once for
// a blob stored before the size was kept.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>

#include "mime/encode.h"
#include "store/store.h"
#include "store/test_support_internal.h"

namespace rampart::store {
namespace {

using testing::add_account;
using testing::inbox;
using testing::open_store;
using testing::TempDir;

NewMessage raw_message(std::string raw) {
  NewMessage message;
  message.raw = std::move(raw);
  message.structure = "structure";
  return message;
}

// Runs one statement on the database file while no store has it open.
void execute(const std::filesystem::path& dir, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "rampart.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

std::int64_t unknown_sizes(const std::filesystem::path& dir) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open((dir / "rampart.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM blobs WHERE crlf_size IS NULL", -1, &statement,
                     nullptr);
  EXPECT_EQ(sqlite3_step(statement), SQLITE_ROW);
  const std::int64_t count = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return count;
}

const std::vector<std::string> kMessages = {
    "Subject: crlf\r\n\r\nbody\r\n",
    "Subject: bare lf\n\nline one\nline two\n",
    "Subject: no final line end\r\n\r\nlast",
    "Subject: lone cr\r\n\r\none\rtwo\r\n",
};

TEST(CrlfSizes, AreKeptWithEachBlobInTheOrderAsked) {
  TempDir dir;
  auto store = open_store(dir.path());
  const Account account = add_account(*store);
  std::vector<std::string> blobs;
  for (const std::string& raw : kMessages) {
    auto appended = store->append(inbox(*store, account.id), raw_message(raw));
    ASSERT_TRUE(appended) << appended.error().detail;
  }
  const auto snapshot = store->snapshot(inbox(*store, account.id));
  for (const auto& meta : snapshot->messages) blobs.push_back(meta.blob_id);
  std::reverse(blobs.begin(), blobs.end());
  auto sizes = store->crlf_sizes(blobs);
  ASSERT_TRUE(sizes) << sizes.error().detail;
  ASSERT_EQ(sizes->size(), kMessages.size());
  for (std::size_t i = 0; i < kMessages.size(); ++i) {
    EXPECT_EQ((*sizes)[i], mime::crlf_size(kMessages[kMessages.size() - 1 - i])) << i;
  }
  EXPECT_EQ((*sizes)[3], kMessages[0].size());  // already CRLF: the stored size
  EXPECT_EQ(store->crlf_sizes({std::string(64, 'a')}).error().code, Errc::NotFound);
  EXPECT_EQ(store->crlf_sizes({}).value(), std::vector<std::uint64_t>{});
}

TEST(CrlfSizes, OfABlobStoredBeforeTheyWereKeptAreComputedOnceAndKept) {
  TempDir dir;
  std::string blob;
  {
    auto store = open_store(dir.path());
    const Account account = add_account(*store);
    ASSERT_TRUE(store->append(inbox(*store, account.id), raw_message(kMessages[1])));
    blob = store->snapshot(inbox(*store, account.id))->messages.at(0).blob_id;
  }
  execute(dir.path(), "UPDATE blobs SET crlf_size = NULL");
  ASSERT_EQ(unknown_sizes(dir.path()), 1);
  {
    auto store = open_store(dir.path());
    auto sizes = store->crlf_sizes({blob, blob});
    ASSERT_TRUE(sizes) << sizes.error().detail;
    EXPECT_EQ(*sizes, (std::vector<std::uint64_t>(2, mime::crlf_size(kMessages[1]))));
  }
  EXPECT_EQ(unknown_sizes(dir.path()), 0);
}

TEST(CrlfSizes, OfAnOldBlobDeliveredAgainAreKept) {
  TempDir dir;
  {
    auto store = open_store(dir.path());
    const Account account = add_account(*store);
    ASSERT_TRUE(store->append(inbox(*store, account.id), raw_message(kMessages[2])));
  }
  execute(dir.path(), "UPDATE blobs SET crlf_size = NULL");
  auto store = open_store(dir.path());
  const Account account = *store->find_account("alice@example.test");
  ASSERT_TRUE(store->append(inbox(*store, account.id), raw_message(kMessages[2])));
  store.reset();
  EXPECT_EQ(unknown_sizes(dir.path()), 0);
}

}  // namespace
}  // namespace rampart::store
