#include "base/config.h"

#include <gtest/gtest.h>

namespace rampart {
namespace {

TEST(Config, ReadsEveryDocumentedKey) {
  auto config = parse_config(R"(
data_dir = "/srv/mail"
hostname = "mail.example.org"
log_level = "debug"
user = "mail"
admin_socket = "/run/rampart/admin.sock"
[listen]
smtp = ["0.0.0.0:25"]
submission = ["127.0.0.1:587", "[::1]:587"]
submissions = ["0.0.0.0:465"]
imap = ["0.0.0.0:143"]
imaps = ["0.0.0.0:993"]
pop3 = ["0.0.0.0:110"]
pop3s = ["0.0.0.0:995"]
managesieve = ["0.0.0.0:4190"]
http = ["0.0.0.0:80"]
https = ["0.0.0.0:443"]
[limits]
connections_per_ip = 500
[audit]
alert_webhook = "http://127.0.0.1:9000/alerts"
alert_mail = "postmaster@example.org"
bulk_read_messages = 50
mass_delete_messages = 10
failed_logins = 5
window_seconds = 60
[delivery]
resolvers = ["127.0.0.1", "127.0.0.3:5353", "::1", "[::1]:5353"]
trust_anchor = "/etc/rampart/anchor.key"
queue_only = true
ca_file = "/etc/rampart/ca.pem"
max_connections = 20
max_connections_per_domain = 4
give_up = "2d"
delay_notice = "0s"
retry_first = "90s"
retry_max = "2h"
tls_report_period = "1h"
report_from = "tls-reports@example.org"
[delivery.domains."Partner.Example"]
require_tls = true
dane = "off"
[tls]
cert = "/etc/rampart/cert.pem"
key = "/etc/rampart/key.pem"
)",
                             "test.toml");
  ASSERT_TRUE(config) << config.error().detail;
  EXPECT_EQ(config->data_dir, "/srv/mail");
  EXPECT_EQ(config->hostname, "mail.example.org");
  EXPECT_EQ(config->log_level, log::Level::Debug);
  EXPECT_EQ(config->user, "mail");
  EXPECT_EQ(config->admin_socket, "/run/rampart/admin.sock");
  ASSERT_EQ(config->listen.submission.size(), 2u);
  EXPECT_EQ(config->listen.submission[1].address, "::1");
  EXPECT_EQ(config->listen.submission[1].port, 587);
  EXPECT_EQ(config->listen.submission[1].text(), "[::1]:587");
  EXPECT_EQ(config->listen.https[0].port, 443);
  EXPECT_EQ(config->listen.pop3s[0].port, 995);
  EXPECT_EQ(config->listen.managesieve[0].port, 4190);
  EXPECT_EQ(config->tls.key, "/etc/rampart/key.pem");
  EXPECT_EQ(config->limits.connections_per_ip, 500);
  EXPECT_EQ(config->audit.alert_webhook, "http://127.0.0.1:9000/alerts");
  EXPECT_EQ(config->audit.alert_mail, "postmaster@example.org");
  EXPECT_EQ(config->audit.bulk_read_messages, 50);
  EXPECT_EQ(config->audit.mass_delete_messages, 10);
  EXPECT_EQ(config->audit.failed_logins, 5);
  EXPECT_EQ(config->audit.window_seconds, 60);
  ASSERT_EQ(config->delivery.resolvers.size(), 4u);
  EXPECT_EQ(config->delivery.resolvers[0].text(), "127.0.0.1:53");
  EXPECT_EQ(config->delivery.resolvers[1].text(), "127.0.0.3:5353");
  EXPECT_EQ(config->delivery.resolvers[2].text(), "[::1]:53");
  EXPECT_EQ(config->delivery.resolvers[3].text(), "[::1]:5353");
  EXPECT_EQ(config->delivery.trust_anchor, "/etc/rampart/anchor.key");
  EXPECT_TRUE(config->delivery.queue_only);
  EXPECT_EQ(config->delivery.ca_file, "/etc/rampart/ca.pem");
  EXPECT_EQ(config->delivery.max_connections, 20);
  EXPECT_EQ(config->delivery.max_connections_per_domain, 4);
  EXPECT_EQ(config->delivery.give_up, 2 * 86400);
  EXPECT_EQ(config->delivery.delay_notice, 0);
  EXPECT_EQ(config->delivery.retry_first, 90);
  EXPECT_EQ(config->delivery.retry_max, 7200);
  EXPECT_EQ(config->delivery.tls_report_period, 3600);
  EXPECT_EQ(config->delivery.report_from, "tls-reports@example.org");
  ASSERT_EQ(config->delivery.domains.size(), 1u);
  EXPECT_EQ(config->delivery.domains[0].name, "partner.example");
  EXPECT_TRUE(config->delivery.domains[0].require_tls);
  EXPECT_FALSE(config->delivery.domains[0].dane);
}

TEST(Config, RefusesResolversThatAreNotAddresses) {
  for (const char* line :
       {"resolvers = [\"dns.example\"]", "resolvers = [\"unix:/run/dns\"]",
        "resolvers = \"127.0.0.1\"", "resolver = [\"127.0.0.1\"]", "max_connections = 0",
        "give_up = 5", "give_up = \"5w\"", "retry_first = \"0s\"", "retry_max = \"h\"",
        "delay_notice = \"-1h\"", "report_from = \"postmaster\"", "give_up = \"99999999999d\"",
        "domains.\"x.example\".dane = \"no\"", "domains.\"x.example\".require_tls = 1",
        "domains.\"x.example\".tls = \"dane\"", "domains = 1"}) {
    auto config = parse_config(std::string("[delivery]\n") + line, "t.toml");
    ASSERT_FALSE(config) << line;
    EXPECT_NE(config.error().detail.find("t.toml:2: delivery."), std::string::npos)
        << config.error().detail;
  }
}

TEST(Config, ReadsTheRspamdSettings) {
  auto config = parse_config(R"([filter]
rspamd_url = "http://127.0.0.1:11333"
rspamd_controller_url = "http://[::1]:11334/"
rspamd_password = "q1"
rspamd_timeout = "30s"
rspamd_max_size_mib = 5
rspamd_accept_unscanned = false
arc_trusted_sealers = ["Lists.Example.org"]
)",
                             "t.toml");
  ASSERT_TRUE(config) << config.error().detail;
  ASSERT_TRUE(config->filter.rspamd);
  EXPECT_EQ(config->filter.rspamd->text(), "127.0.0.1:11333");
  ASSERT_TRUE(config->filter.rspamd_controller);
  EXPECT_EQ(config->filter.rspamd_controller->text(), "[::1]:11334");
  EXPECT_EQ(config->filter.rspamd_password, "q1");
  EXPECT_EQ(config->filter.rspamd_timeout, 30);
  EXPECT_EQ(config->filter.rspamd_max_size_mib, 5);
  EXPECT_FALSE(config->filter.rspamd_accept_unscanned);
  EXPECT_EQ(config->filter.arc_trusted_sealers, std::vector<std::string>{"lists.example.org"});
  auto defaults = parse_config("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->filter.rspamd);
  EXPECT_TRUE(defaults->filter.rspamd_accept_unscanned);
}

TEST(Config, RefusesRspamdUrlsThatAreNotAnAddressAndPort) {
  for (const char* line :
       {"rspamd_url = \"https://127.0.0.1:11333\"", "rspamd_url = \"http://rspamd.local:11333\"",
        "rspamd_url = \"http://127.0.0.1\"", "rspamd_url = \"127.0.0.1:11333\"",
        "rspamd_controller_url = \"http://127.0.0.1:11334/learn\"", "rspamd_max_size_mib = 0",
        "rspamd_timeout = 15", "rspamd_password = \"a\\nb\"", "rspamd_url = 1",
        "arc_trusted_sealers = \"a.example\"", "arc_trusted_sealers = [\"a@b.example\"]"}) {
    auto config = parse_config(std::string("[filter]\n") + line, "t.toml");
    ASSERT_FALSE(config) << line;
    EXPECT_NE(config.error().detail.find("t.toml:2: filter."), std::string::npos)
        << config.error().detail;
  }
}

TEST(Config, RefusesBadAuditSettings) {
  for (const char* line :
       {"alert_webhook = \"https://relay/x\"", "failed_logins = 0", "window_seconds = \"1h\"",
        "alerts = true", "alert_mail = \"postmaster\""}) {
    auto config = parse_config(std::string("[audit]\n") + line, "t.toml");
    ASSERT_FALSE(config) << line;
    EXPECT_NE(config.error().detail.find("t.toml:2: audit."), std::string::npos)
        << config.error().detail;
  }
  EXPECT_EQ(parse_config("", "t.toml")->audit.failed_logins, 20);
}

TEST(Config, RefusesToServeAsRoot) {
  auto config = parse_config("user = \"root\"\n", "t.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail, "t.toml:1: user: the server does not serve as root");
  EXPECT_EQ(parse_config("", "t.toml")->user, "rampart");
}

TEST(Config, RefusesAConnectionLimitOutOfRange) {
  for (const char* value : {"0", "-1", "\"many\"", "2000000"}) {
    auto config = parse_config(std::string("[limits]\nconnections_per_ip = ") + value, "t.toml");
    ASSERT_FALSE(config) << value;
    EXPECT_NE(config.error().detail.find("t.toml:2: limits.connections_per_ip"), std::string::npos)
        << config.error().detail;
  }
}

TEST(Config, UnixSocketEndpoints) {
  auto config = parse_config("[listen]\nlmtp = [\"unix:/run/rampart/lmtp.sock\"]\n", "t.toml");
  ASSERT_TRUE(config) << config.error().detail;
  EXPECT_EQ(config->listen.lmtp[0].unix_path, "/run/rampart/lmtp.sock");
  EXPECT_EQ(config->listen.lmtp[0].text(), "unix:/run/rampart/lmtp.sock");
  EXPECT_FALSE(parse_config("[listen]\nlmtp = [\"unix:relative\"]\n", "t.toml"));
  EXPECT_FALSE(parse_config("[listen]\nlmtp = [\"unix:\"]\n", "t.toml"));
}

TEST(Config, MissingListenKeyMeansServiceOff) {
  auto config = parse_config("[listen]\nimap = [\"127.0.0.1:2143\"]\n", "t.toml");
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->listen.smtp.empty());
  EXPECT_EQ(config->listen.imap.size(), 1u);
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  auto config = parse_config("hostname = \"a\"\n\n[listen]\nimapz = [\"1.2.3.4:1\"]\n", "f.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail, "f.toml:4: listen.imapz: unknown key");
}

TEST(Config, WrongTypeIsAnError) {
  auto config = parse_config("hostname = 5\n", "f.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail, "f.toml:1: hostname: expected a string");
}

TEST(Config, BadPortIsAnError) {
  for (const char* bad :
       {"1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4", ":25", "1.2.3.4:2x", "[::1]25"}) {
    auto config = parse_config(std::string("[listen]\nsmtp = [\"") + bad + "\"]\n", "f.toml");
    ASSERT_FALSE(config) << bad;
    EXPECT_NE(config.error().detail.find("f.toml:2: listen.smtp:"), std::string::npos)
        << config.error().detail;
  }
}

TEST(Config, TomlSyntaxErrorNamesTheLine) {
  auto config = parse_config("hostname = \"a\"\ndata_dir = \n", "f.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail.rfind("f.toml:2: ", 0), 0u) << config.error().detail;
}

TEST(Config, CertWithoutKeyIsAnError) {
  auto config = parse_config("[tls]\ncert = \"/c.pem\"\n", "f.toml");
  ASSERT_FALSE(config);
}

TEST(Config, UnreadableFileIsAnError) {
  auto config = load_config("/nonexistent/rampart.toml");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().detail.find("/nonexistent/rampart.toml"), std::string::npos);
}

}  // namespace
}  // namespace rampart
