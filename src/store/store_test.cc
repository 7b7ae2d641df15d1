#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "base/sha256.h"
#include "store/test_support_internal.h"

namespace rampart::store {
namespace {
using testing::mailbox_by_id;
using testing::message_by_id;

using testing::add_account;
using testing::inbox;
using testing::message;
using testing::open_store;
using testing::TempDir;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_store(dir_.path());
    ASSERT_TRUE(store_);
  }
  void reopen() {
    store_.reset();
    store_ = open_store(dir_.path());
  }
  std::vector<Uid> uids(MailboxId mailbox) {
    std::vector<Uid> out;
    const auto snapshot = store_->snapshot(mailbox);
    for (const auto& meta : snapshot->messages) out.push_back(meta.uid);
    return out;
  }
  // Blobs kept: rows of the blobs table (a small blob's bytes are in its row).
  std::size_t blob_rows() {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir_.path() / "rampart.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db);
      return SIZE_MAX;
    }
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM blobs", -1, &statement, nullptr);
    const std::size_t count =
        sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : SIZE_MAX;
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return count;
  }
  // Large blobs' files under blobs/.
  std::size_t blob_files() {
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path() / "blobs")) {
      count += entry.is_regular_file();
    }
    return count;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, KeepsDomains) {
  ASSERT_TRUE(store_->add_domain("example.test"));
  ASSERT_TRUE(store_->add_domain("other.test"));
  EXPECT_EQ(store_->add_domain("example.test").error().code, Errc::Exists);
  EXPECT_TRUE(*store_->has_domain("example.test"));
  EXPECT_FALSE(*store_->has_domain("nowhere.test"));
  EXPECT_EQ(store_->list_domains()->size(), 2u);
  ASSERT_TRUE(store_->remove_domain("other.test"));
  EXPECT_EQ(store_->remove_domain("other.test").error().code, Errc::NotFound);
  add_account(*store_);
  EXPECT_EQ(store_->remove_domain("example.test").error().code, Errc::Exists);
}

TEST_F(StoreTest, AddAccountCreatesTheDefaultMailboxesWithRoles) {
  const Account account = add_account(*store_);
  EXPECT_GT(account.id, 0);
  EXPECT_GT(account.created, 0);
  EXPECT_GT(account.modseq, 0u);
  auto mailboxes = *store_->list_mailboxes(account.id);
  ASSERT_EQ(mailboxes.size(), std::size(kDefaultMailboxes));
  for (auto [name, role] : kDefaultMailboxes) {
    auto mailbox = store_->find_mailbox(account.id, name);
    ASSERT_TRUE(mailbox) << name;
    EXPECT_EQ(mailbox->role, role);
    EXPECT_EQ(mailbox->uidnext, 1u);
    EXPECT_GT(mailbox->uidvalidity, 0u);
  }
  EXPECT_TRUE(store_->find_mailbox(account.id, "inbox")->subscribed);
}

TEST_F(StoreTest, FindsListsAndUpdatesAccounts) {
  const Account alice = add_account(*store_, "alice");
  add_account(*store_, "bob");
  EXPECT_EQ(store_->add_account("alice@example.test", "x").error().code, Errc::Exists);
  EXPECT_EQ(store_->add_account("a@nowhere.test", "x").error().code, Errc::NotFound);
  EXPECT_EQ(store_->add_account("no-at-sign", "x").error().code, Errc::BadInput);
  EXPECT_EQ(store_->find_account("alice@example.test")->id, alice.id);
  EXPECT_EQ(store_->find_account("carol@example.test").error().code, Errc::NotFound);
  EXPECT_EQ(store_->get_account(alice.id)->address, "alice@example.test");
  EXPECT_EQ(store_->list_accounts()->size(), 2u);
  EXPECT_EQ(store_->list_accounts("example.test")->size(), 2u);
  EXPECT_TRUE(store_->list_accounts("other.test")->empty());
  ASSERT_TRUE(store_->set_password_hash(alice.id, "$argon2id$new"));
  EXPECT_EQ(store_->get_account(alice.id)->password_hash, "$argon2id$new");
  EXPECT_EQ(store_->set_password_hash(999, "x").error().code, Errc::NotFound);
}

TEST_F(StoreTest, KeepsAliasesAndCatchAlls) {
  ASSERT_TRUE(store_->add_domain("example.test"));
  ASSERT_TRUE(store_->add_alias("sales@example.test", "alice@example.test"));
  ASSERT_TRUE(store_->add_alias("@example.test", "bob@example.test"));
  EXPECT_EQ(store_->add_alias("sales@example.test", "x@y").error().code, Errc::Exists);
  EXPECT_EQ(store_->add_alias("a@nowhere.test", "x@y").error().code, Errc::NotFound);
  EXPECT_EQ((*store_->find_alias("sales@example.test"))->target, "alice@example.test");
  EXPECT_FALSE(store_->find_alias("nobody@example.test")->has_value());
  EXPECT_EQ(store_->list_aliases("example.test")->size(), 2u);
  ASSERT_TRUE(store_->remove_alias("sales@example.test"));
  EXPECT_EQ(store_->remove_alias("sales@example.test").error().code, Errc::NotFound);
  ASSERT_TRUE(store_->remove_domain("example.test"));
  EXPECT_TRUE(store_->list_aliases()->empty());
}

TEST_F(StoreTest, CreatesMailboxesWithTheirParents) {
  const Account account = add_account(*store_);
  auto created = store_->create_mailbox(account.id, "Projects/2026/Q1");
  ASSERT_TRUE(created) << created.error().detail;
  EXPECT_EQ(created->name, "Projects/2026/Q1");
  EXPECT_FALSE(created->subscribed);
  EXPECT_TRUE(store_->find_mailbox(account.id, "Projects"));
  EXPECT_TRUE(store_->find_mailbox(account.id, "Projects/2026"));
  EXPECT_EQ(store_->create_mailbox(account.id, "Projects/2026").error().code, Errc::Exists);
  EXPECT_EQ(store_->create_mailbox(account.id, "a//b").error().code, Errc::BadInput);
  EXPECT_EQ(store_->create_mailbox(account.id, "X", Role::Trash).error().code, Errc::Exists);
  EXPECT_EQ(store_->create_mailbox(999, "X").error().code, Errc::NotFound);
  EXPECT_EQ(mailbox_by_id(*store_, created->id)->name, "Projects/2026/Q1");
}

