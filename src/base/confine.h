// Least privilege for the server process (docs/architecture.md, rule 5): dropping root for an
// unprivileged service user, and Landlock confinement of the filesystem.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace rampart::confine {

struct ServiceUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary, the primary included
};

// The user and its groups (from /etc/passwd and /etc/group, or NSS). Errc::NotFound
// when there is no such user.
Result<ServiceUser> find_user(std::string_view name);

// Gives `directory` and everything under it to `user` (lchown: links are not followed).
Result<void> give_tree(const std::filesystem::path& directory, const ServiceUser& user);

// Root only: takes the user's groups, gid and uid for good, then checks that root
// cannot be regained. Reads no file, so it works after restrict_filesystem.
Result<void> become(const ServiceUser& user);

struct FilesystemRules {
  // Directories the process may read, create, rename and remove files in.
  std::vector<std::filesystem::path> read_write;
  // Files or directories it may read. Paths that do not exist are left out.
  std::vector<std::filesystem::path> read_only;
};

struct Confinement {
  int abi = 0;          // the kernel's Landlock ABI; 0 = no Landlock, nothing was confined
  std::string summary;  // what was applied, for the log
};

// Confines this thread and every thread or process it starts later (call it before
// starting any): writes only under `read_write`, reads only there and under
// `read_only`, no file executed anywhere, no TCP port bound (ABI 4+), no signal to or
// abstract socket of a process outside (ABI 6+). Also sets no_new_privs. The kernel's
// ABI is probed at run time, whatever the build's headers know; a kernel without
// Landlock returns abi 0, which the caller logs.
Result<Confinement> restrict_filesystem(const FilesystemRules& rules);

}  // namespace rampart::confine
