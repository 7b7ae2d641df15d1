// `rampart serve` and `rampart check-config`.
#include <malloc.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstring>
#include <iostream>
#include <thread>

#include "admin/api.h"
#include "admin/socket.h"
#include "app/commands.h"
#include "app/open.h"
#include "audit/mail.h"
#include "audit/trail.h"
#include "audit/webhook.h"
#include "base/clock.h"
#include "base/confine.h"
#include "base/log.h"
#include "base/memory_budget.h"
#include "delivery/delivery.h"
#include "delivery/outbound.h"
#include "directory/directory.h"
#include "dkim/signer.h"
#include "dns/resolver.h"
#include "filter/clamav.h"
#include "filter/rspamd.h"
#include "filter/rspamd_learner.h"
#include "http/server.h"
#include "imap/recent.h"
#include "imap/session.h"
#include "jmap/api.h"
#include "jmap/mail.h"
#include "mailauth/inbound.h"
#include "managesieve/session.h"
#include "net/server.h"
#include "net/tls.h"
#include "pop3/session.h"
#include "smtp/session.h"

namespace rampart::app {
namespace {

namespace asio = boost::asio;

// Every service but plain HTTP offers TLS (implicit or STARTTLS).
bool needs_tls(const Config& config) {
  const Config::Listen& listen = config.listen;
  return !(listen.smtp.empty() && listen.submission.empty() && listen.submissions.empty() &&
           listen.imap.empty() && listen.imaps.empty() && listen.pop3.empty() &&
           listen.pop3s.empty() && listen.managesieve.empty() && listen.https.empty());
}

struct SmtpListener {
  const std::vector<Endpoint>* endpoints;
  const char* service;
  smtp::SessionOptions options;
};

// Confinement once the listeners are bound (docs/architecture.md, rule 5): the process writes
// only in its data directory (the current directory) and reads only there, its
// config, its own TLS certificate and key, and the system files libraries read at run
// time (shared libraries and charset modules under /usr, time zones, name resolution,
// OpenSSL's configuration and the CA certificates), never another key under /etc/ssl.
confine::FilesystemRules filesystem_rules(const Config& config,
                                          const std::filesystem::path& config_path) {
  confine::FilesystemRules rules;
  rules.read_write = {config.data_dir};
  rules.read_only = {config_path};
  for (const auto& file :
       {config.delivery.trust_anchor, config.delivery.ca_file, config.filter.public_suffix_list}) {
    if (!file.empty()) rules.read_only.push_back(file);
  }
  for (const auto& file : {config.tls.cert, config.tls.key}) {
    if (file.empty()) continue;
    // The file itself, never its directory (which may hold other services' keys).
    // A symlink (certbot's live/ into archive/) also opens the directory it leads to,
    // which holds only this certificate's versions, so renewals are read on SIGHUP.
    rules.read_only.push_back(file);
    std::error_code error;
    if (std::filesystem::is_symlink(file, error)) {
      const auto target = std::filesystem::canonical(file, error);
      if (!error) rules.read_only.push_back(target.parent_path());
    }
  }
  for (const char* system : {"/usr", "/etc/localtime", "/etc/hosts", "/etc/resolv.conf",
                             "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/ssl/openssl.cnf",
                             "/etc/ssl/certs", "/sys/devices/system/cpu", "/dev/urandom"}) {
    rules.read_only.emplace_back(system);
  }
#ifdef RAMPART_SANITIZE
  // LeakSanitizer lists the threads in /proc at exit to stop them.
  rules.read_only.emplace_back("/proc");
#endif
  return rules;
}

// The alerts' destinations: always the log, and the webhook when one is configured.
Result<std::vector<audit::AlertSink>> alert_sinks(const Config& config) {
  std::vector<audit::AlertSink> sinks = {
      [](const audit::Alert& alert) { log::warn("alert: " + alert.kind + ": " + alert.text); }};
  if (!config.audit.alert_webhook.empty()) {
    auto target = audit::parse_webhook_url(config.audit.alert_webhook);
    if (!target) return fail(target.error().code, "audit.alert_webhook: " + target.error().detail);
    sinks.push_back(audit::webhook_sink(std::move(*target), config.hostname));
  }
  return sinks;
}

// Mails `alert` to `to` (a local account or the outbound queue), from the null
// sender (RFC 3834: no reply, no bounce loop).
void mail_alert_to(const std::string& to, const audit::Alert& alert, const std::string& hostname,
                   delivery::Delivery& delivery) {
  auto sent = delivery.submit(
      {.mail_from = "", .recipients = {{.address = to}}, .ret = {}, .envid = {}},
      audit::alert_message(alert, to, hostname, unix_seconds()),
      {.protocol = "alert", .actor = "system", .address = {}, .detail = "alert " + alert.kind});
  if (!sent) {
    log::error("audit: cannot mail the alert to " + to + ": " + sent.error().detail);
  } else if (sent->front() == delivery::Outcome::NoSuchUser) {
    log::error("audit: cannot mail the alert to " + to + ": no such account here");
  }
}

audit::AlertRules alert_rules(const Config& config) {
  return {.bulk_read_messages = config.audit.bulk_read_messages,
          .mass_delete_messages = config.audit.mass_delete_messages,
          .failed_logins = config.audit.failed_logins,
          .window = std::chrono::seconds(config.audit.window_seconds)};
}

}  // namespace

int check_config(const std::filesystem::path& config_path) {
  auto config = load_config_or_report(config_path);
  if (!config) return kExitFailure;
  if (auto sinks = alert_sinks(*config); !sinks) {
    std::cerr << "rampart: " << config_path.string() << ": " << sinks.error().detail << "\n";
    return kExitFailure;
  }
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

namespace {

// What serves once root is gone. The listeners are bound first and their handlers run
// only after everything here is built; members are torn down in reverse order, the
// sessions' services before what they use.
struct Running {
  // The listeners' handlers keep pointers to these.
  std::vector<SmtpListener> smtp_listeners;
  imap::SessionOptions imap_options, imaps_options;
  pop3::SessionOptions pop3_options, pop3s_options;
  managesieve::SessionOptions managesieve_options;
  http::SessionOptions http_options, https_options;

  // Alerts by mail need the store, opened after the trail: set before any session runs,
  // so before any alert can be raised. Declared before the trail, whose end sends the
  // alerts still queued, and cleared before what it uses goes (~Running).
  audit::AlertSink mail_alert;
  std::unique_ptr<store::AuditLog> audit_log;
  std::optional<audit::Trail> trail;
  std::unique_ptr<net::TlsReloader> tls;
  std::unique_ptr<store::Store> store;
  std::optional<directory::Directory> directory;
  std::optional<dkim::KeyStore> dkim_keys;  // what mail leaving for other servers is signed with
  std::optional<delivery::Delivery> delivery;
  // The delivery service: a thread of its own runs the resolver and the outbound queue.
  // Declared before them, so it is destroyed after them.
  asio::io_context outbound_io{1};
  std::unique_ptr<dns::Resolver> resolver;
  std::optional<mailauth::Inbound> sender_checks;  // the MX's SPF, DKIM and DMARC
  std::optional<filter::ClamavSettings> clamav;    // virus scanning, when configured
  std::optional<filter::RspamdSettings> rspamd;    // spam filtering, when configured
  // Teaches rspamd what users file in or out of Junk, on the delivery service's thread,
  // which its work guard keeps running when the queue has nothing to do (queue_only).
  std::optional<filter::RspamdLearner> rspamd_learner;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> learner_work;
  std::optional<delivery::Outbound> outbound;
  std::thread outbound_thread;
  std::optional<MemoryBudget> message_budget;  // what SMTP messages in transit hold
  jmap::Dispatcher jmap;
  // Store, directory and password hashing block: they run here, never on network threads.
  std::optional<asio::thread_pool> blocking;
  std::optional<smtp::Services> smtp_services;
  imap::RecentClaims imap_recent;
  std::optional<imap::Services> imap_services;
  pop3::MaildropLocks pop3_locks;  // one POP3 session per maildrop, over both listeners
  std::optional<pop3::Services> pop3_services;
  std::optional<managesieve::Services> managesieve_services;
  std::optional<admin::Api> admin_api;
  std::optional<http::Services> http_services;

  // Deliveries refused for the free-space reserve raise disk-low once per window.
  std::atomic<std::int64_t> reserve_alerted_ms{-1};

  // The trail ends first (its queued alerts sent, by mail while delivery still works),
  // then the rest in reverse order.
  ~Running() {
    trail.reset();
    mail_alert = nullptr;
  }
};

// Binds every configured listener and the admin socket; false (logged) if one fails.
bool bind_listeners(net::Server& server, const Config& config, Running& running) {
  int listeners = 0;
  auto listen = [&](const Endpoint& endpoint, const char* service, net::SessionHandler handler) {
    auto listening = server.listen(endpoint, service, std::move(handler));
    if (!listening) log::error(listening.error().detail);
    listeners += listening ? 1 : 0;
    return listening.has_value();
  };
  running.smtp_listeners = {
      {&config.listen.smtp, "smtp", {.mode = smtp::Mode::Mx, .hostname = config.hostname}},
      {&config.listen.submission,
       "submission",
       {.mode = smtp::Mode::Submission, .hostname = config.hostname}},
      {&config.listen.submissions,
       "submissions",
       {.mode = smtp::Mode::Submission, .implicit_tls = true, .hostname = config.hostname}},
      {&config.listen.lmtp, "lmtp", {.mode = smtp::Mode::Lmtp, .hostname = config.hostname}}};
  for (const SmtpListener& listener : running.smtp_listeners) {
    for (const Endpoint& endpoint : *listener.endpoints) {
      const smtp::SessionOptions& options = listener.options;
      if (!listen(endpoint, listener.service, [&options, &running](net::Socket socket) {
            return smtp::run_session(std::move(socket), options, *running.smtp_services);
          })) {
        return false;
      }
    }
  }
  running.imaps_options.implicit_tls = true;
  for (const auto& [endpoints, service, options] :
       {std::tuple{&config.listen.imap, "imap", &running.imap_options},
        std::tuple{&config.listen.imaps, "imaps", &running.imaps_options}}) {
    for (const Endpoint& endpoint : *endpoints) {
      if (!listen(endpoint, service, [options, &running](net::Socket socket) {
            return imap::run_session(std::move(socket), *options, *running.imap_services);
          })) {
        return false;
      }
    }
  }
  running.pop3s_options.implicit_tls = true;
  for (const auto& [endpoints, service, options] :
       {std::tuple{&config.listen.pop3, "pop3", &running.pop3_options},
        std::tuple{&config.listen.pop3s, "pop3s", &running.pop3s_options}}) {
    for (const Endpoint& endpoint : *endpoints) {
      if (!listen(endpoint, service, [options, &running](net::Socket socket) {
            return pop3::run_session(std::move(socket), *options, *running.pop3_services);
          })) {
        return false;
      }
    }
  }
  for (const Endpoint& endpoint : config.listen.managesieve) {
    if (!listen(endpoint, "managesieve", [&running](net::Socket socket) {
          return managesieve::run_session(std::move(socket), running.managesieve_options,
                                          *running.managesieve_services);
        })) {
      return false;
    }
  }
  running.http_options.header_timeout = std::chrono::seconds(config.http.header_timeout);
  running.https_options = running.http_options;
  running.https_options.implicit_tls = true;
  for (const auto& [endpoints, service, options] :
       {std::tuple{&config.listen.http, "http", &running.http_options},
        std::tuple{&config.listen.https, "https", &running.https_options}}) {
    for (const Endpoint& endpoint : *endpoints) {
      if (!listen(endpoint, service, [options, &running](net::Socket socket) {
            return http::run_session(std::move(socket), *options, *running.http_services);
          })) {
        return false;
      }
    }
  }
  if (listeners == 0) log::warn("no [listen] entries: serving nothing");
  // The admin API, always on, on a Unix socket only root and the service user may use.
  return listen(
      Endpoint{.unix_path = config.admin_socket}, "admin", [&running](net::Socket socket) {
        return admin::run_session(std::move(socket), *running.admin_api, *running.blocking);
      });
}

// Confines the filesystem, then leaves root for good, before any thread starts.
bool drop_privileges(const Config& config, const std::filesystem::path& config_path,
                     const Identity& identity) {
  if (identity.service_user) {
    const confine::ServiceUser& user = *identity.service_user;
    if (::lchown(config.admin_socket.c_str(), user.uid, user.gid) != 0) {
      log::error("admin socket: cannot give " + config.admin_socket.string() + " to " + user.name +
                 ": " + std::strerror(errno));
      return false;
    }
  }
  auto confined = confine::restrict_filesystem(filesystem_rules(config, config_path));
  if (!confined) {
    log::error("cannot confine the filesystem: " + confined.error().detail);
    return false;
  }
  if (confined->abi == 0) {
    log::warn("filesystem not confined: " + confined->summary);
  } else {
    log::info("confined: " + confined->summary);
  }
  if (!become_service_user(identity, config)) return false;
#ifdef RAMPART_SANITIZE
  // Changing uid made the process undumpable; LeakSanitizer must ptrace its threads.
  ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
  log::info(identity.service_user
                ? "running as user " + identity.service_user->name
                : "running as uid " + std::to_string(::getuid()) + " (not started as root)");
  return true;
}

// As the service user: the TLS pair, the audit trail, the store and every service the
// listeners' handlers use. False (logged) when one cannot start.
bool start_services(const Config& config, const std::filesystem::path& config_path,
                    const Identity& identity, std::vector<audit::AlertSink> sinks,
                    Running& running) {
  if (needs_tls(config)) {
    auto files =
        net::ensure_tls_files({config.tls.cert, config.tls.key}, config.data_dir, config.hostname);
    auto reloader = files
                        ? net::TlsReloader::open(*files)
                        : Result<std::unique_ptr<net::TlsReloader>>(tl::unexpected(files.error()));
    if (!reloader) {
      log::error("tls: " + reloader.error().detail +
                 (identity.service_user ? " (read as user " + identity.service_user->name + ")"
                                        : std::string()));
      return false;
    }
    running.tls = std::move(*reloader);
  }
  auto opened_audit_log = store::open_sqlite_audit_log(config.data_dir);
  if (!opened_audit_log) {
    log::error("audit trail: " + opened_audit_log.error().detail);
    return false;
  }
  running.audit_log = std::move(*opened_audit_log);
  audit::Trail& trail =
      running.trail.emplace(*running.audit_log, alert_rules(config), std::move(sinks));
  trail.record({.kind = audit::kConfig,
                .actor = "system",
                .protocol = "serve",
                .detail = "started with " + config_path.string()});
  auto store = open_store(config, [&config, &running, &trail] {
    const std::int64_t now = unix_milliseconds();
    std::int64_t last = running.reserve_alerted_ms.load();
    const std::int64_t window = config.audit.window_seconds * 1000;
    if ((last >= 0 && now - last < window) ||
        !running.reserve_alerted_ms.compare_exchange_strong(last, now)) {
      return;
    }
    trail.raise({.kind = "disk-low",
                 .account = {},
                 .address = {},
                 .text = "less than " + std::to_string(config.limits.reserve_free_mib) +
                         " MiB free for " + config.data_dir.string() +
                         ": deliveries and appends are refused until there is more"});
  });
  if (!store) return false;
  running.store = std::move(*store);
  store::Store& stored = *running.store;
  auto& directory = running.directory.emplace(
      stored, &trail, static_cast<std::uint64_t>(config.limits.default_quota_mib) << 20);
  auto& dkim_keys = running.dkim_keys.emplace(config.data_dir / "dkim");
  auto& delivery = running.delivery.emplace(stored, directory, &trail, &dkim_keys);
  auto& blocking = running.blocking.emplace(32);
  const net::TlsReloader* tls = running.tls.get();
  auto& message_budget = running.message_budget.emplace(
      static_cast<std::size_t>(config.limits.message_memory_mib) << 20);
  auto resolver = dns::Resolver::open(running.outbound_io.get_executor(),
                                      {config.delivery.resolvers, config.delivery.trust_anchor});
  if (!resolver) {
    log::error(resolver.error().detail);
    return false;
  }
  running.resolver = std::move(*resolver);
  mailauth::Inbound* sender_checks = nullptr;
  if (config.filter.sender_checks) {
    auto suffixes = mailauth::PublicSuffixList::load(config.filter.public_suffix_list.string());
    if (suffixes.size() == 0) {
      log::warn("filter: no public suffix list at " + config.filter.public_suffix_list.string() +
                ": DMARC aligns on the last two labels");
    }
    sender_checks = &running.sender_checks.emplace(
        *running.resolver, config.hostname, std::move(suffixes), config.filter.arc_trusted_sealers);
  }
  const filter::ClamavSettings* clamav = nullptr;
  if (!config.filter.clamav_socket.empty()) {
    clamav = &running.clamav.emplace(
        filter::ClamavSettings{.socket = config.filter.clamav_socket.string(),
                               .timeout = std::chrono::seconds(config.filter.clamav_timeout),
                               .accept_when_unavailable = config.filter.clamav_accept_unscanned});
  }
  const filter::RspamdSettings* rspamd = nullptr;
  filter::Learner* learner = nullptr;
  if (config.filter.rspamd) {
    rspamd = &running.rspamd.emplace(filter::RspamdSettings{
        .scanner = *config.filter.rspamd,
        .controller = config.filter.rspamd_controller,
        .password = config.filter.rspamd_password,
        .timeout = std::chrono::seconds(config.filter.rspamd_timeout),
        .max_size = static_cast<std::size_t>(config.filter.rspamd_max_size_mib) << 20,
        .accept_unscanned = config.filter.rspamd_accept_unscanned});
    if (rspamd->controller) {
      learner = &running.rspamd_learner.emplace(running.outbound_io.get_executor(), blocking,
                                                stored, *rspamd);
      running.learner_work.emplace(running.outbound_io.get_executor());
    }
  }
  running.smtp_services.emplace(smtp::Services{directory, delivery, blocking, tls, &message_budget,
                                               sender_checks, clamav, &trail, rspamd});
  running.imap_services.emplace(imap::Services{directory, stored, stored, stored, blocking, tls,
                                               trail, running.imap_recent, learner});
  running.pop3_services.emplace(
      pop3::Services{directory, stored, stored, blocking, tls, trail, running.pop3_locks});
  running.managesieve_services.emplace(
      managesieve::Services{directory, stored, blocking, tls, trail});
  running.admin_api.emplace(stored, directory, *running.audit_log, dkim_keys, config);
  delivery::OutboundOptions outbound_options{
      .hostname = config.hostname,
      .give_up = std::chrono::seconds(config.delivery.give_up),
      .delay_notice = std::chrono::seconds(config.delivery.delay_notice),
      .first_retry = std::chrono::seconds(config.delivery.retry_first),
      .max_retry = std::chrono::seconds(config.delivery.retry_max),
      .max_connections = static_cast<std::size_t>(config.delivery.max_connections),
      .max_connections_per_domain =
          static_cast<std::size_t>(config.delivery.max_connections_per_domain),
      .ca_file = config.delivery.ca_file,
      .tls_report_period = std::chrono::seconds(config.delivery.tls_report_period),
      .report_from = config.delivery.report_from};
  if (outbound_options.report_from.empty()) {
    const auto dot = config.hostname.find('.');
    outbound_options.report_from =
        "postmaster@" +
        (dot == std::string::npos ? config.hostname : config.hostname.substr(dot + 1));
  }
  for (const auto& domain : config.delivery.domains) {
    if (domain.require_tls) outbound_options.require_tls.insert(domain.name);
    if (!domain.dane) outbound_options.dane_off.insert(domain.name);
  }
  auto& outbound =
      running.outbound.emplace(stored, delivery, *running.resolver, blocking,
                               running.outbound_io.get_executor(), std::move(outbound_options));
  delivery.on_queued([&outbound] { outbound.wake(); });
  running.admin_api->on_queue_due([&outbound] { outbound.wake(); });
  if (config.delivery.queue_only) {
    log::info("delivery: queue_only: mail for other servers is kept in the queue, not sent");
  } else {
    asio::co_spawn(running.outbound_io, outbound.run(), asio::detached);
  }
  running.outbound_thread = std::thread([&io = running.outbound_io] { io.run(); });
  jmap::Dispatcher& jmap = running.jmap;
  jmap::add_core_methods(jmap);
  jmap::add_mail_methods(jmap, stored, config.hostname, learner);
  jmap::add_submission_methods(jmap, stored, directory, delivery);
  jmap.describe(
      jmap::kWebSocketCapability,
      boost::json::object{{"url", "wss://" + config.hostname + "/jmap/ws"}, {"supportsPush", true}},
      std::nullopt);
  running.http_services.emplace(http::Services{tls, directory, blocking, jmap, trail, stored,
                                               config.hostname, "https://" + config.hostname,
                                               config.http.metrics_accounts});
  if (!config.audit.alert_mail.empty()) {
    running.mail_alert = [&config, &delivery](const audit::Alert& alert) {
      mail_alert_to(config.audit.alert_mail, alert, config.hostname, delivery);
    };
  }
  return true;
}

}  // namespace

int serve(const std::filesystem::path& config_argument) {
  std::error_code error;
  const std::filesystem::path config_path = std::filesystem::absolute(config_argument, error);
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
  auto sinks = alert_sinks(*config);
  if (!sinks) {
    log::error(sinks.error().detail);
    return kExitFailure;
  }
  Running running;
  if (!config->audit.alert_mail.empty()) {
    sinks->push_back([&running](const audit::Alert& alert) {
      if (running.mail_alert) running.mail_alert(alert);
    });
  }
  auto identity = prepare_data_dir(*config);
  if (!identity) return kExitFailure;

  // SIGHUP: new connections get the certificate now in the files (a self-signed one is
  // renewed first when it is about to expire); open ones keep theirs.
  auto reload = [&running, &config, &config_path] {
    if (running.trail) {
      running.trail->record({.kind = audit::kConfig,
                             .actor = "system",
                             .protocol = "signal",
                             .detail = "SIGHUP: reload " + config_path.string()});
    }
    if (!running.tls) return;
    if (auto files = net::ensure_tls_files({config->tls.cert, config->tls.key}, config->data_dir,
                                           config->hostname);
        !files) {
      log::error("tls: " + files.error().detail);
    }
    auto reloaded = running.tls->reload();
    if (reloaded) {
      log::info("tls: certificate and key reloaded");
    } else {
      log::error("tls: reload failed, keeping the old certificate: " + reloaded.error().detail);
    }
  };
  net::Server server({.max_connections_per_ip = static_cast<int>(config->limits.connections_per_ip),
                      .on_reload = reload});
  if (!bind_listeners(server, *config, running) ||
      !drop_privileges(*config, config_path, *identity) ||
      !start_services(*config, config_path, *identity, std::move(*sinks), running)) {
    return kExitFailure;
  }
  log::info("ready");
  server.run();
  running.outbound_io.stop();
  if (running.outbound_thread.joinable()) running.outbound_thread.join();
  running.blocking->join();
  return kExitOk;
}

}  // namespace rampart::app
