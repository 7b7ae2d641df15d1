// Process-wide metrics for /metrics (Prometheus text format 0.0.4). A metric is made
// on first use and lives for the process; updating it is one relaxed atomic add, so
// hot paths keep the reference (a static or a member) and never look it up again.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::metrics {

enum class Type { Counter, Gauge };

class Metric {
 public:
  void add(std::int64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// `name{labels}`, e.g. get("rampart_logins_total", Type::Counter, "Logins.",
// R"(protocol="imap",result="success")"). A name keeps the type and help it was first
// registered with.
Metric& get(std::string_view name, Type type, std::string_view help, std::string_view labels = {});

// `value` as one label value: backslash, quote and line end escaped.
std::string label(std::string_view value);

// Every registered metric, grouped by name with its HELP and TYPE lines.
std::string render();

// One more family computed at scrape time, in the same format.
std::string family(std::string_view name, Type type, std::string_view help, double value,
                   std::string_view labels = {});

}  // namespace rampart::metrics
