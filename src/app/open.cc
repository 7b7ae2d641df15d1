#include "app/open.h"

#include <sys/stat.h>

#include <iostream>

namespace rampart::app {

std::optional<Config> load_config_or_report(const std::filesystem::path& config_path) {
  auto config = load_config(config_path);
  if (!config) {
    std::cerr << "rampart: " << config.error().detail << "\n";
    return std::nullopt;
  }
  return std::move(*config);
}

std::optional<std::unique_ptr<store::Store>> open_store(const Config& config) {
  std::error_code error;
  std::filesystem::create_directories(config.data_dir, error);
  if (error) {
    std::cerr << "rampart: cannot create data_dir " << config.data_dir << ": " << error.message()
              << "\n";
    return std::nullopt;
  }
  // The data directory holds every mailbox: nobody else may read it.
  ::chmod(config.data_dir.c_str(), 0700);
  auto store = store::open_sqlite_store({.data_dir = config.data_dir});
  if (!store) {
    std::cerr << "rampart: cannot open the store in " << config.data_dir << ": "
              << errc_name(store.error().code) << " (" << store.error().detail << ")\n";
    return std::nullopt;
  }
  return std::move(*store);
}

std::optional<std::unique_ptr<store::Store>> open_store(const std::filesystem::path& config_path) {
  auto config = load_config_or_report(config_path);
  if (!config) return std::nullopt;
  return open_store(*config);
}

}  // namespace rampart::app
