// The ManageSieve command parser (RFC 5804 section 4): a pure object fed bytes, giving
// one command, or one error, per command. No socket, clock or store.
//
// A command is an atom (its name, any case) and arguments separated by single spaces,
// each a quoted string (at most `max_quoted` octets, only \" and \\ escaped), a
// literal ("{N+}" or "{N}" at the end of a line, then N octets; ManageSieve has no
// continuation request, so both are read at once), or a number. A command ends at
// CRLF (a bare LF is taken too). During AUTHENTICATE each client response is one
// string on a line of its own (Mode::Response).
//
// Bounds: a line outside literals is at most `max_line` octets, a literal at most
// `max_literal` (a longer one is read and thrown away, then the command is refused
// with QUOTA/MAXSIZE), at most kMaxArguments arguments (one more is kept before the
// command is refused). So one connection holds at most max_line + (kMaxArguments + 1) *
// max_literal octets of a command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rampart::managesieve {

struct Limits {
  std::size_t max_line = 8 * 1024;
  std::size_t max_quoted = 1024;  // RFC 5804 section 4: "limited to 1024 octets"
  std::size_t max_literal = 64 * 1024;
};

enum class Verb {
  Authenticate,
  Starttls,
  Logout,
  Capability,
  Havespace,
  Putscript,
  Listscripts,
  Setactive,
  Getscript,
  Deletescript,
  Renamescript,
  Checkscript,
  Noop,
  Response,  // a SASL client response (Mode::Response)
};

struct Command {
  Verb verb = Verb::Noop;
  // The strings, in order: AUTHENTICATE's mechanism and initial response, a script's
  // name, PUTSCRIPT's and CHECKSCRIPT's content, RENAMESCRIPT's old and new names,
  // NOOP's tag, a SASL response. Counts are checked against each verb.
  std::vector<std::string> strings;
  std::uint64_t number = 0;  // HAVESPACE's size (a larger one: UINT64_MAX)
};

// The command was refused: answer NO, with `code` ("QUOTA/MAXSIZE") when set. `fatal`:
// the client cannot be followed any more (a literal length past 2^63): answer BYE and
// close.
struct BadCommand {
  std::string text;
  std::string code;
  bool fatal = false;
};

struct NeedMore {};

using Step = std::variant<NeedMore, Command, BadCommand>;

enum class Mode { Command, Response };

class CommandParser {
 public:
  static constexpr std::size_t kMaxArguments = 3;

  explicit CommandParser(const Limits& limits) : limits_(limits) {}

  // Takes bytes from the front of `input` (every byte when it returns NeedMore) and
  // gives the next command or error. Holds at most the bounds above between calls.
  Step feed(std::string_view& input, Mode mode = Mode::Command);

  // Forgets a command in progress (after STARTTLS: nothing read before counts).
  void reset();

 private:
  // One line of a command: its tokens appended, a literal's length returned when the
  // line ends with one. Errors go to error_.
  std::optional<std::uint64_t> take_line(std::string_view line);
  Step finish(Mode mode);

  struct Token {
    enum class Kind { Atom, String } kind;
    std::string value;
  };

  const Limits& limits_;
  std::string line_;              // the line being read, without its end
  bool discarding_line_ = false;  // the line passed max_line: its bytes until LF are dropped
  std::string tail_;              // the last octets of a dropped line (a literal's length?)
  std::uint64_t literal_left_ = 0;
  bool in_literal_ = false;
  bool literal_kept_ = true;  // false: the literal is over max_literal and dropped
  bool first_line_ = true;    // the next line starts a command (its name)
  std::vector<Token> tokens_;
  std::optional<BadCommand> error_;  // the first error in this command
};

// A string as the server sends it (RFC 5804 section 4): quoted when it can be, a
// literal ("{N}" CRLF octets) when it holds CR, LF, NUL or is over 1024 octets.
std::string encode_string(std::string_view text);

// "OK", "NO" or "BYE", then " (CODE)" when `code` is set, then " " and `text` as a
// string when it is set, then CRLF.
std::string response(std::string_view kind, std::string_view code, std::string_view text);

}  // namespace rampart::managesieve
