#include <gtest/gtest.h>

#include "pop3/responses_internal.h"

namespace rampart::pop3 {
namespace {

TEST(ErrorFor, SaysWhetherTryingAgainHelps) {
  EXPECT_EQ(error_for(Errc::TryLater, "Busy"), "[SYS/TEMP] Busy");
  EXPECT_EQ(error_for(Errc::OverQuota, "Full"), "[SYS/TEMP] Full");
  EXPECT_EQ(error_for(Errc::Internal, "Broken"), "[SYS/PERM] Broken");
  EXPECT_EQ(error_for(Errc::NoPermission, "No"), "[AUTH] No");
  EXPECT_EQ(error_for(Errc::NotFound, "No such message"), "No such message");
}

}  // namespace
}  // namespace rampart::pop3