TEST_F(StoreTest, RenamesAMailboxWithItsChildren) {
  const Account account = add_account(*store_);
  const MailboxId parent = store_->create_mailbox(account.id, "Old")->id;
  const MailboxId child = store_->create_mailbox(account.id, "Old/Child")->id;
  ASSERT_TRUE(store_->create_mailbox(account.id, "Older"));
  ASSERT_TRUE(store_->rename_mailbox(parent, "New/Name"));
  EXPECT_EQ(mailbox_by_id(*store_, parent)->name, "New/Name");
  EXPECT_EQ(mailbox_by_id(*store_, child)->name, "New/Name/Child");
  EXPECT_TRUE(store_->find_mailbox(account.id, "New"));
  EXPECT_EQ(store_->find_mailbox(account.id, "Older")->name, "Older");
  EXPECT_EQ(store_->rename_mailbox(inbox(*store_, account.id), "Elsewhere").error().code,
            Errc::BadInput);
  EXPECT_EQ(store_->rename_mailbox(parent, "New/Name/Child/Deeper").error().code, Errc::BadInput);
}

TEST_F(StoreTest, RenameOntoATakenNameChangesNothing) {
  const Account account = add_account(*store_);
  const MailboxId a = store_->create_mailbox(account.id, "A")->id;
  ASSERT_TRUE(store_->create_mailbox(account.id, "A/x"));
  ASSERT_TRUE(store_->create_mailbox(account.id, "B/x"));
  EXPECT_EQ(store_->rename_mailbox(a, "B").error().code, Errc::Exists);
  EXPECT_EQ(mailbox_by_id(*store_, a)->name, "A");
  EXPECT_TRUE(store_->find_mailbox(account.id, "A/x"));
}

TEST_F(StoreTest, DeletesAMailboxButNotItsChildren) {
  const Account account = add_account(*store_);
  const MailboxId parent = store_->create_mailbox(account.id, "P")->id;
  ASSERT_TRUE(store_->create_mailbox(account.id, "P/C"));
  ASSERT_TRUE(store_->append(parent, message("in P")));
  ASSERT_TRUE(store_->delete_mailbox(parent));
  EXPECT_EQ(mailbox_by_id(*store_, parent).error().code, Errc::NotFound);
  EXPECT_TRUE(store_->find_mailbox(account.id, "P/C"));
  EXPECT_EQ(store_->delete_mailbox(inbox(*store_, account.id)).error().code, Errc::BadInput);
  EXPECT_EQ(blob_rows(), 0u);
}

TEST_F(StoreTest, KeepsSubscriptions) {
  const Account account = add_account(*store_);
  const MailboxId id = store_->create_mailbox(account.id, "News")->id;
  ASSERT_TRUE(store_->set_subscribed(id, true));
  EXPECT_TRUE(mailbox_by_id(*store_, id)->subscribed);
  ASSERT_TRUE(store_->set_subscribed(id, false));
  EXPECT_FALSE(mailbox_by_id(*store_, id)->subscribed);
  EXPECT_EQ(store_->set_subscribed(999, true).error().code, Errc::NotFound);
}

TEST_F(StoreTest, UidValidityIsStableAcrossReopenAndNewForARecreatedMailbox) {
  const Account account = add_account(*store_);
  const Mailbox first = *store_->create_mailbox(account.id, "Again");
  reopen();
  EXPECT_EQ(mailbox_by_id(*store_, first.id)->uidvalidity, first.uidvalidity);
  ASSERT_TRUE(store_->delete_mailbox(first.id));
  const Mailbox second = *store_->create_mailbox(account.id, "Again");
  EXPECT_NE(second.id, first.id);
  EXPECT_GT(second.uidvalidity, first.uidvalidity);
}

