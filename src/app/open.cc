#include "app/open.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <iostream>

#include "admin/api.h"
#include "admin/socket.h"
#include "directory/directory.h"
#include "dkim/signer.h"
#include "store/audit_log.h"

namespace rampart::app {

std::optional<Config> load_config_or_report(const std::filesystem::path& config_path) {
  auto config = load_config(config_path);
  if (!config) {
    std::cerr << "rampart: " << config.error().detail << "\n";
    return std::nullopt;
  }
  // Relative paths are taken from where rampart started, once, here.
  std::error_code error;
  for (std::filesystem::path* path :
       {&config->data_dir, &config->tls.cert, &config->tls.key, &config->admin_socket}) {
    if (!path->empty()) *path = std::filesystem::absolute(*path, error);
  }
  if (config->admin_socket.empty()) config->admin_socket = config->data_dir / "admin.sock";
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

std::optional<std::unique_ptr<store::Store>> open_store(const Config& config,
                                                        std::function<void()> on_reserve) {
  auto store = store::open_sqlite_store(
      {.data_dir = config.data_dir,
       .reserve_free_bytes = static_cast<std::uint64_t>(config.limits.reserve_free_mib) << 20,
       .on_reserve = std::move(on_reserve)});
  if (!store) {
    std::cerr << "rampart: cannot open the store in " << config.data_dir.string() << ": "
              << errc_name(store.error().code) << " (" << store.error().detail << ")\n";
    return std::nullopt;
  }
  return std::move(*store);
}

std::optional<boost::json::value> call_admin(const std::filesystem::path& config_path,
                                             const boost::json::object& request,
                                             const std::string& what) {
  namespace json = boost::json;
  auto config = load_config_or_report(config_path);
  if (!config) return std::nullopt;
  const std::string text = json::serialize(request);
  // As whoever ran the command: the server learns the caller from the socket.
  auto answer = admin::call_server(config->admin_socket, text);
  if (!answer) {
    std::cerr << "rampart: " << what << ": the admin socket " << config->admin_socket.string()
              << ": " << errc_name(answer.error().code) << " (" << answer.error().detail << ")\n";
    return std::nullopt;
  }
  if (!*answer) {
    // No server: the same API, here.
    const std::string caller =
        "uid " + std::to_string(::getuid()) + " pid " + std::to_string(::getpid());
    auto identity = prepare_data_dir(*config);
    if (!identity || !become_service_user(*identity, *config)) return std::nullopt;
    auto audit = store::open_sqlite_audit_log(config->data_dir);
    if (!audit) {
      std::cerr << "rampart: " << what << ": cannot open the audit trail in "
                << config->data_dir.string() << ": " << errc_name(audit.error().code) << " ("
                << audit.error().detail << ")\n";
      return std::nullopt;
    }
    auto store = open_store(*config);
    if (!store) return std::nullopt;
    directory::Directory directory(
        **store, nullptr, static_cast<std::uint64_t>(config->limits.default_quota_mib) << 20);
    dkim::KeyStore keys(config->data_dir / "dkim");
    admin::Api api(**store, directory, **audit, keys, *config);
    *answer = api.call(text, caller);
  }
  boost::system::error_code error;
  json::value parsed = json::parse(**answer, error);
  const json::object* object = error ? nullptr : parsed.if_object();
  if (!object || !object->contains("ok")) {
    std::cerr << "rampart: " << what << ": the server's answer is not one: " << **answer << "\n";
    return std::nullopt;
  }
  if (!object->at("ok").as_bool()) {
    const json::value* message = object->if_contains("message");
    std::cerr << "rampart: " << what << ": "
              << (message && message->is_string() ? std::string(message->get_string())
                                                  : std::string("failed"))
              << "\n";
    return std::nullopt;
  }
  const json::value* result = object->if_contains("result");
  return result ? *result : json::value(nullptr);
}

}  // namespace rampart::app
