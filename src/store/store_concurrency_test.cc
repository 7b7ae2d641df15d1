// Many writers and readers at once: group commit must keep every invariant a reader
// can see, and every acknowledged write must be there at the end.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "store/store.h"
#include "store/test_support_internal.h"

namespace rampart::store {
namespace {

using testing::add_account;
using testing::message;
using testing::TempDir;

constexpr int kWriters = 8;
constexpr int kReaders = 4;
constexpr int kAppendsPerWriter = 60;

// What a reader must always see, whatever the writers are doing.
void expect_consistent(const MailboxSnapshot& snapshot) {
  const Mailbox& mailbox = snapshot.mailbox;
  ASSERT_EQ(mailbox.message_count, snapshot.messages.size());
  std::uint32_t unseen = 0;
  std::uint64_t size = 0;
  Uid previous = 0;
  for (const auto& meta : snapshot.messages) {
    ASSERT_GT(meta.uid, previous);
    ASSERT_LT(meta.uid, mailbox.uidnext);
    ASSERT_LE(meta.modseq, mailbox.highest_modseq);
    previous = meta.uid;
    unseen += !std::binary_search(meta.flags.begin(), meta.flags.end(), "\\Seen");
    size += meta.size;
  }
  ASSERT_EQ(mailbox.unseen_count, unseen);
  ASSERT_EQ(mailbox.total_size, size);
}

TEST(StoreConcurrency, WritersAndReadersKeepEveryInvariant) {
  TempDir dir;
  auto store = testing::open_store(dir.path());
  ASSERT_TRUE(store);
  const Account account = add_account(*store);
  const MailboxId boxes[] = {testing::inbox(*store, account.id),
                             store->find_mailbox(account.id, "Archive")->id};

  std::atomic<int> writers_left = kWriters;
  std::vector<std::vector<Appended>> acknowledged(kWriters);
  std::vector<std::vector<Appended>> expunged(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      Uid last_uid[2] = {0, 0};
      ModSeq last_modseq = 0;
      for (int i = 0; i < kAppendsPerWriter; ++i) {
        const int which = (w + i) % 2;
        auto appended =
            store->append(boxes[which], message(std::to_string(w) + "/" + std::to_string(i), {}));
        ASSERT_TRUE(appended) << appended.error().detail;
        // Per mailbox and per account, later commits get larger numbers.
        ASSERT_GT(appended->uid, last_uid[which]);
        ASSERT_GT(appended->modseq, last_modseq);
        last_uid[which] = appended->uid;
        last_modseq = appended->modseq;
        if (i % 5 == 0) {
          auto changed = store->change_flags(
              boxes[which], {appended->uid},
              {.operation = FlagOperation::Add, .flags = {"\\Seen"}, .unchanged_since = {}});
          ASSERT_TRUE(changed);
          ASSERT_GT(changed->changed.at(0).modseq, last_modseq);
          last_modseq = changed->changed[0].modseq;
        }
        if (i % 7 == 0) {
          auto removed = store->expunge(boxes[which], {appended->uid});
          ASSERT_TRUE(removed);
          ASSERT_EQ(*removed, std::vector<Uid>{appended->uid});
          expunged[w].push_back(*appended);
        } else {
          acknowledged[w].push_back(*appended);
        }
      }
      --writers_left;
    });
  }
  std::atomic<int> snapshots = 0;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      // At least one full pass after the writers finish, so the end state is read too.
      for (bool last = false; !last;) {
        last = writers_left == 0;
        auto snapshot = store->snapshot(boxes[r % 2]);
        ASSERT_TRUE(snapshot) << snapshot.error().detail;
        expect_consistent(*snapshot);
        auto changes = store->changes_since(account.id, 0);
        ASSERT_TRUE(changes);
        ASSERT_GE(changes->to, snapshot->mailbox.highest_modseq);
        ++snapshots;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_GE(snapshots, kReaders);

  std::map<MessageId, Appended> present;
  for (MailboxId box : boxes) {
    auto snapshot = *store->snapshot(box);
    expect_consistent(snapshot);
    for (const auto& meta : snapshot.messages) {
      present[meta.id] = {meta.id, meta.mailbox, meta.uid, meta.modseq};
    }
  }
  std::size_t expected = 0;
  for (int w = 0; w < kWriters; ++w) {
    for (const auto& appended : acknowledged[w]) {
      ASSERT_TRUE(present.contains(appended.id));
      EXPECT_EQ(present[appended.id].uid, appended.uid);
    }
    for (const auto& appended : expunged[w]) EXPECT_FALSE(present.contains(appended.id));
    expected += acknowledged[w].size();
  }
  EXPECT_EQ(present.size(), expected);

  // The log names every expunged UID, for QRESYNC's VANISHED.
  auto changes = *store->changes_since(account.id, 0);
  std::size_t destroyed = 0;
  for (const auto& change : changes.changes)
    destroyed += change.kind == ChangeKind::MessageDestroyed;
  std::size_t expunges = 0;
  for (const auto& list : expunged) expunges += list.size();
  EXPECT_EQ(destroyed, expunges);
}

// Items in one batch fail alone: a constraint failure in one write leaves the writes
// committed with it intact.
TEST(StoreConcurrency, AFailingWriteDoesNotFailItsBatch) {
  TempDir dir;
  auto store = testing::open_store(dir.path());
  ASSERT_TRUE(store);
  const Account account = add_account(*store);
  const MailboxId box = testing::inbox(*store, account.id);
  std::vector<std::thread> threads;
  std::atomic<int> appended = 0, refused = 0;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 30; ++i) {
        if ((w + i) % 2 == 0) {
          // Every writer tries the same names: exactly one of each succeeds.
          auto created = store->create_mailbox(account.id, "Shared " + std::to_string(i));
          if (!created) {
            ASSERT_EQ(created.error().code, Errc::Exists);
            ++refused;
          }
        } else {
          ASSERT_TRUE(store->append(box, message(std::to_string(w * 100 + i))));
          ++appended;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store->snapshot(box)->messages.size(), static_cast<std::size_t>(appended));
  EXPECT_EQ(store->list_mailboxes(account.id)->size(), std::size(kDefaultMailboxes) + 30);
  EXPECT_EQ(refused, kWriters * 15 - 30);
}

// Dropping a subscription while the committer publishes: no call after the drop returns.
TEST(StoreConcurrency, UnsubscribingWhileEventsArePublishedIsSafe) {
  TempDir dir;
  auto store = testing::open_store(dir.path());
  ASSERT_TRUE(store);
  const Account account = add_account(*store);
  const MailboxId box = testing::inbox(*store, account.id);
  std::atomic<bool> writing = true;
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(store->append(box, message(std::to_string(i))));
    writing = false;
  });
  while (writing) {
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto alive = std::make_shared<std::atomic<bool>>(true);
    auto subscription =
        store->change_bus().subscribe(account.id, [calls, alive](const ChangeEvent&) {
          EXPECT_TRUE(*alive);  // never called once unsubscribed
          ++*calls;
        });
    subscription.reset();
    *alive = false;
  }
  writer.join();
}

}  // namespace
}  // namespace rampart::store