TEST_F(StoreTest, AppendsMessagesWithIncreasingUidsAndModseqs) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  NewMessage dated = message("one", {"\\Seen"});
  dated.internal_date = 1'700'000'000;
  auto first = store_->append(box, dated);
  ASSERT_TRUE(first) << first.error().detail;
  auto second = *store_->append(box, message("two"));
  EXPECT_EQ(first->uid, 1u);
  EXPECT_EQ(second.uid, 2u);
  EXPECT_GT(second.modseq, first->modseq);
  EXPECT_GT(second.id, first->id);

  auto snapshot = *store_->snapshot(box);
  EXPECT_EQ(snapshot.mailbox.uidnext, 3u);
  EXPECT_EQ(snapshot.mailbox.message_count, 2u);
  EXPECT_EQ(snapshot.mailbox.unseen_count, 1u);
  EXPECT_EQ(snapshot.mailbox.total_size, dated.raw.size() + message("two").raw.size());
  EXPECT_EQ(snapshot.mailbox.highest_modseq, second.modseq);
  ASSERT_EQ(snapshot.messages.size(), 2u);
  EXPECT_EQ(snapshot.messages[0].internal_date, 1'700'000'000);
  EXPECT_GT(snapshot.messages[1].internal_date, 1'700'000'000);
  EXPECT_EQ(snapshot.messages[0].flags, Flags{"\\Seen"});

  auto meta = *message_by_id(*store_, first->id);
  EXPECT_EQ(meta.blob_id, sha256_hex(dated.raw));
  EXPECT_EQ(meta.size, dated.raw.size());
  EXPECT_EQ(*store_->read_blob(meta.blob_id), dated.raw);
  EXPECT_EQ(*store_->read_structure(first->id), dated.structure);
  EXPECT_EQ(message_by_id(*store_, 999).error().code, Errc::NotFound);
  EXPECT_EQ(store_->read_blob("../../etc/passwd").error().code, Errc::NotFound);
  EXPECT_EQ(store_->read_blob(std::string(64, '0')).error().code, Errc::NotFound);
  EXPECT_EQ(store_->append(999, message("x")).error().code, Errc::NotFound);
  EXPECT_EQ(store_->append(box, message("x", {"\\Recent"})).error().code, Errc::BadInput);
}

TEST_F(StoreTest, DeliverToSeveralTargetsSharesOneBlob) {
  const Account alice = add_account(*store_, "alice");
  const Account bob = add_account(*store_, "bob");
  const NewMessage mail = message("for both");
  auto delivered = store_->deliver(
      mail, {{alice.id, inbox(*store_, alice.id)}, {bob.id, inbox(*store_, bob.id)}});
  ASSERT_TRUE(delivered) << delivered.error().detail;
  ASSERT_EQ(delivered->size(), 2u);
  EXPECT_EQ((*delivered)[0].mailbox, inbox(*store_, alice.id));
  EXPECT_EQ((*delivered)[1].mailbox, inbox(*store_, bob.id));
  EXPECT_EQ(message_by_id(*store_, (*delivered)[0].id)->blob_id,
            message_by_id(*store_, (*delivered)[1].id)->blob_id);
  EXPECT_EQ(blob_rows(), 1u);
}

TEST_F(StoreTest, DeliverWithOneBadTargetAddsNothing) {
  const Account alice = add_account(*store_, "alice");
  const Account bob = add_account(*store_, "bob");
  // Bob's INBOX named under Alice's account: refused, and Alice gets no copy either.
  auto delivered = store_->deliver(
      message("x"), {{alice.id, inbox(*store_, alice.id)}, {alice.id, inbox(*store_, bob.id)}});
  EXPECT_EQ(delivered.error().code, Errc::NotFound);
  EXPECT_TRUE(store_->snapshot(inbox(*store_, alice.id))->messages.empty());
  EXPECT_EQ(store_->snapshot(inbox(*store_, alice.id))->mailbox.uidnext, 1u);
  EXPECT_EQ(blob_rows(), 0u);
}

TEST_F(StoreTest, ChangesFlagsAndReportsConflicts) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  const Appended one = *store_->append(box, message("1"));
  const Appended two = *store_->append(box, message("2"));

  auto added = *store_->change_flags(
      box, {1, 2, 99},
      {.operation = FlagOperation::Add, .flags = {"\\seen", "$Work"}, .unchanged_since = {}});
  ASSERT_EQ(added.changed.size(), 2u);
  EXPECT_EQ(added.changed[0].flags, (Flags{"$Work", "\\Seen"}));
  EXPECT_GT(added.changed[0].modseq, two.modseq);
  EXPECT_EQ(mailbox_by_id(*store_, box)->unseen_count, 0u);
  EXPECT_EQ(mailbox_by_id(*store_, box)->highest_modseq, added.changed[0].modseq);

  auto again = *store_->change_flags(
      box, {1}, {.operation = FlagOperation::Add, .flags = {"\\Seen"}, .unchanged_since = {}});
  EXPECT_TRUE(again.changed.empty());  // nothing changed, no new modseq

  auto removed = *store_->change_flags(
      box, {2}, {.operation = FlagOperation::Remove, .flags = {"\\Seen"}, .unchanged_since = {}});
  ASSERT_EQ(removed.changed.size(), 1u);
  EXPECT_EQ(removed.changed[0].flags, Flags{"$Work"});
  EXPECT_EQ(mailbox_by_id(*store_, box)->unseen_count, 1u);

  // Message 2 changed after `added`, message 1 did not.
  auto conditional = *store_->change_flags(box, {1, 2},
                                           {.operation = FlagOperation::Replace,
                                            .flags = {"\\Flagged"},
                                            .unchanged_since = added.changed[0].modseq});
  EXPECT_EQ(conditional.conflicts, std::vector<Uid>{2});
  ASSERT_EQ(conditional.changed.size(), 1u);
  EXPECT_EQ(conditional.changed[0].uid, one.uid);
  EXPECT_EQ(message_by_id(*store_, one.id)->flags, Flags{"\\Flagged"});
  EXPECT_EQ(message_by_id(*store_, two.id)->flags, Flags{"$Work"});
  EXPECT_EQ(mailbox_by_id(*store_, box)->unseen_count, 2u);
  EXPECT_EQ(store_->change_flags(999, {1}, {}).error().code, Errc::NotFound);
}

TEST_F(StoreTest, CopiesMovesAndExpunges) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  const MailboxId archive = store_->find_mailbox(account.id, "Archive")->id;
  NewMessage dated = message("a", {"\\Flagged"});
  dated.internal_date = 1234;
  for (const auto& mail : {dated, message("b"), message("c")})
    ASSERT_TRUE(store_->append(box, mail));

  auto copied = *store_->copy_messages(box, {3, 1}, archive);
  ASSERT_EQ(copied.size(), 2u);
  EXPECT_EQ(copied[0].uid, 1u);
  EXPECT_EQ(copied[1].uid, 2u);
  const auto copy = *message_by_id(*store_, copied[0].id);
  EXPECT_EQ(copy.flags, Flags{"\\Flagged"});
  EXPECT_EQ(copy.internal_date, 1234);
  EXPECT_EQ(copy.blob_id, sha256_hex(dated.raw));
  EXPECT_EQ(blob_rows(), 3u);

  auto moved = *store_->move_messages(box, {2}, archive);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].uid, 3u);
  EXPECT_EQ(uids(box), (std::vector<Uid>{1, 3}));
  EXPECT_EQ(uids(archive), (std::vector<Uid>{1, 2, 3}));
  EXPECT_EQ(mailbox_by_id(*store_, box)->message_count, 2u);

  EXPECT_EQ(*store_->expunge(box, {3, 1, 7}), (std::vector<Uid>{1, 3}));
  EXPECT_TRUE(uids(box).empty());
  EXPECT_EQ(mailbox_by_id(*store_, box)->total_size, 0u);
  EXPECT_EQ(blob_rows(), 3u);  // the copies still name every blob
  EXPECT_EQ(*store_->expunge(archive, {1, 2, 3}), (std::vector<Uid>{1, 2, 3}));
  EXPECT_EQ(blob_rows(), 0u);
  EXPECT_EQ(store_->copy_messages(box, {1}, 999).error().code, Errc::NotFound);
}

