#include "dkim/arc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace rampart::dkim {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

class Arc : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("arc-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    KeyStore store(directory_);
    first_ = *store.make("forwarder.test", true);
    second_ = *store.make("list.test", true);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  // The TXT records of every key made, as DNS would answer.
  std::map<ArcKey, std::vector<std::string>> records() const {
    std::map<ArcKey, std::vector<std::string>> out;
    for (const Key& key : first_) out[{"forwarder.test", key.selector}] = {key.record()};
    for (const Key& key : second_) out[{"list.test", key.selector}] = {key.record()};
    return out;
  }

  std::filesystem::path directory_;
  std::vector<Key> first_, second_;
};

const std::string kMessage =
    "From: Ann <ann@origin.test>\r\nTo: team@forwarder.test\r\nSubject: plans\r\n"
    "Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@origin.test>\r\n\r\n"
    "The plans for next week.\r\n";

TEST_F(Arc, AMessageWithoutAChainIsNone) {
  EXPECT_TRUE(arc_keys(kMessage).empty());
  const ArcVerdict verdict = verify_arc(kMessage, {}, kNow);
  EXPECT_EQ(verdict.result, ArcVerdict::Result::None);
  EXPECT_EQ(arc_result_name(verdict.result), "none");
}

TEST_F(Arc, SealsAndVerifiesOneAndTwoHops) {
  const std::string once = seal_arc(kMessage, "forwarder.test", first_[0],
                                    "forwarder.test; spf=pass smtp.mailfrom=origin.test",
                                    ArcVerdict::Result::None, kNow) +
                           kMessage;
  ASSERT_TRUE(once.starts_with("ARC-Seal: i=1; a=rsa-sha256; t=1800000000; cv=none;")) << once;
  EXPECT_NE(once.find("ARC-Authentication-Results: i=1; forwarder.test; spf=pass"),
            std::string::npos);
  EXPECT_EQ(arc_keys(once), (std::vector<ArcKey>{{"forwarder.test", first_[0].selector}}));
  ArcVerdict verdict = verify_arc(once, records(), kNow);
  EXPECT_EQ(verdict.result, ArcVerdict::Result::Pass) << verdict.reason;
  EXPECT_EQ(verdict.instances, 1u);
  EXPECT_EQ(verdict.sealer, "forwarder.test");
  EXPECT_EQ(verdict.newest_results, " forwarder.test; spf=pass smtp.mailfrom=origin.test");

  // The second hop (Ed25519 this time) adds i=2 with cv=pass.
  const std::string twice =
      seal_arc(once, "list.test", second_[1], "list.test; arc=pass", verdict.result, kNow) + once;
  ASSERT_TRUE(twice.starts_with("ARC-Seal: i=2; a=ed25519-sha256;")) << twice;
  verdict = verify_arc(twice, records(), kNow);
  EXPECT_EQ(verdict.result, ArcVerdict::Result::Pass) << verdict.reason;
  EXPECT_EQ(verdict.instances, 2u);
  EXPECT_EQ(arc_keys(twice).size(), 2u);  // AMS 2 and AS 2 share a key; AS 1 has its own

  // A chain that failed, or was not checked, is not sealed again.
  EXPECT_EQ(seal_arc(once, "list.test", second_[0], "list.test; arc=fail", ArcVerdict::Result::Fail,
                     kNow),
            "");
  EXPECT_EQ(seal_arc(once, "list.test", second_[0], "list.test", ArcVerdict::Result::None, kNow),
            "");
}

TEST_F(Arc, FailsWhatWasChangedOrBroken) {
  const std::string once = seal_arc(kMessage, "forwarder.test", first_[0], "forwarder.test; none",
                                    ArcVerdict::Result::None, kNow) +
                           kMessage;
  auto verdict_of = [&](const std::string& message) {
    return verify_arc(message, records(), kNow);
  };

  std::string body = once;
  body.replace(body.find("next week"), 9, "this week");
  EXPECT_EQ(verdict_of(body).result, ArcVerdict::Result::Fail);
  EXPECT_NE(verdict_of(body).reason.find("ARC-Message-Signature i=1: body hash"),
            std::string::npos);

  std::string subject = once;
  subject.replace(subject.find("Subject: plans"), 14, "Subject: Plans");
  EXPECT_EQ(verdict_of(subject).result, ArcVerdict::Result::Fail);

  // The results the sealer recorded are under its seal.
  std::string results = once;
  results.replace(results.find("forwarder.test; none"), 20, "forwarder.test; pass");
  EXPECT_EQ(verdict_of(results).result, ArcVerdict::Result::Fail);
  EXPECT_NE(verdict_of(results).reason.find("ARC-Seal i=1"), std::string::npos);

  // A set without its results; no key published; a seal whose cv= lies.
  std::string missing = once;
  const auto aar = missing.find("ARC-Authentication-Results");
  missing.erase(aar, missing.find("\r\n", aar) + 2 - aar);
  EXPECT_EQ(verdict_of(missing).reason, "no ARC-Authentication-Results with i=1");
  EXPECT_EQ(verify_arc(once, {}, kNow).reason, "ARC-Message-Signature i=1: no key");
  std::string lying = once;
  lying.replace(lying.find("cv=none"), 7, "cv=pass");
  EXPECT_EQ(verdict_of(lying).reason, "ARC-Seal i=1 has cv=pass");
  std::string failed = once;
  failed.replace(failed.find("cv=none"), 7, "cv=fail");
  EXPECT_EQ(verdict_of(failed).reason, "the chain failed before (cv=fail at i=1)");
  EXPECT_TRUE(arc_keys(missing).empty());
}

TEST_F(Arc, RefusesMalformedAndOutOfRangeInstances) {
  for (const char* field :
       {"ARC-Authentication-Results: i=0; x.test; none\r\n",
        "ARC-Authentication-Results: i=51; x.test; none\r\n",
        "ARC-Authentication-Results: x.test; none\r\n",
        "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.test; s=s; h=from; b=AAAA\r\n",
        "ARC-Message-Signature: i=one; a=rsa-sha256; d=x.test; s=s; h=from; bh=AAAA; b=AAAA\r\n"}) {
    const ArcVerdict verdict = verify_arc(field + kMessage, records(), kNow);
    EXPECT_EQ(verdict.result, ArcVerdict::Result::Fail) << field;
  }
}

}  // namespace
}  // namespace rampart::dkim
