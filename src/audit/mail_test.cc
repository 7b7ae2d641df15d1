#include "audit/mail.h"

#include <gtest/gtest.h>

namespace rampart::audit {
namespace {

TEST(AlertMail, IsAPlainMessageWithNoInjectedHeaders) {
  const Alert alert{"new-network", "ann@example.test", "192.0.2.7",
                    "ann@example.test logged in\r\nBcc: evil@elsewhere.test"};
  const std::string message =
      alert_message(alert, "postmaster@example.test", "mail.example.test", 1795000000);
  EXPECT_NE(message.find("Subject: [Rampart alert] new-network: ann@example.test\r\n"),
            std::string::npos);
  EXPECT_NE(message.find("To: <postmaster@example.test>\r\n"), std::string::npos);
  EXPECT_NE(message.find("Auto-Submitted: auto-generated\r\n"), std::string::npos);
  const std::size_t body = message.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_GT(message.find("Bcc: evil"), body);
  EXPECT_NE(message.find("logged in  Bcc: evil"), std::string::npos);
}

}  // namespace
}  // namespace rampart::audit
