// The in-process change bus: the committer publishes, sessions subscribe per account.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "store/store.h"

namespace rampart::store::sqlite {

class LocalChangeBus final : public ChangeBus {
 public:
  LocalChangeBus();
  // Subscriptions may outlive the bus; they then simply hear nothing more.
  std::unique_ptr<Subscription> subscribe(AccountId account, Callback callback) override;
  // Calls every current subscriber of event.account on this thread.
  void publish(const ChangeEvent& event);

 private:
  struct Listener;
  struct Registry;
  class Handle;
  std::shared_ptr<Registry> registry_;
};

}  // namespace rampart::store::sqlite
