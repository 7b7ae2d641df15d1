#include "imap/mailbox_view.h"

#include <gtest/gtest.h>

#include "imap/recent.h"

namespace rampart::imap {
namespace {

store::MessageMeta meta(store::Uid uid, store::ModSeq modseq, store::Flags flags = {}) {
  return {.id = uid, .mailbox = 1, .uid = uid, .modseq = modseq, .flags = std::move(flags)};
}

store::MailboxSnapshot snapshot(std::vector<store::MessageMeta> messages, store::ModSeq highest) {
  store::MailboxSnapshot out;
  out.mailbox.id = 1;
  out.mailbox.highest_modseq = highest;
  out.messages = std::move(messages);
  return out;
}

store::MailboxChanges changes(std::vector<store::MessageMeta> changed,
                              std::vector<store::Uid> removed, store::ModSeq highest) {
  store::MailboxChanges out;
  out.mailbox.highest_modseq = highest;
  out.changed = std::move(changed);
  out.removed = std::move(removed);
  return out;
}

TEST(MailboxView, MapsSequenceNumbersToUids) {
  MailboxView view(snapshot({meta(3, 1), meta(7, 2), meta(9, 3)}, 3), false);
  EXPECT_EQ(view.exists(), 3u);
  EXPECT_EQ(view.uid_at(2), 7u);
  EXPECT_EQ(view.msn_of(9), 3u);
  EXPECT_FALSE(view.msn_of(8));
  EXPECT_EQ(view.largest_uid(), 9u);
}

TEST(MailboxView, ResolvesSetsBySequenceNumberAndByUid) {
  MailboxView view(snapshot({meta(3, 1), meta(7, 2), meta(9, 3)}, 3), false);
  EXPECT_EQ(*view.resolve(*parse_sequence_set("2:*"), false, {}), (std::vector<store::Uid>{7, 9}));
  EXPECT_FALSE(view.resolve(*parse_sequence_set("4"), false, {}));
  EXPECT_EQ(*view.resolve(*parse_sequence_set("1:8"), true, {}), (std::vector<store::Uid>{3, 7}));
  // RFC 9051 §6.4.8: "n:*" with n above the largest UID still names the largest.
  EXPECT_EQ(*view.resolve(*parse_sequence_set("20:*"), true, {}), (std::vector<store::Uid>{9}));
  EXPECT_EQ(*view.resolve(*parse_sequence_set("$"), true, {7, 8}), (std::vector<store::Uid>{7}));
}

TEST(MailboxView, ReportsExpungesWithShiftingSequenceNumbersThenNewMessages) {
  MailboxView view(snapshot({meta(1, 1), meta(2, 1), meta(3, 1)}, 1), false);
  const std::string out = view.apply(changes({meta(4, 5)}, {1, 2}, 5), {.expunges_allowed = true});
  EXPECT_EQ(out, "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 2 EXISTS\r\n");
  EXPECT_EQ(view.uid_at(1), 3u);
  EXPECT_EQ(view.modseq(), 5u);
}

TEST(MailboxView, ReportsVanishedWithQresync) {
  MailboxView view(snapshot({meta(1, 1), meta(2, 1), meta(3, 1), meta(5, 1)}, 1), false);
  EXPECT_EQ(view.apply(changes({}, {1, 2, 5}, 4), {.qresync = true}), "* VANISHED 1:2,5\r\n");
}

TEST(MailboxView, HoldsExpungesBackWhileTheyMayNotBeSent) {
  MailboxView view(snapshot({meta(1, 1), meta(2, 1)}, 1), false);
  EXPECT_EQ(view.apply(changes({meta(3, 4)}, {1}, 4), {.expunges_allowed = false}),
            "* 3 EXISTS\r\n");
  EXPECT_TRUE(view.has_unreported_expunges());
  EXPECT_EQ(view.exists(), 3u);
  EXPECT_EQ(view.apply(changes({}, {}, 4), {.expunges_allowed = true}), "* 1 EXPUNGE\r\n");
  EXPECT_FALSE(view.has_unreported_expunges());
}

TEST(MailboxView, ReportsFlagChangesOnceAndNotTheSessionsOwn) {
  MailboxView view(snapshot({meta(1, 1), meta(2, 1)}, 1), false);
  view.note_reported(2, 6);
  const std::string out = view.apply(
      changes({meta(1, 5, {"\\Seen"}), meta(2, 6, {"\\Flagged"})}, {}, 6), {.condstore = true});
  EXPECT_EQ(out, "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (5))\r\n");
  EXPECT_EQ(view.apply(changes({meta(1, 5, {"\\Seen"})}, {}, 6), {}), "");
}

TEST(MailboxView, ComparesAFullSnapshotWhenTheLogIsGone) {
  MailboxView view(snapshot({meta(1, 1), meta(2, 1), meta(3, 1)}, 1), false);
  const std::string out = view.apply(snapshot({meta(1, 1), meta(3, 7, {"$x"}), meta(4, 8)}, 8), {});
  EXPECT_EQ(out,
            "* 2 EXPUNGE\r\n"
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $x)\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $x \\*)] "
            "Flags permitted\r\n"
            "* 2 FETCH (UID 3 FLAGS ($x))\r\n* 3 EXISTS\r\n");
}

