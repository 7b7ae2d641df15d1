#include "base/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/sha256.h"

namespace rampart {
namespace {

TEST(Files, WriteDurablyThenReadBack) {
  char pattern[] = "/tmp/rampart-files-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::filesystem::path dir = pattern;
  const std::string bytes("hello\0world", 11);
  ASSERT_TRUE(files::write_durably(dir / "a", bytes));
  auto read = files::read_all(dir / "a");
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, bytes);
  // Overwrite is atomic and leaves no temporary behind.
  ASSERT_TRUE(files::write_durably(dir / "a", "second"));
  EXPECT_EQ(*files::read_all(dir / "a"), "second");
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  std::filesystem::remove_all(dir);
}

TEST(Files, MissingFileIsNotFound) {
  auto read = files::read_all("/nonexistent/file");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Errc::NotFound);
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace rampart
