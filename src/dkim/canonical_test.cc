#include "dkim/canonical.h"

#include <gtest/gtest.h>

namespace rampart::dkim {
namespace {

// RFC 6376 section 3.4.5, the example of relaxed canonicalization.
TEST(Canonical, TheRfcExample) {
  const std::string message = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
  const SplitMessage split = split_message(message);
  ASSERT_EQ(split.fields.size(), 2u);
  EXPECT_EQ(relaxed_header(split.fields[0]), "a:X");
  EXPECT_EQ(relaxed_header(split.fields[1]), "b:Y Z");
  EXPECT_EQ(relaxed_body(split.body), " C\r\nD E\r\n");
}

TEST(Canonical, BodiesAndHeaders) {
  EXPECT_EQ(relaxed_body(""), "");
  EXPECT_EQ(relaxed_body("\r\n\r\n"), "");
  EXPECT_EQ(relaxed_body("no end"), "no end\r\n");
  EXPECT_EQ(relaxed_body("a\r\n\r\nb  \r\n \r\n"), "a\r\n\r\nb\r\n");
  EXPECT_EQ(relaxed_header("Subject:"), "subject:");
  EXPECT_EQ(relaxed_header("SUBJECT:   two\r\n  lines  "), "subject:two lines");
  EXPECT_EQ(field_name("Message-ID: <x@y>"), "Message-ID");
  // No empty line: every line is a field, the body empty.
  const SplitMessage headers_only = split_message("From: a\r\nTo: b\r\n");
  EXPECT_EQ(headers_only.fields.size(), 2u);
  EXPECT_TRUE(headers_only.body.empty());
}

}  // namespace
}  // namespace rampart::dkim
