#include "delivery/vacation.h"

#include <gtest/gtest.h>

#include "mime/message.h"

namespace rampart::delivery {
namespace {

TEST(Vacation, KeepsItsSettingsAsJson) {
  const Vacation vacation{.enabled = true,
                          .from = 1000,
                          .to = std::nullopt,
                          .subject = "Away",
                          .text_body = "Back soon",
                          .html_body = std::nullopt};
  EXPECT_EQ(vacation_from_json(vacation_to_json(vacation)), vacation);
  EXPECT_EQ(vacation_from_json("not json"), Vacation{});
  EXPECT_TRUE(vacation_active(vacation, 1000));
  EXPECT_FALSE(vacation_active(vacation, 999));
  EXPECT_FALSE(vacation_active(
      {.enabled = true, .from = {}, .to = 50, .subject = {}, .text_body = {}, .html_body = {}},
      50));
}

TEST(Vacation, AnswersPeopleNotListsOrMachines) {
  const std::string plain = "From: a@x.test\r\nSubject: hi\r\n\r\n";
  EXPECT_TRUE(may_auto_reply("a@x.test", plain));
  EXPECT_TRUE(may_auto_reply("a@x.test", "Auto-Submitted: no\r\n\r\n"));
  EXPECT_FALSE(may_auto_reply("", plain));
  EXPECT_FALSE(may_auto_reply("MAILER-DAEMON@x.test", plain));
  EXPECT_FALSE(may_auto_reply("owner-list@x.test", plain));
  EXPECT_FALSE(may_auto_reply("list-request@x.test", plain));
  EXPECT_FALSE(may_auto_reply("noreply@x.test", plain));
  EXPECT_FALSE(may_auto_reply("a@x.test", "Auto-Submitted: auto-replied\r\n\r\n"));
  EXPECT_FALSE(may_auto_reply("a@x.test", "Precedence: bulk\r\n\r\n"));
  EXPECT_FALSE(may_auto_reply("a@x.test", "List-Id: <l.x.test>\r\n\r\n"));
}

TEST(Vacation, TheReplyThreadsAndSaysItIsAutomatic) {
  const std::string original =
      "Subject: Lunch?\r\nMessage-ID: <m1@x.test>\r\nReferences: <m0@x.test>\r\n\r\n";
  const Vacation vacation{.enabled = true,
                          .from = {},
                          .to = {},
                          .subject = {},
                          .text_body = "Parti — back soon",
                          .html_body = "<p>Parti</p>"};
  const std::string reply =
      auto_reply_message(reply_of(vacation), "me@y.test", "a@x.test", original, 0);
  const mime::Message parsed = mime::parse(reply);
  EXPECT_EQ(parsed.envelope.subject, "Auto: Lunch?");
  EXPECT_EQ(parsed.envelope.in_reply_to, "<m1@x.test>");
  EXPECT_NE(parsed.envelope.references.find("<m0@x.test>"), std::string::npos);
  EXPECT_NE(reply.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_EQ(parsed.root.type + "/" + parsed.root.subtype, "multipart/alternative");
  ASSERT_EQ(parsed.root.children.size(), 2u);
  EXPECT_EQ(parsed.root.children[0].transfer_encoding, "quoted-printable");
}

TEST(Vacation, NothingInTheSettingOrTheOriginalStartsAHeaderField) {
  const Vacation vacation{.enabled = true,
                          .from = {},
                          .to = {},
                          .subject = "Away\r\nBcc: victim@x.test",
                          .text_body = "x",
                          .html_body = {}};
  const std::string reply = auto_reply_message(reply_of(vacation), "me@y.test", "a@x.test", "", 0);
  EXPECT_EQ(reply.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(reply.find("Subject: Away  Bcc: victim@x.test\r\n"), std::string::npos);
  // An encoded subject that decodes to a line break, and a Message-ID with one.
  const std::string original =
      "Subject: =?UTF-8?B?aGkNCkJjYzogdmljdGltQHgudGVzdA==?=\r\n"  // "hi\r\nBcc: victim@x.test"
      "Message-ID: <a@b>\r\n\r\n";
  const Vacation automatic{
      .enabled = true, .from = {}, .to = {}, .subject = {}, .text_body = "x", .html_body = {}};
  const std::string answer =
      auto_reply_message(reply_of(automatic), "me@y.test", "a@x.test", original, 0);
  EXPECT_EQ(answer.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(answer.find("In-Reply-To: <a@b>\r\n"), std::string::npos);
}

}  // namespace
}  // namespace rampart::delivery
