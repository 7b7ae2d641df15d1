#include "filter/rspamd_learner.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <string>

#include "base/log.h"
#include "base/metrics.h"
#include "store/blob_store.h"

namespace rampart::filter {
namespace {

namespace asio = boost::asio;

class FakeBlobs final : public store::BlobStore {
 public:
  std::map<std::string, std::string, std::less<>> blobs;
  Result<std::string> read_blob(std::string_view blob_id) override {
    const auto found = blobs.find(blob_id);
    if (found == blobs.end()) return fail(Errc::NotFound, "no blob");
    return found->second;
  }
  Result<std::vector<std::uint64_t>> crlf_sizes(const std::vector<std::string>&) override {
    return fail(Errc::Internal);
  }
  Result<store::Upload> add_upload(store::AccountId, std::string_view, std::string_view) override {
    return fail(Errc::Internal);
  }
  Result<store::Upload> find_blob(store::AccountId, std::string_view) override {
    return fail(Errc::Internal);
  }
};

std::int64_t learned(std::string_view result) {
  return metrics::get("rampart_rspamd_learn_total", metrics::Type::Counter, "",
                      "result=\"" + std::string(result) + "\"")
      .value();
}

// A controller that answers each request with `status` and keeps what it was sent.
asio::awaitable<void> controller(asio::ip::tcp::acceptor& acceptor, std::vector<std::string>& got,
                                 int requests) {
  for (int i = 0; i < requests; ++i) {
    asio::ip::tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    std::string request;
    const std::size_t head = co_await asio::async_read_until(socket, asio::dynamic_buffer(request),
                                                             "\r\n\r\n", asio::use_awaitable);
    const std::size_t length_at = request.find("Content-Length: ") + 16;
    const std::size_t length = std::stoul(request.substr(length_at));
    while (request.size() < head + length) {
      char more[512];
      const std::size_t read =
          co_await socket.async_read_some(asio::buffer(more), asio::use_awaitable);
      request.append(more, read);
    }
    got.push_back(request);
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n{\"success\":true}";
    co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
  }
}

TEST(RspamdLearner, SendsEachLessonWithThePasswordAndCountsIt) {
  asio::io_context io;
  asio::thread_pool blocking(1);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  FakeBlobs blobs;
  blobs.blobs["spam-blob"] = "Subject: buy\r\n\r\nbuy now\r\n";
  blobs.blobs["ham-blob"] = "Subject: hi\r\n\r\nlunch?\r\n";
  RspamdSettings settings;
  settings.controller =
      Endpoint{.address = "127.0.0.1", .port = acceptor.local_endpoint().port(), .unix_path = {}};
  settings.password = "secret";
  settings.timeout = std::chrono::seconds(30);
  RspamdLearner learner(io.get_executor(), blocking, blobs, settings);
  std::vector<std::string> got;
  asio::co_spawn(io, controller(acceptor, got, 2), asio::detached);
  const std::int64_t spam = learned("spam"), ham = learned("ham"), failed = learned("failed");
  learner.learn(Lesson::Spam, {"spam-blob"});
  learner.learn(Lesson::Ham, {"ham-blob"});
  learner.learn(Lesson::Ham, {"no-such-blob"});
  learner.learn(Lesson::None, {"spam-blob"});
  io.run();  // ends when the controller has answered both and the learner is idle
  blocking.join();
  ASSERT_EQ(got.size(), 2u);
  std::sort(got.begin(), got.end());
  EXPECT_TRUE(got[0].starts_with("POST /learnham HTTP/1.0\r\n")) << got[0];
  EXPECT_TRUE(got[0].ends_with("\r\nPassword: secret\r\n\r\nSubject: hi\r\n\r\nlunch?\r\n"));
  EXPECT_TRUE(got[1].starts_with("POST /learnspam HTTP/1.0\r\n")) << got[1];
  EXPECT_EQ(learned("spam"), spam + 1);
  EXPECT_EQ(learned("ham"), ham + 1);
  EXPECT_EQ(learned("failed"), failed + 1);  // the blob that is not there
}

TEST(RspamdLearner, DropsWhatIsPastItsQueue) {
  asio::io_context io;
  asio::thread_pool blocking(1);
  FakeBlobs blobs;
  RspamdSettings settings;
  settings.controller = Endpoint{.address = "127.0.0.1", .port = 1, .unix_path = {}};
  RspamdLearner learner(io.get_executor(), blocking, blobs, settings);
  const std::int64_t dropped = learned("dropped");
  log::set_min_level(log::Level::Error);  // a thousand messages that cannot be read
  learner.learn(Lesson::Spam, std::vector<std::string>(RspamdLearner::kMaxQueued + 7, "x"));
  io.run();
  blocking.join();
  log::set_min_level(log::Level::Info);
  EXPECT_EQ(learned("dropped"), dropped + 7);
}

}  // namespace
}  // namespace rampart::filter
