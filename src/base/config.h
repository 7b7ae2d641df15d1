// The server's configuration: one TOML file, documented in docs/config.md.
// Parsing is strict: an unknown key, a value of the wrong type or a bad address is an
// error naming the file, the line and the key, and the server refuses to start on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "base/result.h"

namespace rampart {

// "address:port", "[v6]:port", or "unix:/absolute/path" for a Unix-domain socket.
struct Endpoint {
  std::string address;
  std::uint16_t port = 0;
  std::filesystem::path unix_path;  // set for a Unix socket; address and port unused
  std::string text() const;
};

struct Config {
  std::filesystem::path data_dir = "/var/lib/rampart";
  std::string hostname = "localhost";
  log::Level log_level = log::Level::Info;  // "debug", "info", "warn" or "error"
  // Started as root, `rampart` binds its ports, then runs as this user (never root).
  std::string user = "rampart";
  // The admin API's Unix socket (only root and `user` may connect); empty:
  // data_dir/admin.sock.
  std::filesystem::path admin_socket;

  // Each list empty = that service off.
  struct Listen {
    std::vector<Endpoint> smtp, submission, submissions, lmtp, imap, imaps, pop3, pop3s,
        managesieve, http, https;
  } listen;

  struct Limits {
    // Connections one address may hold open, over all listeners (Unix sockets count
    // as one address); the next are closed at once.
    std::int64_t connections_per_ip = 100;
    // The quota a new account gets, in MiB; 0: none.
    std::int64_t default_quota_mib = 10240;
    // Below this much free space (MiB) on the data directory's file system, deliveries
    // and appends are refused with a temporary error, so the audit trail and the
    // database keep room to write.
    std::int64_t reserve_free_mib = 128;
    // What the messages being received over SMTP may hold together, in MiB, beyond the
    // first MiB of each; past it a sender is told 421 4.3.2 to come back later.
    std::int64_t message_memory_mib = 512;
  } limits;

  // The audit trail's alerts (docs/security.md, "Audit trail").
  struct Audit {
    std::string alert_webhook;                // "http://host[:port]/path"; empty: no webhook
    std::string alert_mail;                   // an address each alert is mailed to; empty: none
    std::int64_t bulk_read_messages = 1000;   // messages read by one account per window
    std::int64_t mass_delete_messages = 200;  // messages expunged by one account per window
    std::int64_t failed_logins = 20;          // per account or per address per window
    std::int64_t window_seconds = 600;
  } audit;

  struct Http {
    // Accounts that may read /metrics (Basic or a bearer token); empty: nobody.
    std::vector<std::string> metrics_accounts;
    // Seconds a client has to send a whole request header (slow-drip clients).
    std::int64_t header_timeout = 30;
  } http;

  // Mail for other servers (docs/delivery.md).
  struct Delivery {
    // DNS servers queries are forwarded to, port 53 unless given; empty: those of
    // /etc/resolv.conf.
    std::vector<Endpoint> resolvers;
    // DNSSEC trust anchors (DS or DNSKEY records in zone file form) used instead of the
    // root key (Debian's dns-root-data); for test zones of one's own.
    std::filesystem::path trust_anchor;
    // Mail for other servers is queued and not sent (as Exim's queue_only): while
    // moving in, or when another server is to send it.
    bool queue_only = false;
    // PEM trust anchors for checking other servers' certificates (MTA-STS, require_tls)
    // instead of the system's (/etc/ssl/certs).
    std::filesystem::path ca_file;
    // Connections open to other servers at once, in all and per destination domain.
    std::int64_t max_connections = 100;
    std::int64_t max_connections_per_domain = 20;
    // Seconds ("5d", "4h", "30m", "10s" in the file): a recipient still waiting after
    // `give_up` fails; the sender is told it is late (a delay DSN) after `delay_notice`
    // (0: never); retries come `retry_first` after the first attempt, doubling up to
    // `retry_max` apart.
    std::int64_t give_up = 5 * 24 * 3600;
    std::int64_t delay_notice = 4 * 3600;
    std::int64_t retry_first = 300;
    std::int64_t retry_max = 4 * 3600;
    // SMTP TLS reports (RFC 8460) to the domains mail went to: the period each covers
    // ("0s": none), and the address they come from (empty: postmaster@ the domain of
    // `hostname`).
    std::int64_t tls_report_period = 24 * 3600;
    std::string report_from;
    // Per destination domain ([delivery.domains."example.com"]).
    struct Domain {
      std::string name;          // lowercase
      bool require_tls = false;  // TLS with a certificate trusted and naming the MX host
      bool dane = true;          // "off": TLSA records of its MX hosts are not used
    };
    std::vector<Domain> domains;
  } delivery;

  // What the MX checks of mail from other servers (docs/filtering.md).
  struct Filter {
    // SPF, DKIM and DMARC, reported in Authentication-Results; DMARC's reject refused and
    // its quarantine put in Junk.
    bool sender_checks = true;
    // The Public Suffix List for DMARC's organizational domains (Debian's publicsuffix).
    std::filesystem::path public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";
    // clamd's Unix socket (empty: no virus scanning), how long a scan may take (seconds),
    // and whether mail is accepted unscanned when clamd cannot answer (else 451).
    std::filesystem::path clamav_socket;
    std::int64_t clamav_timeout = 30;
    bool clamav_accept_unscanned = false;
    // rspamd's normal worker ("http://IP:port"; absent: no spam filtering) and controller
    // (absent: no learning from Junk), the controller's password, how long one exchange
    // may take (seconds), the largest message scanned (MiB), and whether a message that
    // is not scanned (rspamd down, slow, the message too big) is accepted (else 451).
    std::optional<Endpoint> rspamd, rspamd_controller;
    std::string rspamd_password;
    std::int64_t rspamd_timeout = 15;
    std::int64_t rspamd_max_size_mib = 20;
    bool rspamd_accept_unscanned = true;
    // Forwarders (mailing lists, other hops) whose ARC seal this server trusts: a message
    // failing DMARC whose chain passes, sealed last by one of these domains, which
    // recorded dmarc=pass, is not refused or put in Junk for it (lowercase).
    std::vector<std::string> arc_trusted_sealers;
  } filter;

  // Both empty: a self-signed pair is made in data_dir on first start.
  struct Tls {
    std::filesystem::path cert, key;
  } tls;
};

// `source_name` is what error messages call the text (usually its path).
Result<Config> parse_config(std::string_view text, std::string_view source_name);
Result<Config> load_config(const std::filesystem::path& path);
Result<Endpoint> parse_endpoint(std::string_view text);

}  // namespace rampart
