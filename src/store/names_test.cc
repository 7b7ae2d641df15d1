#include <gtest/gtest.h>

#include "store/names_internal.h"

namespace rampart::store {
namespace {

TEST(MailboxName, AcceptsNestedUtf8Names) {
  EXPECT_EQ(*normalize_mailbox_name("Archive/2026"), "Archive/2026");
  EXPECT_EQ(*normalize_mailbox_name("Entwürfe/Ärger"), "Entwürfe/Ärger");
}

TEST(MailboxName, SpellsInboxInUpperCaseWhateverTheInput) {
  EXPECT_EQ(*normalize_mailbox_name("inbox"), "INBOX");
  EXPECT_EQ(*normalize_mailbox_name("Inbox/Sub"), "INBOX/Sub");
  EXPECT_EQ(*normalize_mailbox_name("Inboxes"), "Inboxes");
}

TEST(MailboxName, RejectsEmptyLevelsControlCharactersAndOverlongNames) {
  for (std::string_view bad :
       {"", "/", "/a", "a/", "a//b", "a\tb", "a\x7f", "\xff\xfe", "\xc0\xaf" /* overlong '/' */,
        "\xed\xa0\x80" /* surrogate */, ".", "..", "../etc", "a/../b", "a/."}) {
    auto result = normalize_mailbox_name(bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error().code, Errc::BadInput);
  }
  EXPECT_FALSE(normalize_mailbox_name(std::string_view("a\0b", 3)).has_value());
  EXPECT_TRUE(normalize_mailbox_name("a.b/..c/.d").has_value());
  EXPECT_TRUE(normalize_mailbox_name(std::string(kMaxMailboxNameBytes, 'a')).has_value());
  EXPECT_FALSE(normalize_mailbox_name(std::string(kMaxMailboxNameBytes + 1, 'a')).has_value());
}

TEST(MailboxName, ListsParentsOutermostFirst) {
  EXPECT_EQ(mailbox_parents("a/b/c"), (std::vector<std::string>{"a", "a/b"}));
  EXPECT_TRUE(mailbox_parents("a").empty());
}

TEST(Flags, AreSortedDeduplicatedAndCanonical) {
  EXPECT_EQ(*normalize_flags({"\\seen", "$Label", "\\SEEN", "\\Flagged"}),
            (Flags{"$Label", "\\Flagged", "\\Seen"}));
  EXPECT_FALSE(normalize_flags({"\\Recent"}).has_value());
  EXPECT_FALSE(normalize_flags({"two words"}).has_value());
  EXPECT_FALSE(normalize_flags({""}).has_value());
  EXPECT_EQ(split_flags(join_flags({"$a", "\\Seen"})), (Flags{"$a", "\\Seen"}));
  EXPECT_TRUE(split_flags("").empty());
}

}  // namespace
}  // namespace rampart::store
