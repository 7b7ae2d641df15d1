#include "base/base64.h"

#include <gtest/gtest.h>

namespace rampart {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 40; ++length) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << length;
    bytes.push_back(static_cast<char>(length * 37));
  }
  EXPECT_EQ(base64_encode(std::string("\0user\0pass", 10)), "AHVzZXIAcGFzcw==");
}

TEST(Base64, RefusesAnythingNotStrict) {
  for (const char* bad :
       {"A", "AB", "ABC", "AB=C", "A===", "AB==AB==", "AB C", "AB\r\nCD", "AB*D", "====", "A=BC"}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YWI="), "ab");
}

}  // namespace
}  // namespace rampart
