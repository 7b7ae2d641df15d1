// `rampart serve` and `rampart check-config`.
#include <malloc.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <iostream>

#include "app/commands.h"
#include "app/open.h"
#include "base/log.h"
#include "delivery/delivery.h"
#include "directory/directory.h"
#include "imap/session.h"
#include "net/server.h"
#include "net/stream.h"
#include "net/tls.h"
#include "smtp/session.h"

namespace rampart::app {
namespace {

namespace asio = boost::asio;

// A protocol this build does not serve yet: the listener is real, and every client is
// told in its own protocol's words that the service is unavailable, then disconnected.
struct Unavailable {
  const char* service;
  bool implicit_tls;
  std::string reply;
};

std::vector<std::pair<const std::vector<Endpoint>*, Unavailable>> unavailable_services(
    const Config& config) {
  const std::string pop3 = "-ERR [SYS/PERM] POP3 is not available in this version\r\n";
  const std::string http =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 31\r\n"
      "Connection: close\r\n\r\nnot available in this version\r\n";
  const Config::Listen& listen = config.listen;
  return {{&listen.pop3, {"pop3", false, pop3}},
          {&listen.http, {"http", false, http}},
          {&listen.https, {"https", true, http}}};
}

net::SessionHandler unavailable_handler(Unavailable service, const net::TlsReloader* tls) {
  return [service = std::move(service), tls](net::Socket socket) -> asio::awaitable<void> {
    constexpr std::chrono::seconds kTimeout{30};
    net::Stream stream(std::move(socket), tls ? tls->current() : nullptr);
    if (service.implicit_tls && !co_await stream.start_tls(kTimeout)) co_return;
    co_await stream.write(service.reply, kTimeout);
    stream.close();
  };
}

// Every service but plain HTTP offers TLS (implicit or STARTTLS).
bool needs_tls(const Config& config) {
  const Config::Listen& listen = config.listen;
  return !(listen.smtp.empty() && listen.submission.empty() && listen.submissions.empty() &&
           listen.imap.empty() && listen.imaps.empty() && listen.pop3.empty() &&
           listen.https.empty());
}

struct SmtpListener {
  const std::vector<Endpoint>* endpoints;
  const char* service;
  smtp::SessionOptions options;
};

}  // namespace

int check_config(const std::filesystem::path& config_path) {
  auto config = load_config_or_report(config_path);
  if (!config) return kExitFailure;
  if (!config->tls.cert.empty()) {
    auto context = net::make_server_context({config->tls.cert, config->tls.key});
    if (!context) {
      std::cerr << "rampart: " << config_path.string() << ": tls: " << context.error().detail
                << "\n";
      return kExitFailure;
    }
  }
  std::cout << "config OK: " << config_path.string() << "\n";
  return kExitOk;
}

int serve(const std::filesystem::path& config_path) {
  auto config = load_config_or_report(config_path);
  if (!config) return kExitFailure;
  log::set_min_level(config->log_level);
  // An Argon2id check allocates 19 MiB on a blocking thread. glibc raises its mmap
  // threshold each time such a block is freed, so later ones come from per-thread
  // arenas and stay resident: 32 threads would hold 600 MiB nobody uses. A fixed
  // threshold keeps big blocks in mmap, returned to the kernel on free.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  log::info("rampart starting with " + config_path.string() + ", data in " +
            config->data_dir.string());
  auto store = open_store(*config);
  if (!store) return kExitFailure;

  std::unique_ptr<net::TlsReloader> tls;
  if (needs_tls(*config)) {
    auto files = net::ensure_tls_files({config->tls.cert, config->tls.key}, config->data_dir,
                                       config->hostname);
    auto reloader = files
                        ? net::TlsReloader::open(*files)
                        : Result<std::unique_ptr<net::TlsReloader>>(tl::unexpected(files.error()));
    if (!reloader) {
      log::error("tls: " + reloader.error().detail);
      return kExitFailure;
    }
    tls = std::move(*reloader);
  }

  directory::Directory directory(**store);
  delivery::Delivery delivery(**store);
  // Store, directory and password hashing block: they run here, never on network threads.
  asio::thread_pool blocking(32);
  smtp::Services smtp_services{directory, delivery, blocking, tls.get()};
  imap::Services imap_services{directory, **store, blocking, tls.get()};

  // SIGHUP: new connections get the certificate now in the files (a self-signed one is
  // renewed first when it is about to expire); open ones keep theirs.
  auto reload_tls = [&tls, &config] {
    if (!tls) return;
    if (auto files = net::ensure_tls_files({config->tls.cert, config->tls.key}, config->data_dir,
                                           config->hostname);
        !files) {
      log::error("tls: " + files.error().detail);
    }
    auto reloaded = tls->reload();
    if (reloaded) {
      log::info("tls: certificate and key reloaded");
    } else {
      log::error("tls: reload failed, keeping the old certificate: " + reloaded.error().detail);
    }
  };
  net::Server server(
      {.max_connections_per_ip = config->limits.connections_per_ip, .on_reload = reload_tls});
  int listeners = 0;
  const std::vector<SmtpListener> smtp_listeners = {
      {&config->listen.smtp, "smtp", {.mode = smtp::Mode::Mx, .hostname = config->hostname}},
      {&config->listen.submission,
       "submission",
       {.mode = smtp::Mode::Submission, .hostname = config->hostname}},
      {&config->listen.submissions,
       "submissions",
       {.mode = smtp::Mode::Submission, .implicit_tls = true, .hostname = config->hostname}},
      {&config->listen.lmtp, "lmtp", {.mode = smtp::Mode::Lmtp, .hostname = config->hostname}}};
  for (const SmtpListener& listener : smtp_listeners) {
    for (const Endpoint& endpoint : *listener.endpoints) {
      const smtp::SessionOptions& options = listener.options;
      auto listening =
          server.listen(endpoint, listener.service, [&options, &smtp_services](net::Socket socket) {
            return smtp::run_session(std::move(socket), options, smtp_services);
          });
      if (!listening) {
        log::error(listening.error().detail);
        return kExitFailure;
      }
      ++listeners;
    }
  }
  const imap::SessionOptions imap_options{}, imaps_options{.implicit_tls = true};
  for (const auto& [endpoints, service, options] :
       {std::tuple{&config->listen.imap, "imap", &imap_options},
        std::tuple{&config->listen.imaps, "imaps", &imaps_options}}) {
    for (const Endpoint& endpoint : *endpoints) {
      auto listening =
          server.listen(endpoint, service, [options, &imap_services](net::Socket socket) {
            return imap::run_session(std::move(socket), *options, imap_services);
          });
      if (!listening) {
        log::error(listening.error().detail);
        return kExitFailure;
      }
      ++listeners;
    }
  }
  for (const auto& [endpoints, service] : unavailable_services(*config)) {
    for (const Endpoint& endpoint : *endpoints) {
      auto listening =
          server.listen(endpoint, service.service, unavailable_handler(service, tls.get()));
      if (!listening) {
        log::error(listening.error().detail);
        return kExitFailure;
      }
      log::warn(std::string(service.service) + " on " + endpoint.text() +
                " is not implemented in this version: clients are told it is unavailable");
      ++listeners;
    }
  }
  if (listeners == 0) log::warn("no [listen] entries: serving nothing");
  log::info("ready");
  server.run();
  blocking.join();
  return kExitOk;
}

}  // namespace rampart::app
