// Message bytes as immutable files named by their SHA-256: blobs/ab/cdef... (256
// fan-out directories, created at open). No name here ever comes from request data
// other than a validated hash.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/files.h"
#include "base/result.h"

namespace rampart::store::sqlite {

class BlobFiles {
 public:
  // Creates `root` and its fan-out directories (durably) if missing.
  static Result<BlobFiles> open(const std::filesystem::path& root);

  // 64 lowercase hex digits.
  static bool is_valid_id(std::string_view id);
  std::filesystem::path path(std::string_view id) const;
  std::filesystem::path directory(std::string_view id) const;
  bool exists(std::string_view id) const;
  // Durable once the directory is synced: by this call, or by the committer's batch.
  Result<void> write(std::string_view id, std::string_view bytes,
                     files::SyncDirectory sync_directory) const;
  // NotFound for a missing blob or an invalid id.
  Result<std::string> read(std::string_view id) const;
  void remove(std::string_view id) const;

 private:
  explicit BlobFiles(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace rampart::store::sqlite
