// The SMTP reply parser for the outbound client: a pure object fed the bytes a remote
// server sends, giving one complete reply at a time. No socket, clock or store. The
// input is hostile: every limit is passed in, and a reply that breaks the grammar or a
// limit is refused, never guessed at. RFC 5321 §4.2 (replies; §4.2.1 multi-line),
// RFC 3463 and RFC 2034 (enhanced status codes), RFC 5321 §4.1.1.1 and RFC 1869 (EHLO).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smtp/command_parser.h"  // NeedMore, shared with the inbound parser

namespace rampart::smtp {

struct ReplyLimits {
  // RFC 5321 §4.5.3.1.5 says 512 octets per reply line; we allow more, as Postfix does.
  std::size_t max_line = 2048;  // bytes of one line, its CRLF (or bare LF) included
  std::size_t max_lines = 100;  // lines of one reply
};

struct Reply {
  int code = 0;          // 200..599, the same on every line
  std::string enhanced;  // RFC 3463 "class.subject.detail" of the first line, or empty
  // One entry per line (at least one), without the code, the separator and a leading
  // `enhanced` code; may be empty. Control characters other than HT and bytes that are
  // not UTF-8 are replaced by '?', so the text is safe to log and to quote in a DSN.
  std::vector<std::string> lines;

  bool positive() const { return code / 100 == 2; }
  bool intermediate() const { return code / 100 == 3; }
  bool transient() const { return code / 100 == 4; }
  bool permanent() const { return code / 100 == 5; }
  bool operator==(const Reply&) const = default;
};

// The server broke the grammar or a limit. Fatal: the caller drops the connection.
struct BadReply {
  std::string detail;  // for the log; never contains the server's bytes
  bool operator==(const BadReply&) const = default;
};

using ReplyStep = std::variant<Reply, NeedMore, BadReply>;

class ReplyParser {
 public:
  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  // Takes bytes from the front of `input`. Reply: its last line end has been taken, and
  // bytes after it stay in `input` (replies to pipelined commands). NeedMore: it took
  // them all. BadReply: it took the bytes up to the fault (a line too long is refused
  // at its first byte past the limit, without waiting for its end); the partial reply
  // is dropped and, should the caller feed more, parsing resumes at the next line, so
  // every call makes progress. The steps are the same however the bytes are split.
  ReplyStep feed(std::string_view& input);

  // Drops a partial reply (after STARTTLS the caller also drops the bytes it holds:
  // RFC 3207 §4.2: nothing the server said before the handshake counts).
  void reset();

 private:
  ReplyStep refuse(std::string detail);

  ReplyLimits limits_;
  std::string line_;       // the line being read, at most max_line bytes
  bool skipping_ = false;  // discarding the rest of a line refused as too long
  int code_ = 0;
  std::string enhanced_;
  std::vector<std::string> lines_;
};

// What a 2xx EHLO reply announces (RFC 5321 §4.1.1.1: the first line is the server's
// greeting, each later line one keyword and its parameters). Keywords are matched
// without regard to case; unknown ones are ignored. A reply that is not 2xx (the
// caller falls back to HELO) announces nothing.
struct EhloCapabilities {
  bool pipelining = false;             // RFC 2920
  bool size = false;                   // RFC 1870
  std::uint64_t max_size = 0;          // SIZE's parameter; 0 = no limit announced
  bool eight_bit_mime = false;         // RFC 6152
  bool smtputf8 = false;               // RFC 6531
  bool chunking = false;               // RFC 3030
  bool starttls = false;               // RFC 3207
  bool enhanced_status_codes = false;  // RFC 2034
  bool dsn = false;                    // RFC 3461
  // RFC 4954 AUTH (and the older "AUTH=" spelling): mechanisms uppercased, each once,
  // in the order announced; names that are not RFC 4422 §3.1 mechanism names dropped.
  std::vector<std::string> auth_mechanisms;
};

EhloCapabilities parse_ehlo(const Reply& reply);

}  // namespace rampart::smtp
