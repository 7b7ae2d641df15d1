// Process-wide metrics for /metrics (Prometheus text format 0.0.4). A metric is made
// on first use and lives for the process; updating it is one relaxed atomic add, so
// hot paths keep the reference (a static or a member) and never look it up again.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
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

// Up to N metrics of one family for a hot path whose labels take a few values known in
// advance (an HTTP status, a login outcome): slot `index` is registered through get()
// on its first use and kept, so later uses are one atomic load, not a locked lookup.
// `labels()` makes the slot's labels, called on a slot's first use only; an index of N
// or more is not kept and takes get() each time. Safe from any thread.
template <std::size_t N>
class Slots {
 public:
  Slots(std::string_view name, Type type, std::string_view help)
      : name_(name), type_(type), help_(help) {}

  template <class MakeLabels>
  Metric& at(std::size_t index, MakeLabels labels) {
    if (index >= N) return get(name_, type_, help_, labels());
    Metric* metric = slots_[index].load(std::memory_order_acquire);
    if (!metric) {
      // Two first uses at once both find the same metric: get() is idempotent.
      metric = &get(name_, type_, help_, labels());
      slots_[index].store(metric, std::memory_order_release);
    }
    return *metric;
  }

 private:
  const std::string name_;
  const Type type_;
  const std::string help_;
  std::array<std::atomic<Metric*>, N> slots_{};
};

// `value` as one label value: backslash, quote and line end escaped.
std::string label(std::string_view value);

// Every registered metric, grouped by name with its HELP and TYPE lines.
std::string render();

// One more family computed at scrape time, in the same format.
std::string family(std::string_view name, Type type, std::string_view help, double value,
                   std::string_view labels = {});

}  // namespace rampart::metrics