TEST_F(StoreTest, AMoveKeepsTheMessageIdAndLogsItAsMoved) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  const MailboxId archive = store_->find_mailbox(account.id, "Archive")->id;
  const auto added = *store_->append(box, message("a"));
  const ModSeq before = store_->get_account(account.id)->modseq;
  const auto moved = *store_->move_messages(box, {added.uid}, archive);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].id, added.id);
  EXPECT_EQ(moved[0].source_uid, added.uid);
  const auto meta = *message_by_id(*store_, added.id);
  EXPECT_EQ(meta.mailbox, archive);
  EXPECT_EQ(meta.uid, moved[0].uid);
  EXPECT_EQ(mailbox_by_id(*store_, box)->message_count, 0u);
  EXPECT_EQ(mailbox_by_id(*store_, archive)->unseen_count, 1u);
  // IMAP sees it leave the source mailbox.
  EXPECT_EQ(store_->mailbox_changes(box, before)->removed, (std::vector<Uid>{added.uid}));
  EXPECT_EQ(store_->mailbox_changes(archive, before)->changed.size(), 1u);
  const auto log = *store_->changes_since(account.id, before);
  bool logged_move = false;
  for (const Change& change : log.changes) {
    logged_move |= change.kind == ChangeKind::MessageMoved && change.message == added.id;
    EXPECT_NE(change.kind, ChangeKind::MessageDestroyed);
  }
  EXPECT_TRUE(logged_move);
}

TEST_F(StoreTest, ThreadsFollowMessageIdsEvenOutOfOrder) {
  const Account account = add_account(*store_);
  const Account other = add_account(*store_, "other");
  const MailboxId box = inbox(*store_, account.id);
  auto with_ids = [](std::string body, std::string id, std::vector<std::string> parents) {
    NewMessage mail = message(std::move(body));
    mail.message_id = std::move(id);
    mail.parent_ids = std::move(parents);
    return mail;
  };
  const auto root = *store_->append(box, with_ids("root", "r@x", {}));
  const auto reply = *store_->append(box, with_ids("reply", "a@x", {"r@x"}));
  // A reply to a message not here yet starts a thread, which the parent then joins.
  const auto early = *store_->append(box, with_ids("early", "c@x", {"b@x", "r2@x"}));
  const auto late = *store_->append(box, with_ids("late", "b@x", {}));
  const auto alone = *store_->append(box, with_ids("alone", "", {}));
  auto thread_of = [&](const Appended& appended) {
    return message_by_id(*store_, appended.id)->thread;
  };
  EXPECT_EQ(thread_of(root), root.id);
  EXPECT_EQ(thread_of(reply), root.id);
  EXPECT_EQ(thread_of(early), early.id);
  EXPECT_EQ(thread_of(late), early.id);
  EXPECT_EQ(thread_of(alone), alone.id);
  EXPECT_EQ(store_->thread_messages(account.id, {root.id})->size(), 2u);
  // Another account's copy of a message id threads on its own.
  const auto theirs = *store_->append(inbox(*store_, other.id), with_ids("reply", "a@x", {"r@x"}));
  EXPECT_EQ(thread_of(theirs), theirs.id);
  EXPECT_TRUE(store_->thread_messages(other.id, {root.id})->empty());
  EXPECT_EQ(store_->find_messages(other.id, {root.id, theirs.id})->size(), 1u);
  EXPECT_EQ(store_->account_messages(account.id)->size(), 5u);
  // A copy stays in its thread.
  const MailboxId archive = store_->find_mailbox(account.id, "Archive")->id;
  const auto copy = store_->copy_messages(box, {reply.uid}, archive)->front();
  EXPECT_EQ(thread_of(copy), root.id);
}

TEST_F(StoreTest, UploadsAreTheAccountsOwnAndHoldTheirBlob) {
  const Account account = add_account(*store_);
  const Account other = add_account(*store_, "other");
  const auto upload = *store_->add_upload(account.id, "attachment bytes", "application/pdf");
  EXPECT_EQ(upload.blob_id, sha256_hex("attachment bytes"));
  EXPECT_EQ(upload.size, 16u);
  EXPECT_EQ(store_->find_blob(account.id, upload.blob_id)->type, "application/pdf");
  EXPECT_EQ(store_->find_blob(other.id, upload.blob_id).error().code, Errc::NotFound);
  EXPECT_EQ(*store_->read_blob(upload.blob_id), "attachment bytes");
  // A message's bytes are readable by its account as message/rfc822, and the first
  // message with an upload's bytes gives the blob its structure.
  NewMessage mail = message("attachment bytes");
  mail.raw = "attachment bytes";
  mail.structure = "structure";
  const auto added = *store_->append(inbox(*store_, other.id), mail);
  EXPECT_EQ(store_->find_blob(other.id, upload.blob_id)->type, "message/rfc822");
  EXPECT_EQ(*store_->read_structure(added.id), "structure");
  // Quotas count uploads.
  ASSERT_TRUE(store_->set_quota(account.id, 20));
  EXPECT_EQ(store_->add_upload(account.id, "more than four", "text/plain").error().code,
            Errc::OverQuota);
  // Removing the account releases its uploads' blobs.
  ASSERT_TRUE(store_->expunge(inbox(*store_, other.id), {added.uid}));
  ASSERT_TRUE(store_->remove_account(account.id));
  EXPECT_EQ(blob_rows(), 0u);
}

TEST_F(StoreTest, ObjectsShareTheAccountModseqAndLeaveTombstones) {
  const Account account = add_account(*store_);
  const Account other = add_account(*store_, "other");
  const auto made = *store_->put_object(account.id, "Identity", 0, R"({"a":1})");
  EXPECT_EQ(made.created, store_->get_account(account.id)->modseq);
  const ModSeq after_create = made.modseq;
  const auto changed = *store_->put_object(account.id, "Identity", made.id, R"({"a":2})");
  EXPECT_GT(changed.modseq, after_create);
  EXPECT_EQ(changed.created, made.created);
  // Another account, another type, or a made-up id is not this record.
  EXPECT_EQ(store_->put_object(other.id, "Identity", made.id, "{}").error().code, Errc::NotFound);
  EXPECT_EQ(store_->put_object(account.id, "EmailSubmission", made.id, "{}").error().code,
            Errc::NotFound);
  EXPECT_TRUE(store_->list_objects(other.id, "Identity")->empty());
  ASSERT_EQ(store_->list_objects(account.id, "Identity")->size(), 1u);
  EXPECT_EQ(store_->list_objects(account.id, "Identity")->front().data, R"({"a":2})");
  EXPECT_EQ(store_->list_objects(account.id, "Identity", after_create)->size(), 1u);
  ASSERT_TRUE(store_->destroy_object(account.id, "Identity", made.id));
  EXPECT_EQ(store_->destroy_object(account.id, "Identity", made.id).error().code, Errc::NotFound);
  EXPECT_TRUE(store_->list_objects(account.id, "Identity")->empty());
  const auto tombstones = *store_->list_objects(account.id, "Identity", after_create);
  ASSERT_EQ(tombstones.size(), 1u);
  EXPECT_TRUE(tombstones[0].destroyed);
}

