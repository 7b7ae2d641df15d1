// The `rampart` subcommands. Each returns the process exit status and prints its own
// errors as "rampart: <what went wrong>" on standard error.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace rampart::app {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int serve(const std::filesystem::path& config_path);
int check_config(const std::filesystem::path& config_path);

// Admin commands on the directory. `what` is the verb (add, list, remove, passwd).
int domain_command(const std::filesystem::path& config_path, const std::string& verb,
                   const std::string& name);
int user_command(const std::filesystem::path& config_path, const std::string& verb,
                 const std::string& address);
// `size` is bytes with an optional K, M, G or T suffix (powers of 1024); 0 or "none"
// removes the limit.
int quota_command(const std::filesystem::path& config_path, const std::string& address,
                  const std::string& size);
int app_password_command(const std::filesystem::path& config_path, const std::string& verb,
                         const std::string& address, const std::string& device);
int alias_command(const std::filesystem::path& config_path, const std::string& verb,
                  const std::string& address, const std::string& target);

// `rampart queue list|show ID|hold ID|release ID|remove ID|retry [ID]`; `id` 0: none.
int queue_command(const std::filesystem::path& config_path, const std::string& verb,
                  std::int64_t id);
// `rampart dns-records DOMAIN` (every record) and `rampart domain dkim DOMAIN [--rotate]`
// (the DKIM records only), in zone file form.
// `rampart route DOMAIN`: where mail for DOMAIN would go (docs/delivery.md).
int route_command(const std::filesystem::path& config_path, const std::string& domain);
int dns_records_command(const std::filesystem::path& config_path, const std::string& domain,
                        bool dkim_only, bool rotate);

// `rampart audit`: the newest `limit` records that match, oldest first.
struct AuditQuery {
  std::string account, address, kind;
  std::string since, until;  // "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]Z" or an age: "90m", "7d"
  std::size_t limit = 100;
  bool json = false;
};
int audit_command(const std::filesystem::path& config_path, const AuditQuery& query);
// Checks the hash chain; prints the record count and the head hash.
int audit_verify_command(const std::filesystem::path& config_path);

}  // namespace rampart::app
