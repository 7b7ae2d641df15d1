#include "base/confine.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace rampart::confine {
namespace {

// Landlock's ABI, defined here rather than taken from <linux/landlock.h>: Debian 12's
// headers stop at ABI 2 while the kernels it runs on go further.
#ifndef SYS_landlock_create_ruleset
constexpr long SYS_landlock_create_ruleset = 444;
constexpr long SYS_landlock_add_rule = 445;
constexpr long SYS_landlock_restrict_self = 446;
#endif
constexpr unsigned kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;

enum : std::uint64_t {
  kExecute = 1ULL << 0,
  kWriteFile = 1ULL << 1,
  kReadFile = 1ULL << 2,
  kReadDir = 1ULL << 3,
  kRemoveDir = 1ULL << 4,
  kRemoveFile = 1ULL << 5,
  kMakeChar = 1ULL << 6,
  kMakeDir = 1ULL << 7,
  kMakeReg = 1ULL << 8,
  kMakeSock = 1ULL << 9,
  kMakeFifo = 1ULL << 10,
  kMakeBlock = 1ULL << 11,
  kMakeSym = 1ULL << 12,
  kRefer = 1ULL << 13,     // ABI 2
  kTruncate = 1ULL << 14,  // ABI 3
  kIoctlDev = 1ULL << 15,  // ABI 5
};
constexpr std::uint64_t kNetBindTcp = 1ULL << 0;         // ABI 4
constexpr std::uint64_t kScopeAbstractUnix = 1ULL << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ULL << 1;        // ABI 6

struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
  std::uint64_t scoped;
};

struct __attribute__((packed)) PathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
};

std::uint64_t handled_fs(int abi) {
  if (abi >= 5) return (kIoctlDev << 1) - 1;
  if (abi >= 3) return (kTruncate << 1) - 1;
  if (abi >= 2) return (kRefer << 1) - 1;
  return (kMakeSym << 1) - 1;
}

std::string errno_text(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<ServiceUser> find_user(std::string_view name) {
  const std::string wanted(name);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(wanted.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return fail(Errc::NotFound, "no user named " + wanted);
  }
  ServiceUser user{wanted, entry.pw_uid, entry.pw_gid, {}};
  int count = 64;
  for (;;) {
    user.groups.resize(static_cast<std::size_t>(count));
    const int capacity = count;
    if (::getgrouplist(wanted.c_str(), user.gid, user.groups.data(), &count) >= 0) break;
    if (count <= capacity) count = capacity * 2;  // glibc may leave `count` unchanged
  }
  user.groups.resize(static_cast<std::size_t>(count));
  return user;
}

Result<void> give_tree(const std::filesystem::path& directory, const ServiceUser& user) {
  if (::lchown(directory.c_str(), user.uid, user.gid) != 0) {
    return fail(Errc::Internal,
                errno_text("cannot give " + directory.string() + " to " + user.name));
  }
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(directory, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (::lchown(it->path().c_str(), user.uid, user.gid) != 0) {
      return fail(Errc::Internal,
                  errno_text("cannot give " + it->path().string() + " to " + user.name));
    }
  }
  if (error)
    return fail(Errc::Internal, "cannot walk " + directory.string() + ": " + error.message());
  return {};
}

Result<void> become(const ServiceUser& user) {
  if (::setgroups(user.groups.size(), user.groups.data()) != 0) {
    return fail(Errc::Internal, errno_text("setgroups"));
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0)
    return fail(Errc::Internal, errno_text("setresgid"));
  if (::setresuid(user.uid, user.uid, user.uid) != 0)
    return fail(Errc::Internal, errno_text("setresuid"));
  if (user.uid != 0 && (::setuid(0) == 0 || ::geteuid() == 0)) {
    return fail(Errc::Internal, "root could be regained after dropping to " + user.name);
  }
  return {};
}

Result<Confinement> restrict_filesystem(const FilesystemRules& rules) {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  if (abi < 1) {
    return Confinement{0, errno == ENOSYS       ? "the kernel has no Landlock"
                          : errno == EOPNOTSUPP ? "Landlock is disabled in this kernel"
                                                : errno_text("Landlock unavailable")};
  }
  RulesetAttr attr{handled_fs(static_cast<int>(abi)), 0, 0};
  std::size_t attr_size = sizeof attr.handled_access_fs;
  if (abi >= 4) {
    attr.handled_access_net = kNetBindTcp;
    attr_size += sizeof attr.handled_access_net;
  }
  if (abi >= 6) {
    attr.scoped = kScopeAbstractUnix | kScopeSignal;
    attr_size += sizeof attr.scoped;
  }
  Fd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0U)));
  if (ruleset.get() < 0) return fail(Errc::Internal, errno_text("landlock_create_ruleset"));

  const std::uint64_t file_read = kReadFile;
  const std::uint64_t dir_read = kReadFile | kReadDir;
  const std::uint64_t dir_write = (dir_read | kWriteFile | kRemoveDir | kRemoveFile | kMakeDir |
                                   kMakeReg | kRefer | kTruncate) &
                                  attr.handled_access_fs;
  std::string summary = "Landlock ABI " + std::to_string(abi) + ": writes under";
  auto add = [&](const std::filesystem::path& path, bool write) -> Result<void> {
    Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (fd.get() < 0) {
      if (!write && errno == ENOENT) return {};
      return fail(Errc::Internal, errno_text("cannot open " + path.string()));
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0) return fail(Errc::Internal, errno_text("fstat"));
    const bool directory = S_ISDIR(status.st_mode);
    if (write && !directory) return fail(Errc::BadInput, path.string() + " is not a directory");
    PathBeneathAttr rule{write ? dir_write : directory ? dir_read : file_read, fd.get()};
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRulePathBeneath, &rule, 0U) != 0) {
      return fail(Errc::Internal, errno_text("landlock_add_rule " + path.string()));
    }
    summary += " " + path.string();
    return {};
  };
  for (const auto& path : rules.read_write) {
    if (auto added = add(path, true); !added) return tl::unexpected(added.error());
  }
  summary += "; reads also under";
  for (const auto& path : rules.read_only) {
    if (auto added = add(path, false); !added) return tl::unexpected(added.error());
  }
  summary += "; nothing executed";
  if (abi >= 4) summary += ", no port bound";
  if (abi >= 6) summary += ", no signal or abstract socket outside";
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return fail(Errc::Internal, errno_text("no_new_privs"));
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0U) != 0) {
    return fail(Errc::Internal, errno_text("landlock_restrict_self"));
  }
  return Confinement{static_cast<int>(abi), summary};
}

}  // namespace rampart::confine
