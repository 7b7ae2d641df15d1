#include "pop3/maildrop.h"

#include <gtest/gtest.h>

namespace rampart::pop3 {
namespace {

Maildrop three() {
  return Maildrop(7, 0x65A1B2C3,
                  {{.size = 100, .uid = 2}, {.size = 20, .uid = 5}, {.size = 3, .uid = 9}});
}

TEST(UniqueId, IsTheUidThenTheUidValidityInUppercaseHex) {
  EXPECT_EQ(unique_id(1, 0x65a1b2c3), "0000000165A1B2C3");
  EXPECT_EQ(unique_id(0xFFFFFFFF, 1), "FFFFFFFF00000001");
  EXPECT_EQ(three().unique_id(*three().find(2)), "0000000565A1B2C3");
}

TEST(Maildrop, NumbersMessagesFromOneAndCountsTheirOctets) {
  const Maildrop maildrop = three();
  EXPECT_EQ(maildrop.mailbox(), 7);
  EXPECT_EQ(maildrop.count(), 3u);
  EXPECT_EQ(maildrop.octets(), 123u);
  EXPECT_EQ(maildrop.highest_number(), 3u);
  EXPECT_EQ(maildrop.find(0), nullptr);
  EXPECT_EQ(maildrop.find(1)->uid, 2u);
  EXPECT_EQ(maildrop.find(3)->uid, 9u);
  EXPECT_EQ(maildrop.find(4), nullptr);
}

TEST(Maildrop, DeleMarksAndRsetUnmarks) {
  Maildrop maildrop = three();
  EXPECT_TRUE(maildrop.mark_deleted(1));
  EXPECT_FALSE(maildrop.mark_deleted(1));  // already marked
  EXPECT_FALSE(maildrop.mark_deleted(4));
  EXPECT_TRUE(maildrop.mark_deleted(3));
  EXPECT_EQ(maildrop.find(1), nullptr);
  EXPECT_EQ(maildrop.count(), 1u);
  EXPECT_EQ(maildrop.octets(), 20u);
  EXPECT_EQ(maildrop.highest_number(), 3u);  // numbers never shift
  EXPECT_EQ(maildrop.deleted_uids(), (std::vector<store::Uid>{2, 9}));
  maildrop.unmark_all();
  EXPECT_EQ(maildrop.count(), 3u);
  EXPECT_EQ(maildrop.octets(), 123u);
  EXPECT_TRUE(maildrop.deleted_uids().empty());
}

TEST(Maildrop, TakesSixteenBytesPerMessage) { EXPECT_EQ(sizeof(Maildrop::Message), 16u); }

}  // namespace
}  // namespace rampart::pop3
