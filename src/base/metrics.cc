#include "base/metrics.h"

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

namespace rampart::metrics {
namespace {

struct Family {
  Type type = Type::Counter;
  std::string help;
  std::map<std::string, std::unique_ptr<Metric>, std::less<>> series;  // by labels
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Family, std::less<>> families;
};

Registry& registry() {
  static Registry* instance = new Registry();  // never destroyed: metrics outlive statics
  return *instance;
}

std::string header(std::string_view name, Type type, std::string_view help) {
  return "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) +
         (type == Type::Counter ? " counter\n" : " gauge\n");
}

std::string sample(std::string_view name, std::string_view labels, const std::string& value) {
  std::string out(name);
  if (!labels.empty()) out += "{" + std::string(labels) + "}";
  return out + " " + value + "\n";
}

}  // namespace

Metric& get(std::string_view name, Type type, std::string_view help, std::string_view labels) {
  Registry& all = registry();
  std::lock_guard lock(all.mutex);
  auto family = all.families.find(name);
  if (family == all.families.end()) {
    family = all.families.emplace(std::string(name), Family{type, std::string(help), {}}).first;
  }
  auto& series = family->second.series[std::string(labels)];
  if (!series) series = std::make_unique<Metric>();
  return *series;
}

std::string label(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string render() {
  Registry& all = registry();
  std::lock_guard lock(all.mutex);
  std::string out;
  for (const auto& [name, family] : all.families) {
    out += header(name, family.type, family.help);
    for (const auto& [labels, metric] : family.series) {
      out += sample(name, labels, std::to_string(metric->value()));
    }
  }
  return out;
}

std::string family(std::string_view name, Type type, std::string_view help, double value,
                   std::string_view labels) {
  char number[64];
  std::snprintf(number, sizeof number, "%.17g", value);
  return header(name, type, help) + sample(name, labels, number);
}

}  // namespace rampart::metrics
