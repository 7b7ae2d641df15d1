// The network runtime: one io_context per core, each run by its own thread, the listeners, and
// the shutdown sequence (SIGTERM or SIGINT: stop accepting, let sessions finish for a
// grace period, then cancel them). SIGHUP calls the reload hook and goes on serving. No protocol
// knowledge: a listener hands each accepted connection to the SessionHandler it was opened with.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/config.h"
#include "base/result.h"
#include "net/socket.h"

namespace rampart::net {

// Runs one connection to its end. Exceptions are caught, logged with the service
// name and the peer, and end only that connection.
using SessionHandler = std::function<boost::asio::awaitable<void>(Socket)>;

struct ServerOptions {
  int threads = 0;  // 0 = one per core
  std::chrono::seconds shutdown_grace{10};
  // Connections beyond this from one address are closed at once (docs/architecture.md, rule 7).
  int max_connections_per_ip = 100;
  // Called on the network thread on SIGHUP (reload certificates); may be empty.
  std::function<void()> on_reload;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens now (so errors such as EADDRINUSE surface before `run`);
  // accepting starts in `run`. `service` names the listener in logs.
  Result<void> listen(const Endpoint& endpoint, std::string service, SessionHandler handler);

  // Blocks until a stop signal and the shutdown sequence have finished.
  void run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rampart::net
