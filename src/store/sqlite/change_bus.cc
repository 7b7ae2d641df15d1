#include <vector>

#include "store/sqlite/change_bus_internal.h"

namespace rampart::store::sqlite {

struct LocalChangeBus::Listener {
  // Held while the callback runs, so that unsubscribing waits for a call in progress
  // and no call starts after it. Recursive: a callback may drop its own subscription.
  std::recursive_mutex calling;
  bool active = true;
  Callback callback;
};

struct LocalChangeBus::Registry {
  std::mutex mutex;
  std::unordered_multimap<AccountId, std::shared_ptr<Listener>> listeners;
};

class LocalChangeBus::Handle final : public ChangeBus::Subscription {
 public:
  Handle(std::shared_ptr<Registry> registry, AccountId account, std::shared_ptr<Listener> listener)
      : registry_(std::move(registry)), account_(account), listener_(std::move(listener)) {}
  ~Handle() override {
    {
      std::lock_guard lock(registry_->mutex);
      auto [begin, end] = registry_->listeners.equal_range(account_);
      for (auto it = begin; it != end; ++it) {
        if (it->second == listener_) {
          registry_->listeners.erase(it);
          break;
        }
      }
    }
    std::lock_guard lock(listener_->calling);
    listener_->active = false;
  }

 private:
  std::shared_ptr<Registry> registry_;
  AccountId account_;
  std::shared_ptr<Listener> listener_;
};

LocalChangeBus::LocalChangeBus() : registry_(std::make_shared<Registry>()) {}

std::unique_ptr<ChangeBus::Subscription> LocalChangeBus::subscribe(AccountId account,
                                                                   Callback callback) {
  auto listener = std::make_shared<Listener>();
  listener->callback = std::move(callback);
  std::lock_guard lock(registry_->mutex);
  registry_->listeners.emplace(account, listener);
  return std::make_unique<Handle>(registry_, account, std::move(listener));
}

void LocalChangeBus::publish(const ChangeEvent& event) {
  // Call outside the registry lock, so that callbacks may subscribe and unsubscribe.
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard lock(registry_->mutex);
    auto [begin, end] = registry_->listeners.equal_range(event.account);
    for (auto it = begin; it != end; ++it) listeners.push_back(it->second);
  }
  for (const auto& listener : listeners) {
    std::lock_guard lock(listener->calling);
    if (listener->active) listener->callback(event);
  }
}

}  // namespace rampart::store::sqlite
