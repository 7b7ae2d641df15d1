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

// The same example, "simple": header fields as they are, only the empty lines at the end
// of the body removed.
TEST(Canonical, TheRfcExampleSimple) {
  const std::string message = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
  const SplitMessage split = split_message(message);
  ASSERT_EQ(split.fields.size(), 2u);
  EXPECT_EQ(simple_header(split.fields[0]), "A: X");
  EXPECT_EQ(simple_header(split.fields[1]), "B : Y\t\r\n\tZ  ");
  EXPECT_EQ(simple_body(split.body), " C \r\nD \t E\r\n");
}

TEST(Canonical, SimpleBodyEndsInOneCrlf) {
  EXPECT_EQ(simple_body(""), "\r\n");  // section 3.4.3: an empty body is one CRLF
  EXPECT_EQ(simple_body("\r\n\r\n"), "\r\n");
  EXPECT_EQ(simple_body("no end"), "no end\r\n");
  EXPECT_EQ(simple_body("a  \r\n\r\nb\r\n"), "a  \r\n\r\nb\r\n");
  EXPECT_EQ(simple_body("a\r\n \r\n"), "a\r\n \r\n");  // a space is no empty line
}

TEST(Canonical, SplitStopsAtTheFieldLimit) {
  const std::string message = "A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody";
  const SplitMessage two = split_message(message, 2);
  EXPECT_TRUE(two.over_limit);
  EXPECT_EQ(two.fields.size(), 2u);
  EXPECT_TRUE(two.body.empty());
  const SplitMessage three = split_message(message, 3);  // exactly the limit is fine
  EXPECT_FALSE(three.over_limit);
  EXPECT_EQ(three.body, "body");
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
