#include "pop3/maildrop_locks.h"

#include <gtest/gtest.h>

namespace rampart::pop3 {
namespace {

TEST(MaildropLocks, OneHolderPerAccountUntilItsLockGoes) {
  MaildropLocks locks;
  auto first = locks.try_lock(1);
  ASSERT_TRUE(first);
  EXPECT_FALSE(locks.try_lock(1));
  auto other = locks.try_lock(2);
  EXPECT_TRUE(other);
  {
    auto moved = std::move(*first);
    first.reset();  // a moved-from lock releases nothing
    EXPECT_FALSE(locks.try_lock(1));
  }
  EXPECT_TRUE(locks.try_lock(1));
}

}  // namespace
}  // namespace rampart::pop3
