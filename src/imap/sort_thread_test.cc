#include "imap/sort_thread.h"

#include <gtest/gtest.h>

#include <deque>

namespace rampart::imap {
namespace {

// Builds envelopes that live as long as the test.
class Messages {
 public:
  SortItem add(std::uint32_t number, std::string subject, std::int64_t date,
               std::string message_id = {}, std::string references = {},
               std::string in_reply_to = {}) {
    mime::Envelope& envelope = envelopes_.emplace_back();
    envelope.subject = std::move(subject);
    envelope.date_unix = date;
    envelope.message_id = message_id.empty() ? "" : "<" + message_id + ">";
    envelope.references = std::move(references);
    envelope.in_reply_to = std::move(in_reply_to);
    items_.push_back({.number = number, .internal_date = 0, .size = 0, .envelope = &envelope});
    return items_.back();
  }
  mime::Envelope& last() { return envelopes_.back(); }
  std::vector<SortItem>& items() { return items_; }

 private:
  std::deque<mime::Envelope> envelopes_;
  std::vector<SortItem> items_;
};

Token list(std::vector<std::string> atoms) {
  Token token{.kind = Token::Kind::List};
  for (auto& atom : atoms) token.children.push_back({.kind = Token::Kind::Atom, .text = atom});
  return token;
}

TEST(BaseSubject, StripsReplyAndForwardMarkersAsRfc5256Says) {
  EXPECT_EQ(base_subject("Re: hello"), "hello");
  EXPECT_EQ(base_subject("RE:  Re: re[2]: hello"), "hello");
  EXPECT_EQ(base_subject("Fwd: hello (fwd)"), "hello");
  EXPECT_EQ(base_subject("[list] Re: hello"), "hello");
  EXPECT_EQ(base_subject("[fwd: Re: hello]"), "hello");
  EXPECT_EQ(base_subject("  hello   world  "), "hello world");
  EXPECT_EQ(base_subject("[only a tag]"), "[only a tag]");
  EXPECT_EQ(base_subject("Reply to this"), "Reply to this");
  bool reply = true;
  EXPECT_EQ(base_subject("hello", &reply), "hello");
  EXPECT_FALSE(reply);
  base_subject("Fw: hello", &reply);
  EXPECT_TRUE(reply);
}

TEST(SortCriteria, ParsesKeysAndReverse) {
  auto criteria = parse_sort_criteria(list({"REVERSE", "date", "SUBJECT"}));
  ASSERT_TRUE(criteria);
  ASSERT_EQ(criteria->size(), 2u);
  EXPECT_TRUE((*criteria)[0].reverse);
  EXPECT_EQ((*criteria)[0].key, SortKey::Date);
  EXPECT_FALSE((*criteria)[1].reverse);
  EXPECT_FALSE(parse_sort_criteria(list({})));
  EXPECT_FALSE(parse_sort_criteria(list({"REVERSE"})));
  EXPECT_FALSE(parse_sort_criteria(list({"COLOUR"})));
  EXPECT_FALSE(parse_sort_criteria(Token{.kind = Token::Kind::Atom, .text = "DATE"}));
}

TEST(Sort, OrdersByEachKeyWithTiesInNumberOrder) {
  Messages messages;
  messages.add(1, "b", 300);
  messages.add(2, "Re: a", 100);
  messages.add(3, "a", 200);
  messages.add(4, "b", 100);
  auto& items = messages.items();
  items[0].size = 50;
  items[1].size = 10;
  items[2].size = 50;
  items[3].size = 20;
  EXPECT_EQ(sort_items(items, {{SortKey::Subject}}), (std::vector<std::uint32_t>{2, 3, 1, 4}));
  EXPECT_EQ(sort_items(items, {{SortKey::Date}}), (std::vector<std::uint32_t>{2, 4, 3, 1}));
  EXPECT_EQ(sort_items(items, {{SortKey::Size, true}}), (std::vector<std::uint32_t>{1, 3, 4, 2}));
  EXPECT_EQ(sort_items(items, {{SortKey::Subject}, {SortKey::Date, true}}),
            (std::vector<std::uint32_t>{3, 2, 1, 4}));
}

TEST(Sort, FromUsesTheMailboxAndDisplayFromTheName) {
  Messages messages;
  messages.add(1, "", 0);
  messages.last().from = {{.name = "Zed", .local = "alpha", .domain = "x.test"}};
  messages.add(2, "", 0);
  messages.last().from = {{.name = "", .local = "Beta", .domain = "x.test"}};
  messages.add(3, "", 0);
  EXPECT_EQ(sort_items(messages.items(), {{SortKey::From}}), (std::vector<std::uint32_t>{3, 1, 2}));
  EXPECT_EQ(sort_items(messages.items(), {{SortKey::DisplayFrom}}),
            (std::vector<std::uint32_t>{3, 2, 1}));
}

TEST(Thread, OrderedSubjectGroupsBySubjectUnderTheFirstMessage) {
  Messages messages;
  messages.add(1, "lunch", 100);
  messages.add(2, "Re: lunch", 300);
  messages.add(3, "meeting", 200);
  messages.add(4, "re: LUNCH", 250);
  messages.add(5, "other", 400);
  messages.add(6, "Re: meeting", 500);
  EXPECT_EQ(thread_items(messages.items(), ThreadAlgorithm::OrderedSubject), "(1 (4)(2))(3 6)(5)");
  EXPECT_EQ(thread_items({}, ThreadAlgorithm::OrderedSubject), "");
}

TEST(Thread, ReferencesBuildsTreesFromMessageIds) {
  Messages messages;
  messages.add(1, "root", 100, "a");
  messages.add(2, "Re: root", 200, "b", "<a>");
  messages.add(3, "Re: root", 300, "c", "<a> <b>");
  messages.add(4, "Re: root", 250, "d", "<a>");
  messages.add(5, "unrelated", 50, "e");
  EXPECT_EQ(thread_items(messages.items(), ThreadAlgorithm::References), "(5)(1 (2 3)(4))");
}

TEST(Thread, ReferencesJoinsMessagesWhoseParentIsMissing) {
  Messages messages;
  // Both reply to a message this mailbox does not have: a dummy parent groups them.
  messages.add(1, "Re: gone", 100, "x", "<missing>");
  messages.add(2, "Re: gone", 200, "y", "<missing>");
  // In-Reply-To serves when there are no References.
  messages.add(3, "Re: gone", 300, "z", "", "<x>");
  EXPECT_EQ(thread_items(messages.items(), ThreadAlgorithm::References), "((1 3)(2))");
}

TEST(Thread, ReferencesSurvivesLoopsDuplicatesAndMissingIds) {
  Messages messages;
  messages.add(1, "loop", 100, "a", "<b>");
  messages.add(2, "loop", 200, "b", "<a>");
  messages.add(3, "dup", 300, "a");  // a second "a": threaded as if it had no id
  messages.add(4, "no id", 400);
  const std::string threads = thread_items(messages.items(), ThreadAlgorithm::References);
  // Every message appears exactly once.
  for (const char* number : {"1", "2", "3", "4"}) {
    EXPECT_EQ(std::count(threads.begin(), threads.end(), number[0]), 1) << threads;
  }
}

TEST(Thread, ALastReferenceReplacesAGuessedParentUnlessItLoops) {
  // RFC 5256 step 1.B: c's parent a (guessed from 2's References) is broken before
  // b -> c is tried; that link would loop (c is b's parent), so c stays a root.
  Messages messages;
  messages.add(1, "one", 300, "a");
  messages.add(2, "two", 100, "b", "<a> <c>");
  messages.add(3, "three", 200, "c", "<b>");
  EXPECT_EQ(thread_items(messages.items(), ThreadAlgorithm::References), "(3 2)(1)");
}

TEST(Sort, CcOfAGroupSortsByTheGroupName) {
  Messages messages;
  messages.add(1, "", 0);
  messages.last().cc = {{.local = "zed", .domain = "x.test"}};
  messages.add(2, "", 0);
  messages.last().cc = {{.kind = mime::Address::Kind::GroupStart, .name_raw = "user2"},
                        {.local = "blah", .domain = "x.test"},
                        {.kind = mime::Address::Kind::GroupEnd}};
  messages.add(3, "", 0);
  messages.last().cc = {{.local = "mid", .domain = "x.test"}};
  EXPECT_EQ(sort_items(messages.items(), {{SortKey::Cc}}), (std::vector<std::uint32_t>{3, 2, 1}));
}

TEST(Sort, DisplayToOfAGroupIsTheGroupName) {
  Messages messages;
  messages.add(1, "", 0);
  messages.last().to = {{.name = "Alpha", .local = "zed", .domain = "x.test"}};
  messages.add(2, "", 0);
  messages.last().to = {{.kind = mime::Address::Kind::GroupStart, .name_raw = "user2"},
                        {.kind = mime::Address::Kind::GroupEnd}};
  messages.add(3, "", 0);
  messages.last().to = {{.local = "mid", .domain = "x.test"}};
  EXPECT_EQ(sort_items(messages.items(), {{SortKey::DisplayTo}}),
            (std::vector<std::uint32_t>{1, 3, 2}));
}

TEST(Thread, ReferencesGroupsRootsWithTheSameSubject) {
  Messages messages;
  messages.add(1, "Plans", 100, "p1");
  messages.add(2, "Re: Plans", 200, "p2");  // no references: joined by subject
  messages.add(3, "Plans", 300, "p3");      // not a reply: a dummy holds both
  EXPECT_EQ(thread_items(messages.items(), ThreadAlgorithm::References), "((1 2)(3))");
}

}  // namespace
}  // namespace rampart::imap
