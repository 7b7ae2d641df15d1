#include "net/server.h"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "base/log.h"
#include "base/metrics.h"
#include "base/network.h"

namespace rampart::net {

namespace asio = boost::asio;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

struct Server::State {
  struct Listener {
    Acceptor acceptor;
    std::string service;
    std::string endpoint_text;
    SessionHandler handler;
    // Looked up once, when listening starts: a connection only adds.
    metrics::Metric& accepted;
    metrics::Metric& open;
  };

  explicit State(ServerOptions server_options)
      : options(server_options),
        threads(options.threads > 0 ? options.threads
                                    : std::max(1u, std::thread::hardware_concurrency())),
        contexts(make_contexts(threads)),
        io(*contexts.front()),
        signals(io, SIGTERM, SIGINT, SIGHUP) {}

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int count) {
    std::vector<std::unique_ptr<asio::io_context>> made;
    for (int i = 0; i < count; ++i) made.push_back(std::make_unique<asio::io_context>(1));
    return made;
  }

  // The next connection's thread, round robin.
  asio::io_context& next_context() { return *contexts[next_connection++ % contexts.size()]; }

  asio::awaitable<void> accept_loop(Listener& listener);
  asio::awaitable<void> run_session(Socket socket, Listener& listener, std::string peer);
  bool admit(const std::string& peer);
  void release(const std::string& peer);
  asio::awaitable<void> shut_down();

  ServerOptions options;
  int threads;
  // One io_context per thread, each run by that thread alone: a connection lives on one
  // of them, so its completions run where the kernel reported them, with no hand-off
  // between threads and no strand. The first also runs the listeners and signals.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  asio::io_context& io;
  std::size_t next_connection = 0;  // only the first context's thread accepts
  asio::signal_set signals;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::atomic<std::size_t> sessions{0};
  std::atomic<bool> stopping{false};
  std::mutex per_ip_mutex;
  std::unordered_map<std::string, int> per_ip;
};

asio::awaitable<void> Server::State::accept_loop(Listener& listener) {
  for (;;) {
    boost::system::error_code error;
    // A connection's reads, writes and timers all run on its context's one thread.
    Socket socket = co_await listener.acceptor.async_accept(
        next_context(), asio::redirect_error(asio::use_awaitable, error));
    if (stopping) co_return;
    if (error) {
      // EMFILE and friends: log, back off briefly, keep serving the connections we have.
      log::warn(listener.service + " accept on " + listener.endpoint_text + ": " + error.message());
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, error));
      continue;
    }
    // IPv6 clients count by their /64: one host may hold a whole /64 of addresses.
    const std::string peer = client_of(peer_of(socket).address);
    if (!admit(peer)) {
      log::warn(listener.service + ": refused a connection from " + peer + ": over " +
                std::to_string(options.max_connections_per_ip) + " from that address");
      socket.close(error);
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, run_session(std::move(socket), listener, peer), asio::detached);
  }
}

bool Server::State::admit(const std::string& peer) {
  std::lock_guard lock(per_ip_mutex);
  int& count = per_ip[peer];
  if (count >= options.max_connections_per_ip) return false;
  ++count;
  return true;
}

void Server::State::release(const std::string& peer) {
  std::lock_guard lock(per_ip_mutex);
  if (auto found = per_ip.find(peer); found != per_ip.end() && --found->second <= 0) {
    per_ip.erase(found);
  }
}

asio::awaitable<void> Server::State::run_session(Socket socket, Listener& listener,
                                                 std::string peer) {
  ++sessions;
  listener.accepted.add();
  metrics::Metric& open = listener.open;
  open.add();
  try {
    co_await listener.handler(std::move(socket));
  } catch (const std::exception& exception) {
    log::error(listener.service + " session from " + peer + " ended by a bug: " + exception.what());
  }
  open.add(-1);
  release(peer);
  --sessions;
}

asio::awaitable<void> Server::State::shut_down() {
  if (stopping.exchange(true)) co_return;
  log::info("stopping: no new connections; waiting up to " +
            std::to_string(options.shutdown_grace.count()) + "s for " +
            std::to_string(sessions.load()) + " session(s)");
  for (auto& listener : listeners) {
    boost::system::error_code ignored;
    listener->acceptor.close(ignored);
  }
  const auto deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
  asio::steady_timer timer(io);
  while (sessions > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(50));
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  if (sessions > 0) log::warn(std::to_string(sessions.load()) + " session(s) cut off at shutdown");
  for (auto& context : contexts) context->stop();
}

Server::Server(ServerOptions options) : state_(std::make_unique<State>(options)) {}

Server::~Server() = default;

Result<void> Server::listen(const Endpoint& endpoint, std::string service, SessionHandler handler) {
  boost::system::error_code error;
  asio::generic::stream_protocol::endpoint target;
  bool v6 = false;
  if (!endpoint.unix_path.empty()) {
    // A socket file left by an earlier run is replaced; any other file is not.
    std::error_code status_error;
    if (std::filesystem::is_socket(
            std::filesystem::symlink_status(endpoint.unix_path, status_error))) {
      std::filesystem::remove(endpoint.unix_path, status_error);
    }
    target = asio::local::stream_protocol::endpoint(endpoint.unix_path.string());
  } else {
    const auto address = asio::ip::make_address(endpoint.address, error);
    if (error) return fail(Errc::BadInput, service + ": bad address " + endpoint.address);
    target = asio::ip::tcp::endpoint(address, endpoint.port);
    v6 = address.is_v6();
  }
  Acceptor acceptor(state_->io);
  acceptor.open(target.protocol(), error);
  if (!error && endpoint.unix_path.empty()) {
    acceptor.set_option(asio::socket_base::reuse_address(true), error);
  }
  if (!error && v6) acceptor.set_option(asio::ip::v6_only(true), error);
  if (!error) acceptor.bind(target, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return fail(Errc::Internal,
                service + ": cannot listen on " + endpoint.text() + ": " + error.message());
  }
  const std::string labels = "service=" + metrics::label(service);
  state_->listeners.push_back(std::make_unique<State::Listener>(
      State::Listener{std::move(acceptor), std::move(service), endpoint.text(), std::move(handler),
                      metrics::get("rampart_connections_total", metrics::Type::Counter,
                                   "Connections accepted.", labels),
                      metrics::get("rampart_connections_open", metrics::Type::Gauge,
                                   "Connections open.", labels)}));
  const auto& listener = *state_->listeners.back();
  log::info("listening on " + listener.endpoint_text + " (" + listener.service + ")");
  return {};
}

void Server::run() {
  State& state = *state_;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&state, &on_signal](const boost::system::error_code& error, int signal_number) {
        if (error) return;
        if (signal_number == SIGHUP) {
          log::info("received SIGHUP: reloading");
          if (state.options.on_reload) state.options.on_reload();
          state.signals.async_wait(on_signal);
          return;
        }
        log::info(std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT"));
        asio::co_spawn(state.io, state.shut_down(), asio::detached);
      };
  state.signals.async_wait(on_signal);
  for (auto& listener : state.listeners) {
    asio::co_spawn(state.io, state.accept_loop(*listener), asio::detached);
  }
  // The other contexts have no work until a connection arrives: keep them running.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle;
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < state.contexts.size(); ++i) {
    asio::io_context& context = *state.contexts[i];
    idle.push_back(asio::make_work_guard(context));
    workers.emplace_back([&context] { context.run(); });
  }
  state.io.run();
  for (auto& worker : workers) worker.join();
  log::info("stopped");
}

}  // namespace rampart::net
