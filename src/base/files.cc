#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace rampart::files {
namespace {

Error io_error(const std::string& what, const std::filesystem::path& path, int error_number) {
  const Errc code = (error_number == ENOSPC || error_number == EDQUOT) ? Errc::OverQuota
                    : error_number == ENOENT                           ? Errc::NotFound
                    : error_number == EACCES                           ? Errc::NoPermission
                                                                       : Errc::Internal;
  return Error{code, what + " " + path.string() + ": " + std::strerror(error_number)};
}

// Closes the descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<void> sync_directory(const std::filesystem::path& directory) {
  Fd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return tl::unexpected(io_error("open directory", directory, errno));
  if (::fsync(fd.get()) != 0) return tl::unexpected(io_error("fsync directory", directory, errno));
  return {};
}

Result<void> write_durably(const std::filesystem::path& path, std::string_view bytes,
                           SyncDirectory sync_directory_after, int mode) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::filesystem::path temporary = path;
  temporary += ".tmp." + std::to_string(random());
  Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return tl::unexpected(io_error("create", temporary, errno));
  auto fail_and_remove = [&](const char* what) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return tl::unexpected(io_error(what, temporary, saved));
  };
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_and_remove("write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail_and_remove("fsync");
  if (::rename(temporary.c_str(), path.c_str()) != 0) return fail_and_remove("rename");
  if (sync_directory_after == SyncDirectory::Yes) return sync_directory(path.parent_path());
  return {};
}

Result<std::string> read_all(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return tl::unexpected(io_error("open", path, errno));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) return tl::unexpected(io_error("stat", path, errno));
  std::string bytes;
  bytes.resize(static_cast<std::size_t>(status.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(io_error("read", path, errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace rampart::files
