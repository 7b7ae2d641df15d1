#include "store/dav_store.h"

#include <gtest/gtest.h>

#include "base/sha256.h"
#include "store/store.h"
#include "store/test_support_internal.h"

namespace rampart::store {
namespace {

using testing::add_account;
using testing::open_store;
using testing::TempDir;

class DavStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_store(dir_.path());
    ASSERT_TRUE(store_);
    account_ = add_account(*store_);
    auto made = store_->create_collection(
        {.account = account_.id, .kind = CollectionKind::Calendar, .name = "default"});
    ASSERT_TRUE(made) << made.error().detail;
    calendar_ = *made;
  }
  DavPut put(std::string_view name, std::string_view uid, std::string_view data,
             DavCondition condition = {}, DavIndex index = {}) {
    auto result = store_->put_dav_object(calendar_.id, name, uid, data, index, condition);
    EXPECT_TRUE(result) << result.error().detail;
    return result ? *result : DavPut{};
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  Account account_;
  DavCollection calendar_;
};

TEST_F(DavStoreTest, KeepsCollectionsPerAccountAndKind) {
  EXPECT_EQ(store_
                ->create_collection(
                    {.account = account_.id, .kind = CollectionKind::Calendar, .name = "default"})
                .error()
                .code,
            Errc::Exists);
  // The same name as an address book is another collection.
  auto book = store_->create_collection(
      {.account = account_.id, .kind = CollectionKind::AddressBook, .name = "default"});
  ASSERT_TRUE(book);
  EXPECT_EQ(store_->list_collections(account_.id, CollectionKind::Calendar)->size(), 1u);
  EXPECT_EQ(store_->list_collections(account_.id, CollectionKind::AddressBook)->size(), 1u);

  DavCollection changed = calendar_;
  changed.display_name = "Work";
  changed.color = "#FF0000";
  changed.components = "VEVENT";
  auto updated = store_->update_collection(changed);
  ASSERT_TRUE(updated);
  EXPECT_GT(updated->modseq, calendar_.modseq);
  auto found = store_->find_collection(account_.id, CollectionKind::Calendar, "default");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->display_name, "Work");
  EXPECT_EQ(found->color, "#FF0000");
  EXPECT_EQ(found->components, "VEVENT");

  ASSERT_TRUE(store_->delete_collection(calendar_.id));
  EXPECT_EQ(store_->find_collection(account_.id, CollectionKind::Calendar, "default").error().code,
            Errc::NotFound);
}

TEST_F(DavStoreTest, StoresTextWithItsHashAsETag) {
  const DavPut created = put("a.ics", "uid-a", "BEGIN:VCALENDAR...");
  EXPECT_EQ(created.outcome, DavPut::Outcome::Created);
  EXPECT_EQ(created.object.etag, sha256_hex("BEGIN:VCALENDAR..."));
  auto objects = store_->get_dav_objects(calendar_.id, {"a.ics", "missing.ics"}, true);
  ASSERT_TRUE(objects);
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ(objects->front().data, "BEGIN:VCALENDAR...");
  EXPECT_EQ(objects->front().uid, "uid-a");

  const DavPut replaced = put("a.ics", "uid-a", "changed");
  EXPECT_EQ(replaced.outcome, DavPut::Outcome::Replaced);
  EXPECT_GT(replaced.object.modseq, created.object.modseq);
  EXPECT_EQ(store_->find_collection(account_.id, CollectionKind::Calendar, "default")->modseq,
            replaced.object.modseq);
}

TEST_F(DavStoreTest, HonoursIfMatchAndIfNoneMatch) {
  const DavPut created = put("a.ics", "uid-a", "one");
  EXPECT_EQ(put("a.ics", "uid-a", "two", {.if_none_match = true}).outcome,
            DavPut::Outcome::PreconditionFailed);
  EXPECT_EQ(put("a.ics", "uid-a", "two", {.if_match = "wrong"}).outcome,
            DavPut::Outcome::PreconditionFailed);
  EXPECT_EQ(put("b.ics", "uid-b", "two", {.if_match = created.object.etag}).outcome,
            DavPut::Outcome::PreconditionFailed);
  EXPECT_EQ(put("a.ics", "uid-a", "two", {.if_match = created.object.etag}).outcome,
            DavPut::Outcome::Replaced);
  EXPECT_FALSE(*store_->delete_dav_object(calendar_.id, "a.ics", created.object.etag));
  EXPECT_TRUE(*store_->delete_dav_object(calendar_.id, "a.ics", sha256_hex("two")));
  EXPECT_EQ(store_->delete_dav_object(calendar_.id, "a.ics", std::nullopt).error().code,
            Errc::NotFound);
}

