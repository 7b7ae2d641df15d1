// Virus scanning through ClamAV's daemon (clamd, Debian's clamav-daemon): the message
// streamed over clamd's Unix socket with its INSTREAM command (clamd decodes the MIME
// parts itself), within a time limit; the reply parsed by a pure, fuzzed parser.
// docs/filtering.md.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace rampart::filter {

// [filter] clamav_*: where clamd listens (empty: no scanning), how long a scan may take,
// and what a message gets when clamd cannot say (down, timed out, refused the stream).
struct ClamavSettings {
  std::string socket;
  std::chrono::seconds timeout{30};
  bool accept_when_unavailable = false;  // false: 451 4.7.1, the sender tries again
};

struct ClamavVerdict {
  enum class Kind { Clean, Infected, Error };
  Kind kind = Kind::Error;
  std::string virus;   // Infected: the signature's name, printable ASCII only
  std::string detail;  // Error: why (clamd down, timed out, an answer we do not know)
};

// clamd's answer to INSTREAM with the "z" prefix (NUL-terminated): "stream: OK",
// "stream: NAME FOUND", or "... ERROR" (for instance "INSTREAM size limit exceeded.
// ERROR"). At most 1024 bytes are looked at.
ClamavVerdict parse_clamd_reply(std::string_view reply);

// Scans `message` through the clamd listening on the Unix socket `socket_path`, sent in
// chunks of 64 KiB; Error when it cannot be reached, does not answer within `timeout`
// (the whole exchange), or refuses the stream (larger than its StreamMaxLength).
boost::asio::awaitable<ClamavVerdict> scan(boost::asio::any_io_executor executor,
                                           std::string socket_path, std::string_view message,
                                           std::chrono::seconds timeout);

}  // namespace rampart::filter
