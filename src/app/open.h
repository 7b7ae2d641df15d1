// What every subcommand does before it touches the store: load the config, make the
// data directory and, when started as root, become the service user. Failures
// are printed as "rampart: ..." and returned as an empty result.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "base/config.h"
#include "base/confine.h"
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

// The store in data_dir, with the free-space reserve of limits.reserve_free_mib;
// `on_reserve` is called when a write is refused for it.
std::optional<std::unique_ptr<store::Store>> open_store(const Config& config,
                                                        std::function<void()> on_reserve = {});

// One admin API call (admin/api.h) for a subcommand: sent to the running server's admin
// socket, or, with no server running, run in-process on the store as the service
// user. Returns the call's result; on failure prints "rampart: WHAT: why" and returns
// nothing.
std::optional<boost::json::value> call_admin(const std::filesystem::path& config_path,
                                             const boost::json::object& request,
                                             const std::string& what);

}  // namespace rampart::app
