#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "jmap/email_filter_internal.h"

namespace rampart::jmap {
namespace {

constexpr std::string_view kMessage =
    "From: Ann Sender <ann@example.test>\r\n"
    "To: Bo Reader <bo@example.test>\r\n"
    "Subject: Quarterly report\r\n"
    "X-Project: =?UTF-8?Q?Fj=C3=B6rd?= launch\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "The numbers are in the spreadsheet.\r\n"
    "--b\r\n"
    "Content-Type: application/pdf; name=report.pdf\r\n"
    "Content-Disposition: attachment\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0=\r\n"
    "--b--\r\n";

constexpr std::string_view kPlain =
    "From: carl@example.test\r\n"
    "To: bo@example.test\r\n"
    "Subject: Lunch\r\n"
    "\r\n"
    "Noon?\r\n";

// Filters run against one message in mailbox M5, received at 1795442961
// (2026-11-23T14:09:21Z), 2000 bytes, with \Seen and $label, alone in its thread.
class EmailFilter : public ::testing::Test {
 protected:
  EmailFilter() {
    meta_.id = 7;
    meta_.mailbox = 5;
    meta_.thread = 7;
    meta_.internal_date = 1795442961;
    meta_.size = 2000;
    meta_.flags = {"$label", "\\Seen"};
    threads_[meta_.thread] = {&meta_};
  }

  Checked<bool> run(std::string_view filter, std::string_view raw = kMessage) {
    EmailView email(meta_, std::string(raw));
    FilterScope scope{context_, threads_};
    auto result = matches_filter(boost::json::parse(filter).as_object(), email, scope);
    thread_dependent_ = scope.thread_dependent;
    return result;
  }

  // Whether the message matches; a failure of the test if the filter is refused.
  bool matches(std::string_view filter, std::string_view raw = kMessage) {
    auto result = run(filter, raw);
    if (!result) {
      ADD_FAILURE() << filter << ": " << result.error().type << " " << result.error().description;
      return false;
    }
    return *result;
  }

