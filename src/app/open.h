// Loading the config and opening the store the way every subcommand does; failures
// are printed as "rampart: ..." and returned as an empty result.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "base/config.h"
#include "store/store.h"

namespace rampart::app {

std::optional<Config> load_config_or_report(const std::filesystem::path& config_path);
std::optional<std::unique_ptr<store::Store>> open_store(const std::filesystem::path& config_path);
std::optional<std::unique_ptr<store::Store>> open_store(const Config& config);

}  // namespace rampart::app