TEST_F(StoreTest, NeverReusesAUidAfterExpungeOrReopen) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  ASSERT_TRUE(store_->append(box, message("1")));
  ASSERT_TRUE(store_->append(box, message("2")));
  ASSERT_TRUE(store_->expunge(box, {2}));
  reopen();
  EXPECT_EQ(store_->append(box, message("3"))->uid, 3u);
  EXPECT_EQ(mailbox_by_id(*store_, box)->uidnext, 4u);
}

TEST_F(StoreTest, ChangeLogServesCondstoreQresyncAndJmapChanges) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  const ModSeq start = store_->get_account(account.id)->modseq;
  const Appended one = *store_->append(box, message("1"));
  const Appended two = *store_->append(box, message("2"));
  ASSERT_TRUE(
      store_->change_flags(box, {1}, FlagChange{.flags = {"\\Seen"}, .unchanged_since = {}}));
  ASSERT_TRUE(store_->expunge(box, {2}));
  const MailboxId created = store_->create_mailbox(account.id, "New")->id;

  auto set = *store_->changes_since(account.id, start);
  EXPECT_EQ(set.from, start);
  EXPECT_EQ(set.to, store_->get_account(account.id)->modseq);
  auto has = [&](ChangeKind kind, MailboxId mailbox, MessageId message, Uid uid) {
    return std::any_of(set.changes.begin(), set.changes.end(), [&](const Change& change) {
      return change.kind == kind && change.mailbox == mailbox && change.message == message &&
             change.uid == uid;
    });
  };
  EXPECT_TRUE(has(ChangeKind::MessageCreated, box, one.id, 1));
  EXPECT_TRUE(has(ChangeKind::MessageCreated, box, two.id, 2));
  EXPECT_TRUE(has(ChangeKind::MessageUpdated, box, one.id, 1));
  EXPECT_TRUE(has(ChangeKind::MessageDestroyed, box, two.id, 2));  // QRESYNC VANISHED
  EXPECT_TRUE(has(ChangeKind::MailboxUpdated, box, 0, 0));
  EXPECT_TRUE(has(ChangeKind::MailboxCreated, created, 0, 0));
  for (std::size_t i = 1; i < set.changes.size(); ++i) {
    EXPECT_LE(set.changes[i - 1].modseq, set.changes[i].modseq);
  }
  EXPECT_GT(set.changes.front().modseq, start);
  EXPECT_EQ(set.changes.back().modseq, set.to);

  ASSERT_TRUE(store_->delete_mailbox(created));
  auto after = *store_->changes_since(account.id, set.to);
  ASSERT_EQ(after.changes.size(), 1u);
  EXPECT_EQ(after.changes[0].kind, ChangeKind::MailboxDestroyed);
  EXPECT_TRUE(store_->changes_since(account.id, after.to)->changes.empty());
  EXPECT_EQ(store_->changes_since(account.id, after.to + 1).error().code, Errc::BadInput);
  EXPECT_EQ(store_->changes_since(999, 0).error().code, Errc::NotFound);
}

TEST_F(StoreTest, ChangeBusNotifiesSubscribersOfTheirAccountOnly) {
  const Account alice = add_account(*store_, "alice");
  const Account bob = add_account(*store_, "bob");
  std::vector<ChangeEvent> heard;
  auto subscription = store_->change_bus().subscribe(
      alice.id, [&](const ChangeEvent& event) { heard.push_back(event); });
  const Appended appended = *store_->append(inbox(*store_, alice.id), message("x"));
  ASSERT_TRUE(store_->append(inbox(*store_, bob.id), message("y")));
  // Published before append returns.
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].account, alice.id);
  EXPECT_EQ(heard[0].modseq, appended.modseq);
  EXPECT_EQ(heard[0].mailboxes, std::vector<MailboxId>{appended.mailbox});
  subscription.reset();
  ASSERT_TRUE(store_->append(inbox(*store_, alice.id), message("z")));
  EXPECT_EQ(heard.size(), 1u);
}

TEST_F(StoreTest, ASubscriberMayUnsubscribeFromItsOwnCallback) {
  const Account account = add_account(*store_);
  int calls = 0;
  std::unique_ptr<ChangeBus::Subscription> subscription;
  subscription = store_->change_bus().subscribe(account.id, [&](const ChangeEvent&) {
    ++calls;
    subscription.reset();
  });
  ASSERT_TRUE(store_->append(inbox(*store_, account.id), message("1")));
  ASSERT_TRUE(store_->append(inbox(*store_, account.id), message("2")));
  EXPECT_EQ(calls, 1);
}

TEST_F(StoreTest, RemoveAccountDeletesItsBlobsButKeepsSharedOnes) {
  const Account alice = add_account(*store_, "alice");
  const Account bob = add_account(*store_, "bob");
  const NewMessage shared = message("shared");
  ASSERT_TRUE(store_->deliver(
      shared, {{alice.id, inbox(*store_, alice.id)}, {bob.id, inbox(*store_, bob.id)}}));
  ASSERT_TRUE(store_->append(inbox(*store_, alice.id), message("alice only")));
  ASSERT_EQ(blob_rows(), 2u);
  ASSERT_TRUE(store_->remove_account(alice.id));
  EXPECT_EQ(blob_rows(), 1u);
  EXPECT_EQ(*store_->read_blob(sha256_hex(shared.raw)), shared.raw);
  EXPECT_EQ(store_->get_account(alice.id).error().code, Errc::NotFound);
  EXPECT_EQ(store_->list_mailboxes(alice.id).error().code, Errc::NotFound);
  EXPECT_EQ(store_->remove_account(alice.id).error().code, Errc::NotFound);
  ASSERT_TRUE(store_->remove_account(bob.id));
  EXPECT_EQ(blob_rows(), 0u);
}