  store::MessageMeta meta_;
  Context context_;
  ThreadIndex threads_;
  bool thread_dependent_ = false;
};

TEST_F(EmailFilter, InMailboxAndOtherThan) {
  EXPECT_TRUE(matches(R"({"inMailbox":"M5"})"));
  EXPECT_FALSE(matches(R"({"inMailbox":"M6"})"));
  EXPECT_FALSE(matches(R"({"inMailbox":"T5"})"));  // an id of another type
  context_.created_ids["new"] = "M5";
  EXPECT_TRUE(matches(R"({"inMailbox":"#new"})"));
  EXPECT_TRUE(matches(R"({"inMailboxOtherThan":["M1","M2"]})"));
  EXPECT_FALSE(matches(R"({"inMailboxOtherThan":["M1","M5"]})"));
}

TEST_F(EmailFilter, BeforeIsExclusiveAfterInclusive) {
  EXPECT_TRUE(matches(R"({"before":"2026-11-23T14:09:22Z"})"));
  EXPECT_FALSE(matches(R"({"before":"2026-11-23T14:09:21Z"})"));
  EXPECT_TRUE(matches(R"({"after":"2026-11-23T14:09:21Z"})"));
  EXPECT_FALSE(matches(R"({"after":"2026-11-23T14:09:22Z"})"));
}

TEST_F(EmailFilter, MinSizeIsInclusiveMaxSizeExclusive) {
  EXPECT_TRUE(matches(R"({"minSize":2000})"));
  EXPECT_FALSE(matches(R"({"minSize":2001})"));
  EXPECT_TRUE(matches(R"({"maxSize":2001})"));
  EXPECT_FALSE(matches(R"({"maxSize":2000})"));
}

TEST_F(EmailFilter, HasAndNotKeyword) {
  EXPECT_TRUE(matches(R"({"hasKeyword":"$seen"})"));
  EXPECT_TRUE(matches(R"({"hasKeyword":"$Label"})"));
  EXPECT_FALSE(matches(R"({"hasKeyword":"$flagged"})"));
  EXPECT_TRUE(matches(R"({"notKeyword":"$flagged"})"));
  EXPECT_FALSE(matches(R"({"notKeyword":"$seen"})"));
}

TEST_F(EmailFilter, HasAttachment) {
  EXPECT_TRUE(matches(R"({"hasAttachment":true})"));
  EXPECT_FALSE(matches(R"({"hasAttachment":false})"));
  EXPECT_TRUE(matches(R"({"hasAttachment":false})", kPlain));
}

TEST_F(EmailFilter, FromToSubjectAndBody) {
  EXPECT_TRUE(matches(R"({"from":"ann@example"})"));
  EXPECT_TRUE(matches(R"({"from":"SENDER"})"));  // the display name, ASCII case folded
  EXPECT_FALSE(matches(R"({"from":"bo@"})"));
  EXPECT_TRUE(matches(R"({"to":"bo reader"})"));
  EXPECT_FALSE(matches(R"({"to":"ann"})"));
  EXPECT_TRUE(matches(R"({"subject":"quarterly"})"));
  EXPECT_FALSE(matches(R"({"subject":"spreadsheet"})"));
  EXPECT_TRUE(matches(R"({"body":"spreadsheet"})"));
  EXPECT_FALSE(matches(R"({"body":"quarterly"})"));
}

TEST_F(EmailFilter, TextLooksAtAddressesSubjectAndBody) {
  EXPECT_TRUE(matches(R"({"text":"ann@"})"));
  EXPECT_TRUE(matches(R"({"text":"bo@"})"));
  EXPECT_TRUE(matches(R"({"text":"report"})"));
  EXPECT_TRUE(matches(R"({"text":"numbers"})"));
  EXPECT_FALSE(matches(R"({"text":"lunch"})"));
}

TEST_F(EmailFilter, HeaderByNameAndDecodedValue) {
  EXPECT_TRUE(matches(R"({"header":["X-Project"]})"));
  EXPECT_TRUE(matches(R"({"header":["x-project","fjörd"]})"));
  EXPECT_FALSE(matches(R"({"header":["X-Project","other"]})"));
  EXPECT_FALSE(matches(R"({"header":["X-Missing"]})"));
}

TEST_F(EmailFilter, AndOrNot) {
  EXPECT_TRUE(
      matches(R"({"operator":"AND","conditions":[{"hasKeyword":"$seen"},{"subject":"report"}]})"));
  EXPECT_FALSE(
      matches(R"({"operator":"AND","conditions":[{"hasKeyword":"$seen"},{"subject":"lunch"}]})"));
  EXPECT_TRUE(
      matches(R"({"operator":"OR","conditions":[{"subject":"lunch"},{"subject":"report"}]})"));
  EXPECT_FALSE(matches(R"({"operator":"OR","conditions":[{"subject":"lunch"},{"from":"carl"}]})"));
  EXPECT_TRUE(matches(R"({"operator":"NOT","conditions":[{"subject":"lunch"}]})"));
  EXPECT_FALSE(
      matches(R"({"operator":"NOT","conditions":[{"subject":"lunch"},{"subject":"report"}]})"));
  // Several conditions in one FilterCondition must all hold.
  EXPECT_FALSE(matches(R"({"subject":"report","from":"carl"})"));
}

TEST_F(EmailFilter, ThreadKeywordsMakeTheQueryThreadDependent) {
  EXPECT_TRUE(matches(R"({"allInThreadHaveKeyword":"$seen"})"));
  EXPECT_TRUE(thread_dependent_);
  EXPECT_FALSE(matches(R"({"noneInThreadHaveKeyword":"$seen"})"));
  EXPECT_TRUE(matches(R"({"subject":"report"})"));
  EXPECT_FALSE(thread_dependent_);
}

TEST_F(EmailFilter, MalformedFiltersAreInvalidArguments) {
  for (std::string_view filter :
       {R"({"inMailbox":5})", R"({"before":"yesterday"})", R"({"minSize":"big"})",
        R"({"hasKeyword":"a b"})", R"({"hasAttachment":"yes"})", R"({"subject":1})",
        R"({"header":[]})", R"({"operator":"XOR","conditions":[]})",
        R"({"operator":"AND","conditions":[1]})"}) {
    auto result = run(filter);
    ASSERT_FALSE(result) << filter;
    EXPECT_EQ(result.error().type, "invalidArguments") << filter;
  }
}

TEST_F(EmailFilter, AnUnknownConditionIsAnUnsupportedFilter) {
  auto result = run(R"({"color":"red"})");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().type, "unsupportedFilter");
}

}  // namespace
}  // namespace rampart::jmap
