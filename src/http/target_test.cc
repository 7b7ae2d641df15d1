#include "http/target.h"

#include <gtest/gtest.h>

namespace rampart::http {
namespace {

TEST(Target, DecodesOnce) {
  auto target = parse_target("/download/a%20b/%C3%A9t%C3%A9?accept=text%2Fplain&x=1");
  ASSERT_TRUE(target) << target.error().detail;
  EXPECT_EQ(target->segments, (std::vector<std::string>{"download", "a b", "été"}));
  EXPECT_EQ(target->path, "/download/a b/été");
  EXPECT_EQ(*query_value(target->query, "accept"), "text/plain");
  EXPECT_EQ(*query_value(target->query, "x"), "1");
  EXPECT_EQ(query_value(target->query, "y").error().code, Errc::NotFound);
  EXPECT_EQ(parse_target("/")->path, "/");
  EXPECT_TRUE(parse_target("/")->segments.empty());
  EXPECT_EQ(parse_target("/jmap/")->path, "/jmap");
}

TEST(Target, RefusesEverythingAmbiguous) {
  for (const char* bad : {"",
                          "*",
                          "jmap",
                          "http://host/jmap",
                          "//jmap",
                          "/jmap//api",
                          "/jmap///",
                          "//",
                          "/a/../b",
                          "/a/./b",
                          "/a/%2e%2e/b",
                          "/a/%2E/b",
                          "/..",
                          "/a%2fb",
                          "/a%2Fb",
                          "/a%5cb",
                          "/a\\b",
                          "/a%00b",
                          "/a%0d%0ab",
                          "/a;jsessionid=1",
                          "/a%3bb/../c",
                          "/a%252fb",
                          "/a%25",
                          "/a%",
                          "/a%4",
                          "/a%zz",
                          "/a%ff",
                          "/a%c3%28",
                          "/a b",
                          "/a#frag",
                          "/a\x01",
                          "/caf\xc3\xa9",
                          "/a?b=1#x"}) {
    auto target = parse_target(bad);
    EXPECT_FALSE(target) << bad << " -> " << (target ? target->path : "");
  }
  EXPECT_FALSE(query_value("a=1&a=2", "a"));
  EXPECT_FALSE(query_value("a=%00", "a"));
  EXPECT_FALSE(query_value("a=%2541", "a"));
}

TEST(Credentials, BasicAndBearer) {
  auto basic = parse_credentials("Basic a2F0ZTpwdzpwdw==");  // kate:pw:pw
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->user, "kate");
  EXPECT_EQ(basic->secret, "pw:pw");
  EXPECT_FALSE(basic->bearer);
  auto bearer = parse_credentials("bearer  abcd-efgh ");
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->secret, "abcd-efgh");
  EXPECT_TRUE(bearer->bearer);
  EXPECT_FALSE(parse_credentials("Bearer "));
  EXPECT_FALSE(parse_credentials("Basic %%%"));
  EXPECT_FALSE(parse_credentials("Basic a2F0ZQ=="));  // no colon
  EXPECT_FALSE(parse_credentials("Digest x"));
}

}  // namespace
}  // namespace rampart::http
