#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "store/sqlite/blob_files_internal.h"

namespace rampart::store::sqlite {
namespace {

constexpr std::size_t kIdLength = 64;
constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

Result<BlobFiles> BlobFiles::open(const std::filesystem::path& root, std::uint64_t reserve_bytes,
                                  std::function<void()> on_reserve) {
  bool created = false;
  auto make = [&](const std::filesystem::path& directory) -> Result<void> {
    if (::mkdir(directory.c_str(), 0700) == 0) {
      created = true;
    } else if (errno != EEXIST) {
      return fail(errno == ENOSPC ? Errc::OverQuota : Errc::Internal,
                  "mkdir " + directory.string() + ": " + std::strerror(errno));
    }
    return {};
  };
  if (auto made = make(root); !made) return tl::unexpected(made.error());
  for (char high : std::string_view(kHexDigits)) {
    for (char low : std::string_view(kHexDigits)) {
      if (auto made = make(root / std::string{high, low}); !made) {
        return tl::unexpected(made.error());
      }
    }
  }
  // A fan-out directory must itself be durable before a blob inside it can be.
  if (created) {
    if (auto synced = files::sync_directory(root); !synced) return tl::unexpected(synced.error());
    if (auto synced = files::sync_directory(root.parent_path()); !synced) {
      return tl::unexpected(synced.error());
    }
  }
  return BlobFiles(root, reserve_bytes, std::move(on_reserve));
}

bool BlobFiles::is_valid_id(std::string_view id) {
  return id.size() == kIdLength && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::filesystem::path BlobFiles::directory(std::string_view id) const {
  return root_ / std::string(id.substr(0, 2));
}

std::filesystem::path BlobFiles::path(std::string_view id) const {
  return directory(id) / std::string(id.substr(2));
}

bool BlobFiles::exists(std::string_view id) const { return ::access(path(id).c_str(), F_OK) == 0; }

Result<void> BlobFiles::check_reserve(std::uint64_t bytes) const {
  if (reserve_bytes_ == 0) return {};
  struct statvfs space {};
  if (::statvfs(root_.c_str(), &space) == 0 &&
      static_cast<std::uint64_t>(space.f_bavail) * space.f_frsize < reserve_bytes_ + bytes) {
    if (on_reserve_) on_reserve_();
    return fail(Errc::OverQuota, "the file system is down to its free-space reserve");
  }
  return {};
}

Result<void> BlobFiles::write(std::string_view id, std::string_view bytes,
                              files::SyncDirectory sync_directory) const {
  if (auto room = check_reserve(bytes.size()); !room) return room;
  return files::write_durably(path(id), bytes, sync_directory, 0600);
}

Result<std::string> BlobFiles::read(std::string_view id) const {
  if (!is_valid_id(id)) return fail(Errc::NotFound, "invalid blob id");
  return files::read_all(path(id));
}

void BlobFiles::remove(std::string_view id) const { std::remove(path(id).c_str()); }

}  // namespace rampart::store::sqlite
