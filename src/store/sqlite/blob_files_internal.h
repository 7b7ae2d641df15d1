// Message bytes as immutable files named by their SHA-256: blobs/ab/cdef... (256
// fan-out directories, created at open). No name here ever comes from request data
// other than a validated hash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "base/files.h"
#include "base/result.h"

namespace rampart::store::sqlite {

class BlobFiles {
 public:
  // Creates `root` and its fan-out directories (durably) if missing. A write that
  // would leave less than `reserve_bytes` free on the file system fails with
  // OverQuota, and calls `on_reserve` (from the writing thread).
  static Result<BlobFiles> open(const std::filesystem::path& root, std::uint64_t reserve_bytes = 0,
                                std::function<void()> on_reserve = {});

  // 64 lowercase hex digits.
  static bool is_valid_id(std::string_view id);
  std::filesystem::path path(std::string_view id) const;
  std::filesystem::path directory(std::string_view id) const;
  bool exists(std::string_view id) const;
  // OverQuota (and `on_reserve` called) when storing `bytes` more would leave less than
  // the reserve free.
  Result<void> check_reserve(std::uint64_t bytes) const;
  // Durable once the directory is synced: by this call, or by the committer's batch.
  Result<void> write(std::string_view id, std::string_view bytes,
                     files::SyncDirectory sync_directory) const;
  // NotFound for a missing blob or an invalid id.
  Result<std::string> read(std::string_view id) const;
  void remove(std::string_view id) const;

 private:
  BlobFiles(std::filesystem::path root, std::uint64_t reserve_bytes,
            std::function<void()> on_reserve)
      : root_(std::move(root)), reserve_bytes_(reserve_bytes), on_reserve_(std::move(on_reserve)) {}
  std::filesystem::path root_;
  std::uint64_t reserve_bytes_;
  std::function<void()> on_reserve_;
};

}  // namespace rampart::store::sqlite
