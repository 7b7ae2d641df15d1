#include "filter/clamav.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>

namespace rampart::filter {
namespace {

using Kind = ClamavVerdict::Kind;

TEST(Clamav, ReadsCleanInfectedAndErrorReplies) {
  EXPECT_EQ(parse_clamd_reply(std::string("stream: OK\0", 11)).kind, Kind::Clean);
  const auto infected = parse_clamd_reply(std::string("stream: Eicar-Signature FOUND\0", 30));
  EXPECT_EQ(infected.kind, Kind::Infected);
  EXPECT_EQ(infected.virus, "Eicar-Signature");
  const auto limit = parse_clamd_reply("INSTREAM size limit exceeded. ERROR\n");
  EXPECT_EQ(limit.kind, Kind::Error);
  EXPECT_NE(limit.detail.find("size limit"), std::string::npos);
  EXPECT_EQ(parse_clamd_reply("").kind, Kind::Error);
  EXPECT_EQ(parse_clamd_reply(" FOUND").kind, Kind::Error);
  // A name with control bytes keeps only what can go in a log line or a reply.
  const auto odd = parse_clamd_reply(std::string("stream: Bad\r\nName FOUND", 23));
  EXPECT_EQ(odd.virus, "BadName");
}

TEST(Clamav, AClamdThatIsNotThereIsAnError) {
  boost::asio::io_context io;
  auto verdict = boost::asio::co_spawn(io,
                                       scan(io.get_executor(), "/nonexistent/clamd.sock",
                                            "Subject: x\r\n\r\nhi\r\n", std::chrono::seconds(5)),
                                       boost::asio::use_future);
  io.run();
  const ClamavVerdict result = verdict.get();
  EXPECT_EQ(result.kind, Kind::Error);
  EXPECT_NE(result.detail.find("/nonexistent/clamd.sock"), std::string::npos);
}

}  // namespace
}  // namespace rampart::filter
