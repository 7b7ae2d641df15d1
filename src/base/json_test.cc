#include "base/json.h"

#include <gtest/gtest.h>

namespace rampart {
namespace {

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(Json, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string(std::string("\r\n\0\x7f", 4)), R"("\u000d\u000a\u0000\u007f")");
}

TEST(Json, KeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(json_string("Grüße ✓"), "\"Grüße ✓\"");
  EXPECT_EQ(json_string("a\xff"
                        "b\xc3"),
            R"("a\ufffdb\ufffd")");
}

}  // namespace
}  // namespace rampart
