#include "filter/rspamd_learner.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <exception>

#include "base/log.h"
#include "base/metrics.h"
#include "net/offload.h"
#include "store/blob_store.h"

namespace rampart::filter {

namespace asio = boost::asio;

namespace {

void count(std::string_view result) {
  metrics::get("rampart_rspamd_learn_total", metrics::Type::Counter,
               "Messages taught to rspamd as users file them in or out of Junk, by result.",
               "result=\"" + std::string(result) + "\"")
      .add();
}

}  // namespace

void RspamdLearner::learn(Lesson lesson, std::vector<std::string> blob_ids) {
  if (lesson == Lesson::None || blob_ids.empty()) return;
  asio::post(executor_, [this, lesson, blob_ids = std::move(blob_ids)]() mutable {
    std::size_t dropped = 0;
    for (std::string& blob_id : blob_ids) {
      if (queued_.size() >= kMaxQueued) {
        ++dropped;
        count("dropped");
        continue;
      }
      queued_.emplace_back(lesson, std::move(blob_id));
    }
    // One line for a batch (a MOVE of a whole mailbox), not one per message.
    if (dropped > 0) {
      log::warn("rspamd: learning queue full, " + std::to_string(dropped) +
                " message(s) not learned");
    }
    start_more();
  });
}

void RspamdLearner::start_more() {
  while (running_ < kMaxLearning && !queued_.empty()) {
    auto [lesson, blob_id] = std::move(queued_.front());
    queued_.pop_front();
    ++running_;
    asio::co_spawn(executor_, teach(lesson, std::move(blob_id)), [this](std::exception_ptr error) {
      --running_;
      if (error) {
        log::error("rspamd: learning failed unexpectedly");
        count("failed");
      }
      start_more();
    });
  }
}

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<void> RspamdLearner::teach(Lesson lesson, std::string blob_id) {
  const bool spam = lesson == Lesson::Spam;
  const std::string what = spam ? "spam" : "ham";
  auto bytes =
      co_await net::offload(blocking_, [this, &blob_id] { return blobs_.read_blob(blob_id); });
  if (!bytes) {
    log::warn("rspamd: cannot read message " + blob_id + " to learn it: " + bytes.error().detail);
    count("failed");
    co_return;
  }
  const std::string_view message = *bytes;
  const Result<int> status = co_await filter::learn(executor_, settings_, spam, message);
  if (!status) {
    log::warn("rspamd: learning " + what + " failed: " + status.error().detail);
    count("failed");
  } else if (*status == 200) {
    log::info("rspamd: learned message " + blob_id.substr(0, 16) + " as " + what);
    count(what);
  } else if (*status == 208) {
    count("already");  // rspamd had learned it (as this) before
  } else {
    log::warn("rspamd: learning " + what + " answered HTTP " + std::to_string(*status));
    count("failed");
  }
}

}  // namespace rampart::filter
