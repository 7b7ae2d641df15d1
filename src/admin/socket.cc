#include "admin/socket.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "admin/api.h"
#include "base/log.h"
#include "net/offload.h"
#include "net/stream.h"

namespace rampart::admin {

namespace {
constexpr std::chrono::seconds kIdle{300};
constexpr std::size_t kMaxLine = 64 * 1024 + 2;
}  // namespace

boost::asio::awaitable<void> run_session(net::Socket socket, Api& api,
                                         boost::asio::thread_pool& blocking) {
  ucred peer{};
  socklen_t length = sizeof peer;
  const bool known =
      ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0;
  net::Stream stream(std::move(socket), nullptr);
  if (!known || (peer.uid != 0 && peer.uid != ::geteuid())) {
    log::warn("admin: refused a connection from uid " +
              (known ? std::to_string(peer.uid) : std::string("unknown")));
    co_await stream.write(
        R"({"ok":false,"error":"no-permission","message":"only root and the server's user may administer"})"
        "\n",
        std::chrono::seconds(5));
    co_return;
  }
  const std::string caller = "uid " + std::to_string(peer.uid) + " pid " + std::to_string(peer.pid);
  std::string buffer;
  for (;;) {
    std::size_t end;
    while ((end = buffer.find('\n')) == std::string::npos) {
      if (buffer.size() >= kMaxLine) {
        co_await stream.write(R"({"ok":false,"error":"too-big","message":"request over 64 KiB"})"
                              "\n",
                              std::chrono::seconds(5));
        co_return;
      }
      if (!co_await stream.read_some(buffer, kMaxLine - buffer.size(), kIdle)) co_return;
    }
    std::string request = buffer.substr(0, end);
    buffer.erase(0, end + 1);
    std::string answer = co_await net::offload(blocking, [&] { return api.call(request, caller); });
    log::info("admin: " + caller + ": " +
              (answer.starts_with(R"({"ok":true)") ? std::string("done") : answer));
    answer += '\n';
    if (!co_await stream.write(answer, kIdle)) co_return;
  }
}

Result<std::optional<std::string>> call_server(const std::filesystem::path& socket_path,
                                               std::string_view request) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  if (path.size() >= sizeof address.sun_path) {
    return fail(Errc::BadInput, "admin socket path too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Errc::Internal, std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) return std::nullopt;
    return fail(errno == EACCES ? Errc::NoPermission : Errc::Internal,
                path + ": " + std::strerror(errno));
  }
  // Argon2id hashing for a password runs well under this.
  const timeval timeout{120, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  std::string line(request);
  line += '\n';
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return fail(Errc::Internal, path + ": send: " + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char chunk[16384];
  while (answer.find('\n') == std::string::npos) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return fail(Errc::Internal, path + ": the server closed the connection without an answer");
    }
    answer.append(chunk, static_cast<std::size_t>(n));
  }
  answer.resize(answer.find('\n'));
  return answer;
}

}  // namespace rampart::admin