TEST_F(DavStoreTest, RefusesASecondResourceWithTheSameUid) {
  put("a.ics", "uid-a", "one");
  const DavPut conflict = put("b.ics", "uid-a", "two");
  EXPECT_EQ(conflict.outcome, DavPut::Outcome::UidConflict);
  EXPECT_EQ(conflict.conflict_name, "a.ics");
  // Once the first is gone, the UID is free again.
  ASSERT_TRUE(store_->delete_dav_object(calendar_.id, "a.ics", std::nullopt));
  EXPECT_EQ(put("b.ics", "uid-a", "two").outcome, DavPut::Outcome::Created);
  auto found = store_->find_dav_uid(account_.id, CollectionKind::Calendar, "uid-a");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->name, "b.ics");
  EXPECT_FALSE(*store_->find_dav_uid(account_.id, CollectionKind::AddressBook, "uid-a"));
}

TEST_F(DavStoreTest, ReportsChangesAndRemovalsSinceAToken) {
  put("a.ics", "uid-a", "one");
  put("b.ics", "uid-b", "two");
  auto all = store_->dav_changes(calendar_.id, 0);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->changed.size(), 2u);
  EXPECT_TRUE(all->removed.empty());
  const ModSeq token = all->modseq;

  put("b.ics", "uid-b", "two, changed");
  put("c.ics", "uid-c", "three");
  ASSERT_TRUE(store_->delete_dav_object(calendar_.id, "a.ics", std::nullopt));
  auto since = store_->dav_changes(calendar_.id, token);
  ASSERT_TRUE(since);
  ASSERT_EQ(since->changed.size(), 2u);
  EXPECT_EQ(since->changed[0].name, "b.ics");
  EXPECT_EQ(since->changed[1].name, "c.ics");
  EXPECT_EQ(since->removed, std::vector<std::string>{"a.ics"});
  EXPECT_GT(since->modseq, token);
  // Nothing since the newest token; a token from the future is refused.
  EXPECT_TRUE(store_->dav_changes(calendar_.id, since->modseq)->changed.empty());
  EXPECT_EQ(store_->dav_changes(calendar_.id, since->modseq + 1).error().code, Errc::BadInput);
  // A full sync lists no tombstones.
  EXPECT_TRUE(store_->dav_changes(calendar_.id, 0)->removed.empty());
}

TEST_F(DavStoreTest, PrunesTombstonesAndRaisesTheSyncFloor) {
  const ModSeq first =
      store_->find_collection(account_.id, CollectionKind::Calendar, "default")->modseq;
  for (std::size_t i = 0; i < kDavTombstones + 2; ++i) {
    const std::string name = "x" + std::to_string(i) + ".ics";
    put(name, name, "x");
    ASSERT_TRUE(store_->delete_dav_object(calendar_.id, name, std::nullopt));
  }
  const DavCollection collection =
      *store_->find_collection(account_.id, CollectionKind::Calendar, "default");
  EXPECT_GT(collection.sync_floor, first);
  EXPECT_EQ(store_->dav_changes(calendar_.id, first).error().code, Errc::TooBig);
  auto recent = store_->dav_changes(calendar_.id, collection.sync_floor);
  ASSERT_TRUE(recent);
  EXPECT_LE(recent->removed.size(), kDavTombstones);
}

TEST_F(DavStoreTest, FindsObjectsWhoseSpanMeetsARange) {
  put("early.ics", "1", "x", {}, {.component = 1, .first_start = 100, .last_end = 200});
  put("late.ics", "2", "y", {}, {.component = 1, .first_start = 300, .last_end = 400});
  put("forever.ics", "3", "z", {}, {.component = 1, .first_start = 50, .last_end = INT64_MAX});
  auto found = store_->dav_objects_in_range(calendar_.id, 150, 300);
  ASSERT_TRUE(found);
  std::vector<std::string> names;
  for (const auto& object : *found) names.push_back(object.name);
  EXPECT_EQ(names, (std::vector<std::string>{"early.ics", "forever.ics"}));
  EXPECT_EQ(found->front().data, "x");
}

TEST_F(DavStoreTest, CountsAgainstTheQuota) {
  ASSERT_TRUE(store_->set_quota(account_.id, 10));
  put("a.ics", "uid-a", "12345");
  EXPECT_EQ(store_->usage(account_.id)->bytes, 5u);
  // Replacing counts the difference only.
  put("a.ics", "uid-a", "1234567890");
  EXPECT_EQ(store_->put_dav_object(calendar_.id, "b.ics", "uid-b", "1", {}, {}).error().code,
            Errc::OverQuota);
}

TEST_F(DavStoreTest, GoesWithTheAccount) {
  put("a.ics", "uid-a", "one");
  ASSERT_TRUE(store_->remove_account(account_.id));
  EXPECT_EQ(store_->get_dav_objects(calendar_.id, {}, false)->size(), 0u);
}

}  // namespace
}  // namespace rampart::store
