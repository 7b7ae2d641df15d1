#include "base/number_set.h"

#include <gtest/gtest.h>

namespace rampart {
namespace {

TEST(NumberSet, CompressesSequenceSets) {
  EXPECT_EQ(format_number_set({5, 1, 2, 3, 9, 10, 2}), "1:3,5,9:10");
  EXPECT_EQ(format_number_set({}), "");
}

}  // namespace
}  // namespace rampart
