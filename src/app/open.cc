#include "app/open.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>

#include "audit/trail.h"
#include "base/ascii.h"

namespace rampart::app {

std::optional<Config> load_config_or_report(const std::filesystem::path& config_path) {
  auto config = load_config(config_path);
  if (!config) {
    std::cerr << "rampart: " << config.error().detail << "\n";
    return std::nullopt;
  }
  // Relative paths are taken from where rampart started, once, here.
  std::error_code error;
  for (std::filesystem::path* path : {&config->data_dir, &config->tls.cert, &config->tls.key}) {
    if (!path->empty()) *path = std::filesystem::absolute(*path, error);
  }
  return std::move(*config);
}

std::optional<Identity> prepare_data_dir(const Config& config) {
  Identity identity;
  if (::geteuid() == 0) {
    auto user = confine::find_user(config.user);
    if (!user) {
      std::cerr << "rampart: started as root, and the service user " << config.user
                << " does not exist: create it (scripts/setup does) or set `user` in the config\n";
      return std::nullopt;
    }
    identity.service_user = std::move(*user);
  }
  std::error_code error;
  std::filesystem::create_directories(config.data_dir, error);
  if (error) {
    std::cerr << "rampart: cannot create data_dir " << config.data_dir << ": " << error.message()
              << "\n";
    return std::nullopt;
  }
  // The data directory holds every mailbox: nobody else may read it, or what is made in it.
  ::chmod(config.data_dir.c_str(), 0700);
  ::umask(077);
  if (identity.service_user) {
    const confine::ServiceUser& user = *identity.service_user;
    struct stat status {};
    if (::stat(config.data_dir.c_str(), &status) == 0 && status.st_uid != user.uid) {
      std::cerr << "rampart: giving " << config.data_dir.string() << " to user " << user.name
                << "\n";
      if (auto given = confine::give_tree(config.data_dir, user); !given) {
        std::cerr << "rampart: " << given.error().detail << "\n";
        return std::nullopt;
      }
    }
  }
  return identity;
}

bool become_service_user(const Identity& identity, const Config& config) {
  if (!identity.service_user) return true;
  const std::string& name = identity.service_user->name;
  if (auto became = confine::become(*identity.service_user); !became) {
    std::cerr << "rampart: cannot become user " << name << ": " << became.error().detail << "\n";
    return false;
  }
  if (::access(config.data_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    std::cerr << "rampart: user " << name << " cannot use data_dir " << config.data_dir.string()
              << " (" << std::strerror(errno) << "): every directory above it must let " << name
              << " pass (o+x), or choose a data_dir such as /var/lib/rampart\n";
    return false;
  }
  return true;
}

std::optional<std::unique_ptr<store::Store>> open_store(const Config& config) {
  auto store = store::open_sqlite_store({.data_dir = config.data_dir});
  if (!store) {
    std::cerr << "rampart: cannot open the store in " << config.data_dir.string() << ": "
              << errc_name(store.error().code) << " (" << store.error().detail << ")\n";
    return std::nullopt;
  }
  return std::move(*store);
}

std::optional<Admin> open_admin(const std::filesystem::path& config_path, const std::string& action,
                                const std::string& account) {
  // Who ran the command, before root is left.
  const uid_t uid = ::getuid();
  std::string who = "uid " + std::to_string(uid);
  if (const passwd* entry = ::getpwuid(uid)) who = entry->pw_name;
  auto config = load_config_or_report(config_path);
  if (!config) return std::nullopt;
  auto identity = prepare_data_dir(*config);
  if (!identity || !become_service_user(*identity, *config)) return std::nullopt;
  auto audit = store::open_sqlite_audit_log(config->data_dir);
  if (!audit) {
    std::cerr << "rampart: cannot open the audit trail in " << config->data_dir.string() << ": "
              << errc_name(audit.error().code) << " (" << audit.error().detail << ")\n";
    return std::nullopt;
  }
  const store::AuditEvent event{.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count(),
                                .kind = audit::kAdmin,
                                .account = lowercase(account),
                                .actor = audit::kAdminActor,
                                .protocol = "cli",
                                .detail = action + " (by " + who + ")"};
  if (auto recorded = (*audit)->append({event}); !recorded) {
    std::cerr << "rampart: cannot record the action in the audit trail: "
              << errc_name(recorded.error().code) << " (" << recorded.error().detail << ")\n";
    return std::nullopt;
  }
  auto store = open_store(*config);
  if (!store) return std::nullopt;
  return Admin{std::move(*store), std::move(*audit)};
}

}  // namespace rampart::app
