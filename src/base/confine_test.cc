#include "base/confine.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace rampart::confine {
namespace {

namespace fs = std::filesystem;

class ConfineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("rampart-confine-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "data");
    fs::create_directories(root_ / "config");
    fs::create_directories(root_ / "elsewhere");
    std::ofstream(root_ / "config" / "rampart.toml") << "x";
    std::ofstream(root_ / "elsewhere" / "secret") << "x";
  }
  void TearDown() override { fs::remove_all(root_); }

  // Runs `check` in a child confined by `rules`; returns the child's exit code.
  template <class Check>
  int in_confined_child(const FilesystemRules& rules, Check check) {
    const pid_t child = ::fork();
    if (child == 0) {
      auto confined = restrict_filesystem(rules);
      if (!confined) ::_exit(100);
      if (confined->abi == 0) ::_exit(101);
      ::_exit(check());
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
  }

  bool can_create(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  }
  bool can_read(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  }

  fs::path root_;
};

long landlock_abi() { return ::syscall(444, nullptr, 0, 1U); }

TEST_F(ConfineTest, WritesOnlyUnderTheDataDirectoryAndReadsOnlyWhatIsListed) {
  if (landlock_abi() < 1) GTEST_SKIP() << "no Landlock in this kernel";
  const FilesystemRules rules{{root_ / "data"}, {root_ / "config" / "rampart.toml"}};
  EXPECT_EQ(in_confined_child(rules,
                              [&] {
                                int failures = 0;
                                if (!can_create(root_ / "data" / "blob")) failures |= 1;
                                if (can_create(root_ / "elsewhere" / "shell")) failures |= 2;
                                if (can_create(root_ / "config" / "new")) failures |= 4;
                                if (!can_read(root_ / "config" / "rampart.toml")) failures |= 8;
                                if (can_read(root_ / "elsewhere" / "secret")) failures |= 16;
                                if (errno != EACCES) failures |= 32;
                                std::error_code error;
                                fs::rename(root_ / "data" / "blob", root_ / "data" / "b2", error);
                                if (error) failures |= 64;
                                return failures;
                              }),
            0);
}

TEST_F(ConfineTest, NothingIsExecutedNotEvenFromTheDataDirectory) {
  if (landlock_abi() < 1) GTEST_SKIP() << "no Landlock in this kernel";
  fs::copy_file("/bin/true", root_ / "data" / "true");
  fs::permissions(root_ / "data" / "true", fs::perms::owner_all);
  const FilesystemRules rules{{root_ / "data"}, {"/bin", "/usr", "/lib", "/lib64"}};
  EXPECT_EQ(in_confined_child(rules,
                              [&] {
                                int failures = 0;
                                const std::string copied = root_ / "data" / "true";
                                for (const char* program : {"/bin/true", copied.c_str()}) {
                                  char* const argv[] = {const_cast<char*>(program), nullptr};
                                  ::execv(program, argv);  // returns only on failure
                                  if (errno != EACCES) failures |= 1;
                                }
                                return failures;
                              }),
            0);
}

TEST_F(ConfineTest, NoPortIsBoundAfterConfinement) {
  if (landlock_abi() < 4) GTEST_SKIP() << "Landlock ABI < 4 cannot restrict binds";
  EXPECT_EQ(in_confined_child({{root_ / "data"}, {}},
                              [] {
                                const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                                sockaddr_in address{};
                                address.sin_family = AF_INET;
                                address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                                const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address),
                                                         sizeof address);
                                return bound == 0 ? 1 : errno == EACCES ? 0 : 2;
                              }),
            0);
}

TEST_F(ConfineTest, AReadWriteEntryMustBeADirectory) {
  if (landlock_abi() < 1) GTEST_SKIP() << "no Landlock in this kernel";
  EXPECT_EQ(in_confined_child({{root_ / "config" / "rampart.toml"}, {}}, [] { return 0; }), 100);
}

TEST(Become, DropsRootForGood) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto nobody = find_user("nobody");
  ASSERT_TRUE(nobody);
  const pid_t child = ::fork();
  if (child == 0) {
    if (!become(*nobody)) ::_exit(1);
    if (::getuid() != nobody->uid || ::geteuid() != nobody->uid || ::getgid() != nobody->gid) {
      ::_exit(2);
    }
    ::_exit(::setuid(0) == 0 ? 3 : 0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(FindUser, KnowsRootAndNotAStranger) {
  auto root = find_user("root");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->uid, 0u);
  EXPECT_FALSE(find_user("no-such-user-rampart"));
}

}  // namespace
}  // namespace rampart::confine