TEST_F(StoreTest, KeepsSmallBlobsInTheirRowAndLargeOnesAsFilesUntilTheLastReference) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  const MailboxId other = store_->create_mailbox(account.id, "Other")->id;
  const NewMessage small = message("small");
  const NewMessage large = message(std::string(65 * 1024, 'x'));
  const Uid small_uid = store_->append(box, small)->uid;
  EXPECT_EQ(blob_files(), 0u);
  const Uid large_uid = store_->append(box, large)->uid;
  const Uid copy_uid = store_->append(other, large)->uid;
  EXPECT_EQ(blob_rows(), 2u);
  EXPECT_EQ(blob_files(), 1u);
  EXPECT_EQ(*store_->read_blob(sha256_hex(small.raw)), small.raw);
  EXPECT_EQ(*store_->read_blob(sha256_hex(large.raw)), large.raw);
  EXPECT_EQ(store_->read_blob(std::string(64, '0')).error().code, Errc::NotFound);

  ASSERT_TRUE(store_->expunge(box, {small_uid, large_uid}));
  EXPECT_EQ(blob_rows(), 1u);
  EXPECT_EQ(blob_files(), 1u);  // the copy in Other still names it
  ASSERT_TRUE(store_->expunge(other, {copy_uid}));
  EXPECT_EQ(blob_rows(), 0u);
  EXPECT_EQ(blob_files(), 0u);
}

TEST_F(StoreTest, ReopensAtTheSchemaVersionAndRefusesANewerOne) {
  add_account(*store_);
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "rampart.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), 16);
  sqlite3_finalize(statement);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto refused = open_sqlite_store({.data_dir = dir_.path()});
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().detail.find("newer"), std::string::npos);
}

// A real full disk: a 2 MiB tmpfs (needs root).
class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    ASSERT_EQ(::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=2m"), 0);
    mounted_ = true;
    store_ = open_store(dir_.path() / "data");
    ASSERT_TRUE(store_);
    // Deleted to make room again: on a full disk even a delete needs WAL space.
    std::ofstream(dir_.path() / "reserve", std::ios::binary) << std::string(256 * 1024, 'r');
  }
  void TearDown() override {
    store_.reset();
    if (mounted_) ::umount(dir_.path().c_str());
  }
  // Fills what is left of the disk.
  void fill() {
    std::ofstream filler(dir_.path() / "filler", std::ios::binary);
    const std::string chunk(4096, 'f');
    while (filler.write(chunk.data(), chunk.size()) && filler.flush()) {
    }
  }

  TempDir dir_;
  bool mounted_ = false;
  std::unique_ptr<Store> store_;
};

TEST_F(DiskFullTest, BlobWritesFailWithOverQuotaAndLeaveNothingBehind) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  std::vector<Appended> acknowledged;
  Result<Appended> appended;
  for (int i = 0; (appended = store_->append(
                       box, message(std::string(64 * 1024, 'a' + i % 26) + std::to_string(i))));
       ++i) {
    acknowledged.push_back(*appended);
  }
  EXPECT_EQ(appended.error().code, Errc::OverQuota) << appended.error().detail;
  auto snapshot = *store_->snapshot(box);
  ASSERT_EQ(snapshot.messages.size(), acknowledged.size());
  EXPECT_EQ(snapshot.mailbox.message_count, acknowledged.size());
  for (const auto& meta : snapshot.messages) {
    EXPECT_EQ(sha256_hex(*store_->read_blob(meta.blob_id)), meta.blob_id);
  }
  std::filesystem::remove(dir_.path() / "reserve");
  ASSERT_TRUE(store_->expunge(box, {acknowledged.front().uid}));
  EXPECT_TRUE(store_->append(box, message("fits again")));
}

TEST_F(DiskFullTest, DatabaseWritesFailWithOverQuotaAndCommitNothing) {
  const Account account = add_account(*store_);
  fill();
  std::filesystem::remove(dir_.path() / "reserve");  // room for a few commits, not for all
  std::vector<MailboxId> created;
  Result<Mailbox> mailbox;
  // Each mailbox is a few rows; the WAL grows until the disk refuses.
  for (int i = 0; (mailbox = store_->create_mailbox(
                       account.id, "Folder " + std::to_string(i) + std::string(500, 'x')));
       ++i) {
    created.push_back(mailbox->id);
  }
  EXPECT_EQ(mailbox.error().code, Errc::OverQuota) << mailbox.error().detail;
  EXPECT_GT(created.size(), 0u);
  std::filesystem::remove(dir_.path() / "filler");
  store_.reset();  // and again from disk
  store_ = open_store(dir_.path() / "data");
  auto mailboxes = *store_->list_mailboxes(account.id);
  EXPECT_EQ(mailboxes.size(), std::size(kDefaultMailboxes) + created.size());
  for (MailboxId id : created) EXPECT_TRUE(mailbox_by_id(*store_, id));
  EXPECT_TRUE(store_->create_mailbox(account.id, "After"));
}

