#include "imap/mailbox_name.h"

#include <gtest/gtest.h>

namespace rampart::imap {
namespace {

TEST(MailboxName, EncodesTheRfcExamples) {
  // RFC 3501 §5.1.3: "~peter/mail/台北/日本語".
  EXPECT_EQ(encode_mutf7("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(encode_mutf7("Entwürfe"), "Entw&APw-rfe");
  EXPECT_EQ(encode_mutf7("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(encode_mutf7("INBOX"), "INBOX");
  EXPECT_EQ(encode_mutf7("😀"), "&2D3eAA-");  // outside the BMP: a surrogate pair
}

TEST(MailboxName, RoundTrips) {
  for (const char* name : {"~peter/mail/台北/日本語", "Entwürfe", "Tom & Jerry", "&", "a&b&&c",
                           "Ünïcødé/😀 and more", "Отправленные", "tab\there", ""}) {
    EXPECT_EQ(decode_mutf7(encode_mutf7(name)), name) << name;
  }
}

TEST(MailboxName, RefusesWhatTheRfcForbids) {
  for (const char* bad : {"&U,BTFw", "&U,BTF*-", "&AGE-", "&AOQ-&AOQ-", "&2D0-", "&3gA-", "&APw",
                          "a\x01", "caf\xc3\xa9", "&AOR-", "&-&"}) {
    EXPECT_FALSE(decode_mutf7(bad)) << bad;
  }
  EXPECT_EQ(decode_mutf7("&-"), "&");
  EXPECT_EQ(decode_mutf7("Entw&APw-rfe"), "Entwürfe");
}

}  // namespace
}  // namespace rampart::imap
