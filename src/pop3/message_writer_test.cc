#include "pop3/message_writer.h"

#include <gtest/gtest.h>

#include <random>

#include "mime/encode.h"

namespace rampart::pop3 {
namespace {

// Everything the writer sends, `step` bytes (or so) per call.
std::string written(std::string_view raw, std::optional<std::uint64_t> lines = std::nullopt,
                    std::size_t step = 1 << 16) {
  MessageWriter writer(raw, lines);
  std::string out, piece;
  for (;;) {
    piece.clear();
    const bool more = writer.write(piece, step);
    EXPECT_LE(piece.size(), step + 5);  // a piece never runs far past what was asked
    out += piece;
    if (!more) return out;
  }
}

// What a client reads: the terminator removed, stuffed dots taken out (RFC 1939 §3).
std::string unstuffed(std::string_view response) {
  EXPECT_TRUE(response.ends_with(".\r\n"));
  response.remove_suffix(3);
  std::string out;
  bool line_start = true;
  for (std::size_t i = 0; i < response.size(); ++i) {
    if (line_start && response[i] == '.') {
      EXPECT_EQ(response[i + 1], '.');
      ++i;
    }
    out += response[i];
    line_start = response[i] == '\n';
  }
  return out;
}

TEST(MessageWriter, SendsACrlfMessageAsItIsWithTheTerminator) {
  const std::string raw = "Subject: hi\r\n\r\nHello\r\n";
  EXPECT_EQ(written(raw), raw + ".\r\n");
  EXPECT_EQ(written(""), ".\r\n");
}

TEST(MessageWriter, StuffsEveryLineThatStartsWithADot) {
  EXPECT_EQ(written(".a\r\n..\r\n.\r\nb.\r\n"), "..a\r\n...\r\n..\r\nb.\r\n.\r\n");
  EXPECT_EQ(written("x\n.\n"), "x\r\n..\r\n.\r\n");
  EXPECT_EQ(written("x\r.y"), "x\r\n..y\r\n.\r\n");
}

TEST(MessageWriter, EndsEveryLineWithCrlfAndTheLastOneToo) {
  EXPECT_EQ(written("a\nb\rc\r\nd"), "a\r\nb\r\nc\r\nd\r\n.\r\n");
  EXPECT_EQ(written("\n\n"), "\r\n\r\n.\r\n");
  EXPECT_EQ(written("a\r"), "a\r\n.\r\n");
}

TEST(MessageWriter, SendsWhatCrlfSizeCountsWhateverThePieces) {
  std::mt19937 random(7);
  const std::string alphabet = "ab.\r\n";
  for (int round = 0; round < 2000; ++round) {
    std::string raw(random() % 40, ' ');
    for (char& c : raw) c = alphabet[random() % alphabet.size()];
    const std::string whole = written(raw);
    EXPECT_EQ(unstuffed(whole).size(), mime::crlf_size(raw)) << raw;
    EXPECT_EQ(unstuffed(whole), unstuffed(written(raw, std::nullopt, 1 + random() % 5))) << raw;
  }
}

TEST(MessageWriter, ALongLineGoesInPieces) {
  const std::string raw = "Subject: long\r\n\r\n" + std::string(1 << 20, 'x');
  MessageWriter writer(raw);
  std::string piece;
  EXPECT_TRUE(writer.write(piece, 4096));
  EXPECT_EQ(piece.size(), 4096u);
  EXPECT_EQ(written(raw, std::nullopt, 4096), raw + "\r\n.\r\n");
}

TEST(MessageWriter, TopSendsTheHeaderTheBlankLineAndThatManyBodyLines) {
  const std::string raw = "A: 1\r\nB: 2\r\n\r\none\r\n.two\r\nthree\r\n";
  EXPECT_EQ(written(raw, 0), "A: 1\r\nB: 2\r\n\r\n.\r\n");
  EXPECT_EQ(written(raw, 2), "A: 1\r\nB: 2\r\n\r\none\r\n..two\r\n.\r\n");
  const std::string all = "A: 1\r\nB: 2\r\n\r\none\r\n..two\r\nthree\r\n.\r\n";
  EXPECT_EQ(written(raw, 3), all);
  EXPECT_EQ(written(raw, UINT64_MAX), all);
  EXPECT_EQ(written(raw), all);
  // Bare LF line ends count the same; an empty body line is a line.
  EXPECT_EQ(written("A: 1\n\n\nx\n", 1), "A: 1\r\n\r\n\r\n.\r\n");
  // Without a blank line it is all header.
  EXPECT_EQ(written("A: 1\r\nB: 2", 0), "A: 1\r\nB: 2\r\n.\r\n");
  EXPECT_EQ(written("A: 1\r\n\r\n", 5), "A: 1\r\n\r\n.\r\n");
}

}  // namespace
}  // namespace rampart::pop3
