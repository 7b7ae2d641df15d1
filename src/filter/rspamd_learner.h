// The Learner that teaches rspamd's controller (/learnspam, /learnham): each message
// read from the blob store on the blocking pool and POSTed on `executor`, at most
// kMaxLearning at once and kMaxQueued waiting (more are dropped, logged and counted),
// so a user filing thousands of messages slows nothing but the learning. Failures are
// logged and counted in /metrics (rampart_rspamd_learn_total{result}).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "filter/learning.h"
#include "filter/rspamd.h"

namespace boost::asio {
class thread_pool;
}
namespace rampart::store {
class BlobStore;
}

namespace rampart::filter {

class RspamdLearner final : public Learner {
 public:
  static constexpr std::size_t kMaxLearning = 4;
  static constexpr std::size_t kMaxQueued = 1000;

  // `executor` runs one thread (the learner's state is touched there only); `blobs`,
  // `blocking` and `settings` (with a controller) outlive the learner.
  RspamdLearner(boost::asio::any_io_executor executor, boost::asio::thread_pool& blocking,
                store::BlobStore& blobs, const RspamdSettings& settings)
      : executor_(std::move(executor)), blocking_(blocking), blobs_(blobs), settings_(settings) {}

  void learn(Lesson lesson, std::vector<std::string> blob_ids) override;

 private:
  void start_more();  // on executor_
  boost::asio::awaitable<void> teach(Lesson lesson, std::string blob_id);

  boost::asio::any_io_executor executor_;
  boost::asio::thread_pool& blocking_;
  store::BlobStore& blobs_;
  const RspamdSettings& settings_;
  std::deque<std::pair<Lesson, std::string>> queued_;
  std::size_t running_ = 0;
};

}  // namespace rampart::filter