TEST_F(StoreTest, QueueKeepsEntriesDurablyAndHoldsTheirBlob) {
  const Account alice = add_account(*store_, "alice");
  const NewMessage mail = message("to the world");
  QueueEntry entry{.account = alice.id,
                   .sender = "alice@example.test",
                   .ret = "HDRS",
                   .envid = "e1",
                   .recipients = {{"x@remote.test", "SUCCESS,FAILURE", "rfc822;x@remote.test"},
                                  {"y@remote.test", "", ""}}};
  auto queued = store_->enqueue(mail, entry);
  ASSERT_TRUE(queued) << queued.error().detail;
  EXPECT_GT(queued->id, 0);
  EXPECT_EQ(queued->size, mail.raw.size());
  EXPECT_EQ(*store_->read_blob(queued->blob_id), mail.raw);
  EXPECT_FALSE(store_->enqueue(mail, QueueEntry{.sender = "a@b"}));  // no recipients

  // The same bytes delivered locally and then expunged: the queue still holds the blob.
  auto delivered = store_->append(inbox(*store_, alice.id), mail);
  ASSERT_TRUE(delivered);
  ASSERT_TRUE(store_->expunge(inbox(*store_, alice.id), {delivered->uid}));
  EXPECT_EQ(*store_->read_blob(queued->blob_id), mail.raw);

  reopen();
  auto listed = store_->list_queue();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  const QueueEntry& stored = listed->front();
  EXPECT_EQ(stored.id, queued->id);
  EXPECT_EQ(stored.account, alice.id);
  EXPECT_EQ(stored.sender, "alice@example.test");
  EXPECT_EQ(stored.ret, "HDRS");
  EXPECT_EQ(stored.envid, "e1");
  ASSERT_EQ(stored.recipients.size(), 2u);
  EXPECT_EQ(stored.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(stored.recipients[0].orcpt, "rfc822;x@remote.test");
  EXPECT_EQ(stored.recipients[1].address, "y@remote.test");
  EXPECT_GT(stored.queued_at, 0);
  EXPECT_EQ(stored.attempts, 0);

  // An account's removal keeps what it already sent.
  ASSERT_TRUE(store_->remove_account(alice.id));
  EXPECT_EQ(store_->list_queue()->front().account, 0);
  EXPECT_EQ(*store_->read_blob(queued->blob_id), mail.raw);
}

TEST_F(StoreTest, QueueEntriesAreHeldRetriedAndRemoved) {
  const NewMessage first = message("first"), second = message("second");
  auto a = store_->enqueue(
      first, QueueEntry{.sender = "s@example.test", .recipients = {{.address = "x@remote.test"}}});
  auto b = store_->enqueue(
      second, QueueEntry{.sender = "s@example.test", .recipients = {{.address = "y@remote.test"}}});
  ASSERT_TRUE(a && b);
  auto shown = store_->get_queue_entry(a->id);
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->recipients.front().state, QueuedRecipient::State::Pending);
  EXPECT_FALSE(shown->held);
  EXPECT_EQ(store_->get_queue_entry(999).error().code, Errc::NotFound);

  auto due = store_->due_queue(b->next_attempt, 1, {});  // both due, a batch of one
  ASSERT_TRUE(due);
  ASSERT_EQ(due->entries.size(), 1u);
  EXPECT_EQ(due->entries[0].id, a->id);
  EXPECT_EQ(due->entries[0].recipients.size(), 1u);
  EXPECT_EQ(store_->due_queue(a->next_attempt - 1, 10, {})->next_attempt, a->next_attempt);
  auto skipped = store_->due_queue(b->next_attempt, 10, {a->id});  // a is being sent
  ASSERT_TRUE(skipped);
  ASSERT_EQ(skipped->entries.size(), 1u);
  EXPECT_EQ(skipped->entries[0].id, b->id);

  // What an attempt records: only the positions named, and the schedule.
  std::vector<QueuedRecipient> recipients = shown->recipients;
  recipients[0].state = QueuedRecipient::State::Deferred;
  recipients[0].reply = "451 4.7.5 certificate not accepted";
  recipients[0].via = "mx.remote.test[127.0.0.2] dane";
  recipients[0].reported = true;
  ASSERT_TRUE(store_->record_recipients(a->id, {0}, recipients));
  EXPECT_FALSE(store_->record_recipients(a->id, {1}, recipients));  // no such position
  ASSERT_TRUE(store_->reschedule(a->id, 1, a->next_attempt + 600, true));
  auto recorded = store_->get_queue_entry(a->id);
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->recipients[0].state, QueuedRecipient::State::Deferred);
  EXPECT_EQ(recorded->recipients[0].reply, recipients[0].reply);
  EXPECT_EQ(recorded->recipients[0].via, recipients[0].via);
  EXPECT_TRUE(recorded->recipients[0].reported);
  EXPECT_EQ(recorded->attempts, 1);
  EXPECT_EQ(recorded->next_attempt, a->next_attempt + 600);
  EXPECT_TRUE(recorded->delay_reported);
  EXPECT_EQ(store_->reschedule(999, 1, 0, false).error().code, Errc::NotFound);

  ASSERT_TRUE(store_->hold_queue_entry(a->id, true));
  EXPECT_EQ(store_->due_queue(b->next_attempt, 10, {})->entries.size(), 1u);  // held: not due
  EXPECT_TRUE(store_->get_queue_entry(a->id)->held);
  EXPECT_EQ(store_->retry_queue(a->id).error().code, Errc::NotFound);  // held: not due
  EXPECT_EQ(*store_->retry_queue(0), 1u);                              // only b
  ASSERT_TRUE(store_->hold_queue_entry(a->id, false));
  EXPECT_EQ(*store_->retry_queue(0), 2u);
  EXPECT_EQ(store_->hold_queue_entry(999, true).error().code, Errc::NotFound);

  ASSERT_TRUE(store_->remove_queue_entry(a->id));
  EXPECT_EQ(store_->list_queue()->size(), 1u);
  EXPECT_FALSE(store_->read_blob(a->blob_id));  // nothing else held it
  EXPECT_EQ(*store_->read_blob(b->blob_id), second.raw);
  EXPECT_EQ(store_->remove_queue_entry(a->id).error().code, Errc::NotFound);
}

TEST_F(StoreTest, TlsResultsAreSummedReadByPeriodAndRemoved) {
  const TlsResult ok{
      .period = 100, .domain = "a.example", .policy_type = "sts", .policy = "{}", .count = 2};
  TlsResult failed = ok;
  failed.result_type = "certificate-host-mismatch";
  failed.mx_host = "mx.a.example";
  failed.count = 1;
  TlsResult later = ok;
  later.period = 200;
  ASSERT_TRUE(store_->add_tls_results({ok, failed, later}));
  ASSERT_TRUE(store_->add_tls_results({ok}));  // the same key: summed
  auto ended = store_->tls_results_before(200, 10);
  ASSERT_TRUE(ended);
  ASSERT_EQ(ended->size(), 2u);  // period 200 has not ended
  const auto success = std::find_if(ended->begin(), ended->end(),
                                    [](const TlsResult& r) { return r.result_type.empty(); });
  ASSERT_NE(success, ended->end());
  EXPECT_EQ(success->count, 4);
  EXPECT_EQ(store_->tls_results_before(300, 1)->size(), 1u);  // the limit
  ASSERT_TRUE(store_->remove_tls_results(100, "a.example"));
  auto left = store_->tls_results_before(300, 10);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().period, 200);
}

