#include "audit/trail.h"

#include <set>

#include "base/clock.h"
#include "base/log.h"
#include "base/network.h"

namespace rampart::audit {
namespace {

constexpr std::size_t kMaxWindows = 10000;  // per map; empty windows are dropped beyond

}  // namespace

Trail::Trail(store::AuditLog& log, AlertRules rules, std::vector<AlertSink> sinks)
    : log_(log), rules_(rules), sinks_(std::move(sinks)) {
  writer_ = std::thread([this] { write_loop(); });
  sender_ = std::thread([this] { send_loop(); });
}

Trail::~Trail() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  {
    std::lock_guard lock(mutex_);
    sender_stopping_ = true;
  }
  send_wake_.notify_all();
  sender_.join();
}

void Trail::record(store::AuditEvent event) {
  if (event.time_ms == 0) event.time_ms = unix_milliseconds();
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(event));
    ++queued_;
    // The writer waits for the first record, then lingers for a full batch.
    wake = queue_.size() == 1 || queue_.size() == kBatch;
  }
  if (wake) wake_.notify_one();
}

void Trail::raise(Alert alert) {
  {
    std::lock_guard lock(mutex_);
    raised_directly_.push_back(std::move(alert));
  }
  wake_.notify_one();
}

void Trail::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = queued_;
  ++flushing_;
  wake_.notify_one();
  done_.wait(lock, [&] { return written_ >= target; });
  --flushing_;
  const std::uint64_t alerts = raised_;
  done_.wait(lock, [&] { return sent_ >= alerts; });
}

void Trail::write_loop() {
  for (;;) {
    std::vector<store::AuditEvent> batch;
    std::vector<Alert> raised;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !raised_directly_.empty(); });
      if (queue_.empty() && raised_directly_.empty()) return;
      // One transaction, so one fsync, for what a busy server records in a moment:
      // sessions never wait for the trail, and the disk is the mail store's first.
      wake_.wait_for(lock, kLinger,
                     [&] { return stopping_ || flushing_ > 0 || queue_.size() >= kBatch; });
      batch.swap(queue_);
      raised.swap(raised_directly_);
    }
    const std::size_t recorded = batch.size();
    batch_logins_.clear();
    for (std::size_t i = 0; i < recorded; ++i) {
      for (Alert& alert : watch(batch[i])) raised.push_back(std::move(alert));
    }
    for (const Alert& alert : raised) {
      batch.push_back({unix_milliseconds(), kAlert, alert.account, "system", alert.address, "", "",
                       0, alert.kind + ": " + alert.text});
    }
    // A full or failing disk: try for a while, then put the records in the log, which
    // is the only place left for them.
    auto appended = log_.append(batch);
    for (int attempt = 1; !appended && attempt < 10; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
      appended = log_.append(batch);
    }
    if (!appended) {
      log::error("audit: cannot write " + std::to_string(batch.size()) +
                 " records: " + appended.error().detail);
      for (const auto& event : batch) {
        log::error("audit: lost record: " + event.kind + " account=" + event.account +
                   " actor=" + event.actor + " address=" + event.address + " " + event.detail);
      }
    }
    for (auto* windows : {&reads_, &deletions_, &failures_}) {
      if (windows->size() <= kMaxWindows) continue;
      std::erase_if(*windows, [&](const auto& entry) {
        return entry.second.entries.empty() ||
               entry.second.entries.back().first <
                   unix_milliseconds() - std::chrono::milliseconds(rules_.window).count();
      });
    }
    {
      std::lock_guard lock(mutex_);
      written_ += recorded;
      raised_ += raised.size();
      for (Alert& alert : raised) alerts_.push_back(std::move(alert));
    }
    done_.notify_all();
    send_wake_.notify_one();
  }
}

void Trail::send_loop() {
  for (;;) {
    std::vector<Alert> batch;
    {
      std::unique_lock lock(mutex_);
      send_wake_.wait(lock, [&] { return sender_stopping_ || !alerts_.empty(); });
      if (alerts_.empty()) return;
      batch.swap(alerts_);
    }
    for (const Alert& alert : batch) {
      for (const AlertSink& sink : sinks_) {
        try {
          sink(alert);
        } catch (const std::exception& error) {
          log::error(std::string("audit: alert sink failed: ") + error.what());
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      sent_ += batch.size();
    }
    done_.notify_all();
  }
}

bool Trail::over(Window& window, std::int64_t now, std::int64_t count, std::int64_t limit) {
  const std::int64_t span = std::chrono::milliseconds(rules_.window).count();
  window.entries.emplace_back(now, count);
  window.total += count;
  while (!window.entries.empty() && window.entries.front().first <= now - span) {
    window.total -= window.entries.front().second;
    window.entries.pop_front();
  }
  if (window.total < limit) return false;
  if (window.alerted_ms >= 0 && now - window.alerted_ms < span) return false;
  window.alerted_ms = now;
  return true;
}

std::vector<Alert> Trail::watch(const store::AuditEvent& event) {
  std::vector<Alert> alerts;
  const std::string minutes =
      std::to_string(std::chrono::duration_cast<std::chrono::minutes>(rules_.window).count());
  const std::string where =
      " over " + event.protocol + (event.address.empty() ? "" : " from " + event.address);
  const std::string kind = event.kind;
  if (kind == kLogin && !event.account.empty() && !event.address.empty()) {
    const std::string network = address_network(event.address);
    const std::int64_t since =
        event.time_ms - std::chrono::milliseconds(rules_.familiar_for).count();
    auto history = log_.login_history(event.account, network, since);
    // Logins earlier in the batch being written are not in the log yet.
    std::set<std::string>& earlier = batch_logins_[event.account];
    if (!history) {
      log::error("audit: cannot read login history: " + history.error().detail);
    } else if ((history->any_login || !earlier.empty()) && !history->from_network &&
               !earlier.contains(network)) {
      alerts.push_back({"new-network", event.account, event.address,
                        event.account + " logged in" + where + ", a network (" + network +
                            ") it has not logged in from in " +
                            std::to_string(rules_.familiar_for.count() / 24) + " days"});
    }
    earlier.insert(network);
  } else if (kind == kRead) {
    if (event.actor == kAdminActor) {
      alerts.push_back({"admin-access", event.account, event.address,
                        "the admin read " + std::to_string(event.count) + " message(s) of " +
                            event.account + " in " + event.mailbox});
    }
    if (over(reads_[event.account], event.time_ms, event.count, rules_.bulk_read_messages)) {
      alerts.push_back({"bulk-download", event.account, event.address,
                        std::to_string(reads_[event.account].total) + " messages of " +
                            event.account + " read in " + minutes + " minutes" + where});
    }
  } else if (kind == kExpunge) {
    if (over(deletions_[event.account], event.time_ms, event.count, rules_.mass_delete_messages)) {
      alerts.push_back({"mass-deletion", event.account, event.address,
                        std::to_string(deletions_[event.account].total) + " messages of " +
                            event.account + " deleted in " + minutes + " minutes" + where});
    }
  } else if (kind == kLoginFailed) {
    for (const auto& [key, subject] : {std::pair{"account " + event.account, event.account},
                                       std::pair{"address " + event.address, event.address}}) {
      if (subject.empty()) continue;
      Window& window = failures_[key];
      if (over(window, event.time_ms, 1, rules_.failed_logins)) {
        alerts.push_back({"failed-logins", event.account, event.address,
                          std::to_string(window.total) + " failed logins for " + key + " in " +
                              minutes + " minutes (the last" + where + ")"});
      }
    }
  }
  return alerts;
}

}  // namespace rampart::audit
