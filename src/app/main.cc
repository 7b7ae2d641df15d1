// rampart: the server and its admin command.
#include <CLI/CLI.hpp>

#include "app/commands.h"

int main(int argc, char** argv) {
  namespace app = rampart::app;
  CLI::App cli{"Rampart mail, calendar and contacts server"};
  cli.require_subcommand(1);
  std::filesystem::path config = "/etc/rampart/rampart.toml";
  auto add_config = [&config](CLI::App* command) {
    command->add_option("--config,-c", config, "configuration file (TOML)")->capture_default_str();
  };

  auto* serve = cli.add_subcommand("serve", "run the server");
  add_config(serve);
  auto* check = cli.add_subcommand("check-config", "check the configuration and exit");
  add_config(check);

  std::string name, target;
  auto* domain = cli.add_subcommand("domain", "manage the domains mail is accepted for");
  domain->require_subcommand(1);
  for (const char* verb : {"add", "remove"}) {
    auto* command = domain->add_subcommand(verb, std::string(verb) + " a domain");
    command->add_option("name", name, "domain name")->required();
    add_config(command);
  }
  add_config(domain->add_subcommand("list", "list the domains"));
  bool rotate = false;
  auto* domain_dkim = domain->add_subcommand(
      "dkim", "print a domain's DKIM records, making its keys if it has none");
  domain_dkim->add_option("name", name, "domain name")->required();
  domain_dkim->add_flag("--rotate", rotate, "make new keys with new selectors and sign with them");
  add_config(domain_dkim);
  auto* dns_records = cli.add_subcommand(
      "dns-records",
      "print the DNS records a domain publishes (MX, SPF, DKIM, DMARC, TLS-RPT, SRV)");
  dns_records->add_option("domain", name, "domain name")->required();
  add_config(dns_records);
  auto* route = cli.add_subcommand(
      "route", "show where mail for a domain goes: MX hosts, addresses, DNSSEC, TLSA");
  route->add_option("domain", name, "domain name")->required();
  add_config(route);

  auto* user = cli.add_subcommand("user", "manage accounts");
  user->require_subcommand(1);
  for (const auto& [verb, help] :
       {std::pair{"add", "add an account (password from standard input or a prompt)"},
        std::pair{"passwd", "set an account's password (standard input or a prompt)"},
        std::pair{"remove", "remove an account and all its mail"}}) {
    auto* command = user->add_subcommand(verb, help);
    command->add_option("address", name, "local@domain")->required();
    add_config(command);
  }
  std::string size;
  auto* user_quota = user->add_subcommand("quota", "set an account's storage quota");
  user_quota->add_option("address", name, "local@domain")->required();
  user_quota->add_option("size", size, "bytes, with K, M, G or T; 0 or none: no limit")->required();
  add_config(user_quota);
  std::string device;
  auto* app_password = user->add_subcommand("app-password", "manage per-device app passwords");
  app_password->require_subcommand(1);
  for (const auto& [verb, help] :
       {std::pair{"add", "make a new app password for a device and print it once"},
        std::pair{"remove", "revoke a device's app password"}}) {
    auto* command = app_password->add_subcommand(verb, help);
    command->add_option("address", name, "local@domain")->required();
    command->add_option("device", device, "the device's name, e.g. phone")->required();
    add_config(command);
  }
  auto* app_password_list = app_password->add_subcommand("list", "list an account's app passwords");
  app_password_list->add_option("address", name, "local@domain")->required();
  add_config(app_password_list);
  auto* user_list = user->add_subcommand("list", "list accounts");
  user_list->add_option("domain", name, "only this domain");
  add_config(user_list);

  auto* alias = cli.add_subcommand("alias", "manage aliases (local@domain or @domain)");
  alias->require_subcommand(1);
  auto* alias_add = alias->add_subcommand("add", "add an alias for an account or alias");
  alias_add->add_option("address", name, "alias address, or @domain for a catch-all")->required();
  alias_add->add_option("target", target, "where its mail goes")->required();
  add_config(alias_add);
  auto* alias_remove = alias->add_subcommand("remove", "remove an alias");
  alias_remove->add_option("address", name, "alias address")->required();
  add_config(alias_remove);
  auto* alias_list = alias->add_subcommand("list", "list aliases");
  alias_list->add_option("domain", name, "only this domain");
  add_config(alias_list);

  auto* queue = cli.add_subcommand("queue", "inspect and manage the outbound queue");
  queue->require_subcommand(1);
  add_config(queue->add_subcommand("list", "list queued messages"));
  std::int64_t queue_id = 0;
  for (const auto& [verb, help] :
       {std::pair{"show", "show one queued message and its recipients' state"},
        std::pair{"hold", "keep a queued message from being sent until released"},
        std::pair{"release", "let a held message be sent again"},
        std::pair{"remove", "remove a queued message unsent"}}) {
    auto* command = queue->add_subcommand(verb, help);
    command->add_option("id", queue_id, "queue id (from rampart queue list)")->required();
    add_config(command);
  }
  auto* queue_retry = queue->add_subcommand("retry", "make one waiting message, or all, due now");
  queue_retry->add_option("id", queue_id, "queue id; without it, every message not held");
  add_config(queue_retry);

  app::AuditQuery audit_query;
  auto* audit = cli.add_subcommand("audit", "query the audit trail (newest records, oldest first)");
  audit->add_option("--account", audit_query.account, "only this account");
  audit->add_option("--address", audit_query.address, "only this client address");
  audit->add_option("--kind", audit_query.kind,
                    "only this kind: login, login-failed, open, read, change, expunge, delivery, "
                    "admin, config or alert");
  audit->add_option("--since", audit_query.since,
                    "from YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z (UTC) or an age: 90m, 7d");
  audit->add_option("--until", audit_query.until, "to, in the same forms");
  audit->add_option("--limit", audit_query.limit, "at most this many records")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  audit->add_flag("--json", audit_query.json, "a JSON array instead of tab-separated lines");
  add_config(audit);
  audit->require_subcommand(0, 1);
  auto* audit_verify =
      audit->add_subcommand("verify", "check the hash chain and print its head hash");
  add_config(audit_verify);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return cli.exit(help);
  } catch (const CLI::ParseError& error) {
    cli.exit(error);
    return app::kExitUsage;
  }

  if (serve->parsed()) return app::serve(config);
  if (check->parsed()) return app::check_config(config);
  auto verb_of = [](CLI::App* group) { return group->get_subcommands().front()->get_name(); };
  if (domain_dkim->parsed()) return app::dns_records_command(config, name, true, rotate);
  if (route->parsed()) return app::route_command(config, name);
  if (dns_records->parsed()) return app::dns_records_command(config, name, false, false);
  if (domain->parsed()) return app::domain_command(config, verb_of(domain), name);
  if (user_quota->parsed()) return app::quota_command(config, name, size);
  if (app_password->parsed()) {
    return app::app_password_command(config, verb_of(app_password), name, device);
  }
  if (user->parsed()) return app::user_command(config, verb_of(user), name);
  if (alias->parsed()) return app::alias_command(config, verb_of(alias), name, target);
  if (queue->parsed()) return app::queue_command(config, verb_of(queue), queue_id);
  if (audit_verify->parsed()) return app::audit_verify_command(config);
  if (audit->parsed()) return app::audit_command(config, audit_query);
  return app::kExitUsage;
}
