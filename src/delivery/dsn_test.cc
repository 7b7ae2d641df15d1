#include "delivery/dsn.h"

#include <gtest/gtest.h>

#include "mime/message.h"

namespace rampart::delivery {
namespace {

const std::string kOriginal =
    "From: alice@example.test\r\nTo: bob@remote.example\r\nSubject: the report\r\n\r\n"
    "The body.\r\n";

Dsn failed() {
  return {.reporting_mta = "mail.example.test",
          .to = "alice@example.test",
          .envid = "QQ314159",
          .arrival = 1700000000,
          .now = 1700003600,
          .retry_until = 0,
          .headers_only = false,
          .recipients = {
              {.address = "bob@remote.example",
               .orcpt = "rfc822;bob@remote.example",
               .action = DsnRecipient::Action::Failed,
               .status = "5.1.1",
               .remote_mta = "mx.remote.example",
               .diagnostic = "550 5.1.1 <bob@remote.example>: no such user\r\nX-Injected: 1"}}};
}

TEST(Dsn, IsAMultipartReportOfTextStatusAndTheMessage) {
  const std::string report = make_dsn(failed(), kOriginal);
  const mime::Message message = mime::parse(report);
  EXPECT_EQ(message.root.type, "multipart");
  EXPECT_EQ(message.root.subtype, "report");
  ASSERT_EQ(message.root.children.size(), 3u);
  EXPECT_EQ(message.root.children[0].subtype, "plain");
  EXPECT_EQ(message.root.children[1].type, "message");
  EXPECT_EQ(message.root.children[1].subtype, "delivery-status");
  EXPECT_EQ(message.root.children[2].subtype, "rfc822");
  ASSERT_TRUE(message.root.children[2].envelope);
  EXPECT_EQ(message.root.children[2].envelope->subject, "the report");
  EXPECT_EQ(message.envelope.subject, "Undelivered Mail Returned to Sender");
  for (const char* field :
       {"Reporting-MTA: dns; mail.example.test\r\n", "Original-Envelope-Id: QQ314159\r\n",
        "\r\nFinal-Recipient: rfc822; bob@remote.example\r\n",
        "Original-Recipient: rfc822;bob@remote.example\r\n", "Action: failed\r\nStatus: 5.1.1\r\n",
        "Remote-MTA: dns; mx.remote.example\r\n", "Auto-Submitted: auto-replied\r\n",
        "To: <alice@example.test>\r\n"}) {
    EXPECT_NE(report.find(field), std::string::npos) << field;
  }
  // A remote server's reply never adds a field of its own.
  EXPECT_EQ(report.find("\r\nX-Injected"), std::string::npos);
}

TEST(Dsn, DelayedWithHeadersOnly) {
  Dsn dsn = failed();
  dsn.recipients[0].action = DsnRecipient::Action::Delayed;
  dsn.recipients[0].status = "4.4.1";
  dsn.retry_until = 1700432000;
  dsn.headers_only = true;
  const std::string report = make_dsn(dsn, kOriginal);
  EXPECT_NE(report.find("Subject: Delayed Mail"), std::string::npos);
  EXPECT_NE(report.find("Action: delayed\r\nStatus: 4.4.1\r\n"), std::string::npos);
  EXPECT_NE(report.find("Will-Retry-Until: "), std::string::npos);
  EXPECT_NE(report.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(report.find("The body."), std::string::npos);
  EXPECT_EQ(mime::parse(report).root.children.size(), 3u);
}

TEST(Dsn, AddressesBeyondAsciiMakeItGlobal) {
  Dsn dsn = failed();
  dsn.recipients[0].address = "jörg@remote.example";
  const std::string report = make_dsn(dsn, kOriginal);
  EXPECT_NE(report.find("Content-Type: message/global-delivery-status"), std::string::npos);
  EXPECT_NE(report.find("Final-Recipient: utf-8; jörg@remote.example"), std::string::npos);
  EXPECT_NE(report.find("Content-Type: message/global\r\n"), std::string::npos);
}

}  // namespace
}  // namespace rampart::delivery
