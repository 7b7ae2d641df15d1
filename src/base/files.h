// Durable file writes. A file written here survives a crash once the call returns:
// data written to a temporary name in the same directory, fsync'd, renamed over the
// final name, and the directory fsync'd (unless the caller batches that itself).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"

namespace rampart::files {

enum class SyncDirectory { Yes, No };

// Writes `bytes` to `path` atomically. Errc::OverQuota when the disk is full
// (ENOSPC/EDQUOT), Errc::Internal for other I/O errors; the temporary file is removed.
Result<void> write_durably(const std::filesystem::path& path, std::string_view bytes,
                           SyncDirectory sync_directory = SyncDirectory::Yes, int mode = 0600);

// fsync of a directory, so that a rename or create inside it is durable.
Result<void> sync_directory(const std::filesystem::path& directory);

// Reads a whole file. Errc::NotFound when it does not exist.
Result<std::string> read_all(const std::filesystem::path& path);

}  // namespace rampart::files
