// Durable deliveries per second through the embedded store, 1 and 32 concurrent
// writers, 4 KiB and 100 KiB messages; and the disk's raw write+fsync rate, the bound a
// store without group commit could not pass.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace rampart::store {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "rampart-bench-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// state.range(0): concurrent writers; state.range(1): message bytes. Each writer has its
// own account, as SMTP deliveries for different recipients would.
void BM_DurableDelivery(benchmark::State& state) {
  const auto writers = static_cast<int>(state.range(0));
  const auto bytes = static_cast<std::size_t>(state.range(1));
  constexpr int kMessagesPerWriter = 16;
  TempDir dir;
  auto store = std::move(*open_sqlite_store({.data_dir = dir.path()}));
  (void)store->add_domain("bench.test");
  std::vector<MailboxId> inboxes;
  for (int w = 0; w < writers; ++w) {
    auto account = *store->add_account("user" + std::to_string(w) + "@bench.test", "x");
    inboxes.push_back(store->find_mailbox(account.id, "INBOX")->id);
  }
  std::atomic<std::uint64_t> serial = 0;
  std::atomic<bool> failed = false;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        NewMessage message;
        message.structure = "structure";
        for (int i = 0; i < kMessagesPerWriter; ++i) {
          // Distinct bytes each time: a repeated message would share its blob.
          message.raw = "Message-ID: <" + std::to_string(serial++) + "@bench.test>\r\n\r\n";
          message.raw.resize(bytes, 'x');
          if (!store->append(inboxes[w], message)) failed = true;
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  if (failed) state.SkipWithError("an append failed");
  state.SetItemsProcessed(state.iterations() * writers * kMessagesPerWriter);
  state.counters["msgs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * writers * kMessagesPerWriter),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DurableDelivery)
    ->ArgNames({"writers", "bytes"})
    ->ArgsProduct({{1, 32}, {4 << 10, 100 << 10}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);

// The disk's own limit: write 4 KiB, fsync, repeat.
void BM_WriteFsync4KiB(benchmark::State& state) {
  TempDir dir;
  const int fd = ::open((dir.path() / "file").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const std::string block(4096, 'x');
  for (auto _ : state) {
    if (::write(fd, block.data(), block.size()) != 4096 || ::fsync(fd) != 0) {
      state.SkipWithError("write or fsync failed");
      break;
    }
  }
  ::close(fd);
  state.counters["fsyncs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WriteFsync4KiB)->UseRealTime()->Unit(benchmark::kMicrosecond)->MinTime(3);

}  // namespace
}  // namespace rampart::store

BENCHMARK_MAIN();