TEST(MailboxView, AnnouncesEachKeywordOnceBeforeItIsShown) {
  MailboxView view(snapshot({meta(1, 1, {"$a"}), meta(2, 1)}, 1), true);
  EXPECT_EQ(view.flags_responses(),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $a)\r\n"
            "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
  EXPECT_EQ(view.announce({"$a", "\\Seen"}), "");
  EXPECT_EQ(view.announce({"$b", "NIL"}),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $a $b NIL)\r\n"
            "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
  EXPECT_EQ(view.announce({"$b"}), "");
  // A new message's keyword is announced with it, before EXISTS.
  EXPECT_EQ(view.apply(changes({meta(3, 2, {"$c"})}, {}, 2), {}),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $a $b $c NIL)\r\n"
            "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n* 3 EXISTS\r\n");
}

TEST(MailboxView, RecentMessagesForAnImap4rev1Session) {
  MailboxView view(snapshot({meta(1, 1), meta(2, 1), meta(4, 1)}, 1), false);
  view.add_recent(2, 4);
  EXPECT_FALSE(view.is_recent(1));
  EXPECT_TRUE(view.is_recent(2));
  EXPECT_EQ(view.recent(), 2u);  // UID 3 is not in the view
  EXPECT_EQ(view.flags_item(2, {"\\Seen"}, {.recent = true}), "FLAGS (\\Seen \\Recent)");
  EXPECT_EQ(view.flags_item(2, {}, {.recent = false}), "FLAGS ()");
  view.add_recent(5, 6);
  EXPECT_EQ(view.apply(changes({meta(5, 2), meta(6, 2)}, {2}, 2), {.recent = true}),
            "* 2 EXPUNGE\r\n* 4 EXISTS\r\n* 3 RECENT\r\n");
  EXPECT_EQ(view.apply(changes({meta(5, 3, {"\\Seen"})}, {}, 3), {.recent = true}),
            "* 3 FETCH (UID 5 FLAGS (\\Seen \\Recent))\r\n");
}

TEST(RecentClaims, EachUidIsClaimedOnceAndTheMapStaysBounded) {
  RecentClaims claims(2);
  EXPECT_EQ(claims.claim(1, 5), (std::pair<store::Uid, store::Uid>{1, 5}));
  EXPECT_EQ(claims.claim(1, 5).first, 6u);  // nothing left for a second session
  EXPECT_EQ(claims.claim(1, 7), (std::pair<store::Uid, store::Uid>{6, 7}));
  EXPECT_EQ(claims.claimed(1), 7u);
  claims.claim(2, 3);
  // A third mailbox forgets the others: their messages count as recent again.
  claims.claim(3, 1);
  EXPECT_EQ(claims.claimed(1), 0u);
  EXPECT_EQ(claims.claimed(3), 1u);
}

}  // namespace
}  // namespace rampart::imap
