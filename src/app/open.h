// What every subcommand does before it touches the store: load the config, make the
// data directory and, when started as root, become the service user. Failures
// are printed as "rampart: ..." and returned as an empty result.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "base/config.h"
#include "base/confine.h"
#include "store/audit_log.h"
#include "store/store.h"

namespace rampart::app {

std::optional<Config> load_config_or_report(const std::filesystem::path& config_path);

// Who the process is to become, found by enter_data_dir.
struct Identity {
  // Set when started as root: the configured service user (an error when absent).
  std::optional<confine::ServiceUser> service_user;
};

// Makes data_dir (0700) if absent. As root, a data_dir that belongs to someone else
// (made by an earlier root run) is given, with everything in it, to the service user.
std::optional<Identity> prepare_data_dir(const Config& config);

// Started as root: becomes the service user for good, and checks that it can use
// data_dir (every directory above it must let that user pass). Otherwise does nothing.
bool become_service_user(const Identity& identity, const Config& config);

std::optional<std::unique_ptr<store::Store>> open_store(const Config& config);

// What an admin subcommand works on.
struct Admin {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::AuditLog> audit;
};

// All of the above, for the admin subcommands; then records `action` (never a secret:
// "user passwd a@example.org", not the password) in the audit trail as an admin action
// on `account`. No admin action goes unrecorded: when the trail cannot take it,
// nothing is opened.
std::optional<Admin> open_admin(const std::filesystem::path& config_path, const std::string& action,
                                const std::string& account = {});

}  // namespace rampart::app
