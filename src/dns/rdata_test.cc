#include "dns/rdata.h"

#include <gtest/gtest.h>

namespace rampart::dns {
namespace {

using namespace std::string_literals;

TEST(Rdata, Names) {
  std::size_t used = 0;
  EXPECT_EQ(parse_name("\x02mx\x06Remote\x04test\x00"s, used), "mx.remote.test");
  EXPECT_EQ(used, 16u);
  EXPECT_EQ(parse_name("\x00"s, used), "");
  EXPECT_FALSE(parse_name("\x05mx", used));     // a label past the end
  EXPECT_FALSE(parse_name("\xc0\x0c"s, used));  // a compression pointer
  EXPECT_FALSE(parse_name("\x02mx"s, used));    // no root label
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += "\x3f" + std::string(63, 'a');
  EXPECT_FALSE(parse_name(long_name + "\x00"s, used));  // over 255 bytes
}

TEST(Rdata, Records) {
  auto mx = parse_mx("\x00\x0a\x02mx\x04test\x00"s);
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->preference, 10);
  EXPECT_EQ(mx->host, "mx.test");
  auto null_mx = parse_mx("\x00\x00\x00"s);
  ASSERT_TRUE(null_mx);
  EXPECT_EQ(null_mx->host, "");
  EXPECT_FALSE(parse_mx("\x00\x0a\x02mx\x04test\x00junk"s));
  EXPECT_EQ(parse_ptr("\x04Mail\x07"
                      "example\x03"
                      "com\x00"s),
            "mail.example.com");
  EXPECT_FALSE(parse_ptr("\x04mail\x00junk"s));  // bytes after the name
  EXPECT_FALSE(parse_ptr("\xc0\x0c"s));          // a compression pointer
  EXPECT_FALSE(parse_ptr(""));
  EXPECT_EQ(parse_a("\x7f\x00\x00\x02"s), "127.0.0.2");
  EXPECT_FALSE(parse_a("\x7f\x00\x00"s));
  EXPECT_EQ(parse_aaaa(std::string(15, '\0') + "\x01"), "::1");
  auto tlsa = parse_tlsa("\x03\x01\x01\xab\xcd"s);
  ASSERT_TRUE(tlsa);
  EXPECT_EQ(tlsa->usage, 3);
  EXPECT_EQ(tlsa->data, "\xab\xcd"s);
  EXPECT_EQ(parse_txt("\x05v=spf\x03"
                      "1 a"s),
            "v=spf1 a");
  EXPECT_FALSE(parse_txt("\x05v=s"s));
}

}  // namespace
}  // namespace rampart::dns
