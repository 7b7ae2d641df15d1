#include "auth/sasl.h"

#include <gtest/gtest.h>

#include "base/base64.h"

namespace rampart::auth {
namespace {

using namespace std::string_literals;

Result<Credentials> plain(const std::string& message) {
  return decode_plain(base64_encode(message));
}

TEST(SaslPlain, GivesTheUserAndPasswordWithOrWithoutAnAuthzid) {
  auto bare = plain("\0ann@x.test\0secret"s);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->user, "ann@x.test");
  EXPECT_EQ(bare->password, "secret");
  auto same = plain("ann@x.test\0ann@x.test\0secret"s);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->user, "ann@x.test");
}

TEST(SaslPlain, RefusesAnAuthzidNamingAnotherUser) {
  auto other = plain("bob@x.test\0ann@x.test\0secret"s);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::NoPermission);
}

TEST(SaslPlain, RefusesWhatIsNotBase64OrLacksTheFields) {
  for (const std::string& response :
       {"="s, ""s, "not base64!"s, "YW5u"s /* "ann" */, base64_encode("ann\0secret"s)}) {
    auto decoded = decode_plain(response);
    ASSERT_FALSE(decoded) << response;
    EXPECT_EQ(decoded.error().code, Errc::BadInput) << response;
  }
}

TEST(SaslPlain, KeepsThePasswordAsSentNulsAndAll) {
  auto decoded = plain("\0ann\0pass\0word"s);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->password, "pass\0word"s);
  auto empty = plain("\0\0"s);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->user, "");
  EXPECT_EQ(empty->password, "");
}

TEST(SaslPlain, RefusesAResponseOverTheLimit) {
  const std::string response = base64_encode("\0ann\0"s + std::string(100, 'p'));
  auto decoded = decode_plain(response, {.max_response = 64});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::TooBig);
  EXPECT_TRUE(decode_plain(response, {.max_response = response.size()}));
}

TEST(SaslLogin, DecodesBothSteps) {
  auto decoded = decode_login(base64_encode("ann@x.test"), base64_encode("secret"));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->user, "ann@x.test");
  EXPECT_EQ(decoded->password, "secret");
  EXPECT_EQ(std::string(kLoginUserChallenge), base64_encode("Username:"));
  EXPECT_EQ(std::string(kLoginPasswordChallenge), base64_encode("Password:"));
}

TEST(SaslLogin, RefusesEitherStepNotInBase64) {
  EXPECT_EQ(decode_login("=", base64_encode("secret")).error().code, Errc::BadInput);
  EXPECT_EQ(decode_login(base64_encode("ann"), "secret").error().code, Errc::BadInput);
  auto empty = decode_login("", "");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->user, "");
}

TEST(SaslMechanism, KnowsPlainAndLoginInAnyCase) {
  EXPECT_EQ(parse_mechanism("plain"), Mechanism::Plain);
  EXPECT_EQ(parse_mechanism("LOGIN"), Mechanism::Login);
  EXPECT_EQ(parse_mechanism("CRAM-MD5"), std::nullopt);
  EXPECT_EQ(parse_mechanism(""), std::nullopt);
}

}  // namespace
}  // namespace rampart::auth
