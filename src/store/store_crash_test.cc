// Durability under SIGKILL: a child delivers from several threads and reports each
// message the store acknowledged; the parent kills it mid-flight, reopens the store
// and finds every acknowledged message, byte for byte, and no row without its blob.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <thread>

#include "base/sha256.h"
#include "store/store.h"
#include "store/test_support_internal.h"

namespace rampart::store {
namespace {

using testing::TempDir;

constexpr int kThreads = 6;
constexpr int kAcknowledgedBeforeKill = 150;
constexpr int kRounds = 3;

// Deterministic bytes for (round, thread, sequence), sizes from tiny to 40 KiB.
std::string body(int round, int thread, int sequence) {
  std::string text = "round " + std::to_string(round) + " thread " + std::to_string(thread) +
                     " message " + std::to_string(sequence) + "\r\n";
  const std::size_t size = (sequence * 7919u + thread * 104729u) % (40 * 1024);
  text.reserve(text.size() + size);
  for (std::size_t i = 0; i < size; ++i) text += static_cast<char>('a' + (i + sequence) % 26);
  return text;
}

// The child: deliver until killed, writing one line per acknowledged message. Lines are
// shorter than PIPE_BUF, so each write reaches the pipe whole or not at all.
[[noreturn]] void deliver_until_killed(const std::filesystem::path& dir, int round, int fd,
                                       MailboxId mailbox) {
  auto opened = open_sqlite_store({.data_dir = dir});
  if (!opened) ::_exit(2);
  Store& store = **opened;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int sequence = 0;; ++sequence) {
        NewMessage message;
        message.raw = body(round, t, sequence);
        message.structure = "s";
        auto appended = store.append(mailbox, message);
        if (!appended) ::_exit(3);
        const std::string line = std::to_string(round) + " " + std::to_string(t) + " " +
                                 std::to_string(sequence) + " " + std::to_string(appended->id) +
                                 " " + std::to_string(appended->uid) + "\n";
        if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(4);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ::_exit(0);
}

struct Acknowledged {
  int round, thread, sequence;
  MessageId id;
  Uid uid;
};

TEST(StoreCrash, EveryAcknowledgedMessageSurvivesSigkill) {
  TempDir dir;
  MailboxId mailbox = 0;
  {
    auto store = testing::open_store(dir.path());
    ASSERT_TRUE(store);
    mailbox = testing::inbox(*store, testing::add_account(*store).id);
  }  // closed: the child must be the only one with the store open, and we have no threads

  std::vector<Acknowledged> acknowledged;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      deliver_until_killed(dir.path(), round, fds[1], mailbox);
    }
    ::close(fds[1]);
    std::string received;
    int lines = 0;
    char buffer[4096];
    // Read until enough acknowledgements arrived, then kill at whatever point it is.
    while (lines < kAcknowledgedBeforeKill) {
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      ASSERT_GT(n, 0) << "the writer died on its own";
      received.append(buffer, n);
      lines = static_cast<int>(std::count(received.begin(), received.end(), '\n'));
    }
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) received.append(buffer, n);
    ::close(fds[0]);
    std::istringstream input(received);
    for (Acknowledged a; input >> a.round >> a.thread >> a.sequence >> a.id >> a.uid;) {
      acknowledged.push_back(a);
    }

    auto store = testing::open_store(dir.path());
    ASSERT_TRUE(store);
    for (const auto& a : acknowledged) {
      auto meta = testing::message_by_id(*store, a.id);
      ASSERT_TRUE(meta) << "acknowledged message " << a.id << " is gone";
      EXPECT_EQ(meta->uid, a.uid);
      const std::string expected = body(a.round, a.thread, a.sequence);
      ASSERT_EQ(meta->blob_id, sha256_hex(expected));
      ASSERT_EQ(*store->read_blob(meta->blob_id), expected);
    }
    // No row without its blob, whether acknowledged or committed just before the kill.
    auto snapshot = store->snapshot(mailbox);
    ASSERT_TRUE(snapshot);
    ASSERT_EQ(snapshot->mailbox.message_count, snapshot->messages.size());
    Uid previous = 0;
    for (const auto& meta : snapshot->messages) {
      auto blob = store->read_blob(meta.blob_id);
      ASSERT_TRUE(blob) << "message " << meta.id << " has no blob";
      ASSERT_EQ(sha256_hex(*blob), meta.blob_id);
      ASSERT_GT(meta.uid, previous);
      previous = meta.uid;
    }
    ASSERT_GT(snapshot->mailbox.uidnext, previous);
  }
}

}  // namespace
}  // namespace rampart::store
