#include "base/log.h"

#include <gtest/gtest.h>

namespace rampart::log {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  append_escaped(out, text);
  return out;
}

TEST(Log, ClientBytesCannotForgeLinesOrBreakUtf8) {
  EXPECT_EQ(escaped("login failed for a@b\r\n2026 info  forged"),
            "login failed for a@b\\x0d\\x0a2026 info  forged");
  EXPECT_EQ(escaped("x\xff\xfey"), "x\\xff\\xfey");
  EXPECT_EQ(escaped("back\\slash \x1b[31m"), "back\\x5cslash \\x1b[31m");
  EXPECT_EQ(escaped("Jörg ✓"), "Jörg ✓");
}

}  // namespace
}  // namespace rampart::log
