// A process-wide bound on the bytes of one kind that all connections hold at once (the
// messages SMTP clients are sending): each connection's own limit bounds what one
// client holds, this bounds what many add up to. A lease takes from the budget as its
// holder's buffer grows and gives everything back when it ends. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>

namespace rampart {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  std::size_t used() const { return used_.load(); }

  class Lease {
   public:
    // `budget` null: no bound. The first `free_bytes` a holder uses come from no budget,
    // so that small messages go through even while big ones have used it all up.
    explicit Lease(MemoryBudget* budget, std::size_t free_bytes = 0)
        : budget_(budget), free_bytes_(free_bytes) {}
    ~Lease() { release(); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // Makes the lease cover `total` bytes; false (and nothing more taken) when the
    // budget has not that much left.
    bool cover(std::size_t total) {
      if (!budget_ || total <= free_bytes_ + taken_) return true;
      const std::size_t more = total - free_bytes_ - taken_;
      std::size_t used = budget_->used_.load();
      do {
        if (used + more > budget_->limit_) return false;
      } while (!budget_->used_.compare_exchange_weak(used, used + more));
      taken_ += more;
      return true;
    }
    // Gives back all it took.
    void release() {
      if (budget_ && taken_ > 0) budget_->used_.fetch_sub(taken_);
      taken_ = 0;
    }

   private:
    MemoryBudget* budget_;
    std::size_t free_bytes_;
    std::size_t taken_ = 0;
  };

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace rampart