TEST_F(StoreTest, AppendsSeveralMessagesAtomically) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  auto appended = store_->append_messages(box, {message("a"), message("b"), message("c")});
  ASSERT_TRUE(appended) << appended.error().detail;
  ASSERT_EQ(appended->size(), 3u);
  EXPECT_EQ((*appended)[2].uid, 3u);
  // A bad flag in the last message keeps the first two out as well.
  auto refused = store_->append_messages(box, {message("d"), message("e", {"bad flag"})});
  EXPECT_EQ(refused.error().code, Errc::BadInput);
  EXPECT_EQ(mailbox_by_id(*store_, box)->message_count, 3u);
}

TEST_F(StoreTest, ReportsWhatChangedInOneMailboxSinceAModseq) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  const MailboxId other = store_->create_mailbox(account.id, "Other")->id;
  ASSERT_TRUE(store_->append_messages(box, {message("1"), message("2"), message("3")}));
  const ModSeq since = mailbox_by_id(*store_, box)->highest_modseq;
  ASSERT_TRUE(
      store_->change_flags(box, {2}, {.operation = FlagOperation::Add, .flags = {"\\Seen"}}));
  ASSERT_TRUE(store_->expunge(box, {1}));
  ASSERT_TRUE(store_->append(box, message("4")));
  ASSERT_TRUE(store_->append(other, message("elsewhere")));

  auto changes = store_->mailbox_changes(box, since);
  ASSERT_TRUE(changes) << changes.error().detail;
  ASSERT_EQ(changes->changed.size(), 2u);
  EXPECT_EQ(changes->changed[0].uid, 2u);
  EXPECT_EQ(changes->changed[0].flags, Flags{"\\Seen"});
  EXPECT_EQ(changes->changed[1].uid, 4u);
  EXPECT_EQ(changes->removed, std::vector<Uid>{1});
  EXPECT_EQ(changes->mailbox.message_count, 3u);
  EXPECT_TRUE(store_->mailbox_changes(box, changes->mailbox.highest_modseq)->changed.empty());
}

TEST_F(StoreTest, QuotaRefusesAppendAndCopyButNotDelivery) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  const MailboxId other = store_->create_mailbox(account.id, "Other")->id;
  ASSERT_TRUE(store_->set_quota(account.id, 30));
  EXPECT_EQ(store_->get_account(account.id)->quota_bytes, 30u);
  ASSERT_TRUE(store_->append(box, message("12345")));
  EXPECT_EQ(store_->append(box, message("123456")).error().code, Errc::OverQuota);
  EXPECT_EQ(store_->copy_messages(box, {1}, other).error().code, Errc::OverQuota);
  ASSERT_TRUE(store_->move_messages(box, {1}, other));
  ASSERT_TRUE(store_->deliver(message("a delivery past the quota"),
                              {{.account = account.id, .mailbox = box}}));
  EXPECT_EQ(store_->usage(account.id)->messages, 2u);
  EXPECT_GT(store_->usage(account.id)->bytes, 30u);
  ASSERT_TRUE(store_->set_quota(account.id, 0));
  EXPECT_TRUE(store_->append(box, message("no limit now")));
  EXPECT_EQ(store_->set_quota(999, 1).error().code, Errc::NotFound);
}

TEST_F(StoreTest, KeepsAppPasswordsPerAccount) {
  const Account account = add_account(*store_);
  ASSERT_TRUE(store_->add_app_password(account.id, {"phone", "hash1", 0}));
  ASSERT_TRUE(store_->add_app_password(account.id, {"laptop", "hash2", 0}));
  EXPECT_EQ(store_->add_app_password(account.id, {"phone", "hash3", 0}).error().code, Errc::Exists);
  auto listed = *store_->list_app_passwords(account.id);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "laptop");
  EXPECT_GT(listed[0].created, 0);
  EXPECT_EQ(store_->find_app_password(account.id, "hash1")->name, "phone");
  EXPECT_EQ(store_->find_app_password(account.id, "hash9").error().code, Errc::NotFound);
  ASSERT_TRUE(store_->remove_app_password(account.id, "phone"));
  EXPECT_EQ(store_->remove_app_password(account.id, "phone").error().code, Errc::NotFound);
  EXPECT_EQ(store_->find_app_password(account.id, "hash1").error().code, Errc::NotFound);
  ASSERT_TRUE(store_->remove_account(account.id));
  EXPECT_TRUE(store_->list_app_passwords(account.id)->empty());
}

TEST_F(StoreTest, ReadsSeveralStructuresInOrder) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  NewMessage first = message("1"), second = message("2");
  first.structure = "structure one";
  second.structure = "structure two";
  auto appended = *store_->append_messages(box, {first, second});
  auto structures = store_->read_structures({appended[1].id, 999, appended[0].id});
  ASSERT_TRUE(structures);
  EXPECT_EQ(*structures, (std::vector<std::string>{"structure two", "", "structure one"}));
}

TEST_F(StoreTest, GetsMessagesByUidSkippingAbsentOnes) {
  const Account account = add_account(*store_);
  const MailboxId box = inbox(*store_, account.id);
  std::vector<NewMessage> many;
  for (int i = 0; i < 40; ++i) many.push_back(message(std::to_string(i)));
  ASSERT_TRUE(store_->append_messages(box, many));
  EXPECT_EQ(store_->get_messages(box, {3, 1, 99})->size(), 2u);
  std::vector<Uid> wanted;
  for (Uid uid = 2; uid <= 60; uid += 2) wanted.push_back(uid);
  auto found = store_->get_messages(box, wanted);
  ASSERT_EQ(found->size(), 20u);
  EXPECT_EQ(found->front().uid, 2u);
  EXPECT_EQ(found->back().uid, 40u);
}

}  // namespace
}  // namespace rampart::store
