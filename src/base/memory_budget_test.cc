#include "base/memory_budget.h"

#include <gtest/gtest.h>

namespace rampart {
namespace {

TEST(MemoryBudget, LeasesTakeWhatPassesTheirFreeBytesUpToTheLimit) {
  MemoryBudget budget(100);
  MemoryBudget::Lease first(&budget, 10), second(&budget, 10);
  EXPECT_TRUE(first.cover(10));  // free
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(first.cover(80));
  EXPECT_EQ(budget.used(), 70u);
  EXPECT_TRUE(second.cover(40));
  EXPECT_EQ(budget.used(), 100u);
  EXPECT_FALSE(second.cover(41));  // one byte too many: refused, nothing taken
  EXPECT_EQ(budget.used(), 100u);
  EXPECT_TRUE(second.cover(10));  // within what it holds
  first.release();
  EXPECT_EQ(budget.used(), 30u);
  EXPECT_TRUE(second.cover(41));
  {
    MemoryBudget::Lease third(&budget);
    EXPECT_TRUE(third.cover(69));
    EXPECT_FALSE(third.cover(70));
  }  // gives back when it ends
  EXPECT_EQ(budget.used(), 31u);
}

TEST(MemoryBudget, NoBudgetMeansNoBound) {
  MemoryBudget::Lease lease(nullptr);
  EXPECT_TRUE(lease.cover(std::size_t{1} << 40));
}

}  // namespace
}  // namespace rampart
