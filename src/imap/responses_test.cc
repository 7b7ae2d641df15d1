#include <gtest/gtest.h>

#include "imap/responses_internal.h"

namespace rampart::imap {
namespace {

TEST(Responses, FormatsAndParsesDateTimes) {
  EXPECT_EQ(format_date_time(837571465), "\"17-Jul-1996 02:44:25 +0000\"");
  EXPECT_EQ(parse_date_time("17-Jul-1996 02:44:25 -0700"), 837571465 + 7 * 3600);
  EXPECT_EQ(parse_date_time(" 7-Jul-1996 02:44:25 +0000"),
            parse_date_time("07-Jul-1996 02:44:25 +0000"));
  EXPECT_EQ(parse_date_time("7-Jul-1996 02:44:25 +0000"),
            parse_date_time("07-Jul-1996 02:44:25 +0000"));
  EXPECT_FALSE(parse_date_time("17-Jux-1996 02:44:25 +0000"));
  EXPECT_FALSE(parse_date_time("17-Jul-1996 25:44:25 +0000"));
  EXPECT_FALSE(parse_date_time("17-Jul-1996"));
}

TEST(Responses, MapsStoreErrorsToResponseCodes) {
  EXPECT_EQ(no_for(Errc::NotFound, "x"), "NO [NONEXISTENT] x");
  EXPECT_EQ(no_for(Errc::Exists, "x"), "NO [ALREADYEXISTS] x");
  EXPECT_EQ(no_for(Errc::OverQuota, "x"), "NO [OVERQUOTA] x");
}

}  // namespace
}  // namespace rampart::imap
