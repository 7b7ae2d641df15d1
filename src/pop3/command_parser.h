// The POP3 command parser: a pure object fed bytes, giving one command or one error
// per line, and the lines of a SASL exchange. No socket, clock or store. RFC 1939 §3
// (keywords case-insensitive, arguments separated by spaces), RFC 2449 §4 (line
// length), RFC 5034 §4 (AUTH and its responses), RFC 2595 §4 (STLS).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace rampart::pop3 {

struct Limits {
  // RFC 2449 §4: a command line is at most 255 octets, its line end included.
  std::size_t max_line = 255;
  // A SASL response line: RFC 5034 §4 puts it outside the command limit (a client sends
  // a long initial response on a line of its own). Room for PLAIN with the longest
  // user name and password the directory takes, in base64.
  std::size_t max_response = 4096;
};

enum class Verb {
  User,
  Pass,
  Auth,
  Stls,
  Capa,
  Quit,
  Stat,
  List,
  Retr,
  Dele,
  Noop,
  Rset,
  Top,
  Uidl,
};

struct Command {
  Verb verb = Verb::Noop;
  // LIST and UIDL (optional), RETR, DELE and TOP: the message number as sent; a
  // number past 2^32 - 1 is 2^32 - 1, which no maildrop holds.
  std::optional<std::uint32_t> message;
  std::uint64_t lines = 0;  // TOP: body lines wanted (a larger number: all of them)
  // USER's name; PASS's password, the whole rest of the line (RFC 1939 §7: it may hold
  // spaces); AUTH's mechanism as sent, empty when AUTH comes alone (a listing).
  std::string argument;
  std::optional<std::string> initial_response;  // AUTH's, as sent ("=": an empty one)
};

// The line was not a command: "-ERR " + text is the answer.
struct BadCommand {
  std::string text;
};

struct NeedMore {};

using Step = std::variant<NeedMore, Command, BadCommand>;
// A SASL response line without its line end, or a BadCommand when it is too long.
using ResponseStep = std::variant<NeedMore, std::string, BadCommand>;

class CommandParser {
 public:
  explicit CommandParser(Limits limits = {}) : limits_(limits) {}

  // Takes bytes from the front of `input` up to and including one line end (LF, with
  // or without CR); NeedMore means it took them all. A line over the limit is taken
  // up to its end and reported once.
  Step feed(std::string_view& input);
  // The same for the next line as a SASL response, under max_response.
  ResponseStep take_response(std::string_view& input);

  // Drops a partial line (after STLS: nothing sent before the handshake counts).
  void reset() {
    line_.clear();
    overlong_ = false;
  }

 private:
  struct Line {
    enum class Status { NeedMore, Complete, TooLong } status;
    std::string_view text;  // Complete: the line without its line end, valid until the next call
  };
  Line gather(std::string_view& input, std::size_t limit);

  Limits limits_;
  std::string line_;
  bool overlong_ = false;
  bool taken_ = false;  // line_ holds a line already returned: clear it first
};

// Parses one complete line without its line end. Exposed for tests.
Step parse_command_line(std::string_view line);

}  // namespace rampart::pop3
