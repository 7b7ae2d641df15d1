#include "store/message_reader.h"

#include <gtest/gtest.h>

namespace rampart::store {
namespace {

constexpr std::string_view kRaw =
    "From: ann@example.test\r\n"
    "Subject: Hello\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9\r\n"
    "--b--\r\n";

// A reader over kRaw whose stored structure is `structure`, counting the reads.
struct Counted {
  int raw_reads = 0, structure_reads = 0;
  MessageReader reader(Result<std::string> structure) {
    return MessageReader(
        MessageMeta{},
        [this]() -> Result<std::string> {
          ++raw_reads;
          return std::string(kRaw);
        },
        [this, structure]() {
          ++structure_reads;
          return structure;
        });
  }
};

void expect_parsed(MessageReader& reader) {
  const mime::Message& message = reader.message();
  EXPECT_EQ(message.envelope.subject, "Hello");
  ASSERT_EQ(message.root.children.size(), 1u);
  EXPECT_EQ(reader.decoded_text(message.root.children[0]), "café");
  EXPECT_EQ(reader.header().substr(0, 5), "From:");
}

TEST(MessageReader, UsesTheStoredStructureWithoutParsing) {
  Counted counted;
  auto reader = counted.reader(mime::encode_structure(mime::parse(kRaw)));
  const mime::Message& message = reader.message();
  EXPECT_EQ(message.envelope.subject, "Hello");
  EXPECT_FALSE(reader.reparsed());
  EXPECT_EQ(counted.raw_reads, 0);  // the structure alone answers
  expect_parsed(reader);
  EXPECT_EQ(counted.raw_reads, 1);
  EXPECT_EQ(counted.structure_reads, 1);
}

TEST(MessageReader, ADamagedStructureIsRebuiltFromTheBytes) {
  std::string damaged = mime::encode_structure(mime::parse(kRaw));
  damaged.resize(damaged.size() / 2);
  Counted counted;
  auto reader = counted.reader(damaged);
  expect_parsed(reader);
  EXPECT_TRUE(reader.reparsed());
  EXPECT_FALSE(reader.read_error());
}

TEST(MessageReader, AMissingStructureIsRebuiltFromTheBytes) {
  for (Result<std::string> missing :
       {Result<std::string>(std::string()), Result<std::string>(fail(Errc::NotFound))}) {
    Counted counted;
    auto reader = counted.reader(missing);
    expect_parsed(reader);
    EXPECT_TRUE(reader.reparsed());
    EXPECT_FALSE(reader.read_error());
  }
}

TEST(MessageReader, AFailedReadIsToldAndReadsAsEmpty) {
  MessageReader reader(
      MessageMeta{}, []() -> Result<std::string> { return fail(Errc::Internal, "disk"); },
      []() -> Result<std::string> { return std::string("damaged"); });
  EXPECT_TRUE(reader.raw().empty());
  EXPECT_TRUE(reader.message().root.children.empty());
  ASSERT_TRUE(reader.read_error());
  EXPECT_EQ(reader.read_error()->code, Errc::Internal);
}

TEST(MessageReader, BytesGivenAreParsed) {
  auto reader = MessageReader::of_bytes(MessageMeta{}, std::string(kRaw));
  expect_parsed(reader);
}

}  // namespace
}  // namespace rampart::store
