// The SMTP/LMTP command parser: a pure object fed bytes, giving one command (or one
// error) per line. No socket, clock or store. RFC 5321 §4.1, RFC 1869 (ESMTP
// parameters), RFC 3030 (BDAT), RFC 6531 (SMTPUTF8), RFC 2033 (LHLO).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace rampart::smtp {

struct Limits {
  // RFC 5321 §4.5.3.1.4 says 512 octets; real clients send long AUTH lines and
  // parameters, so we allow more, as Postfix does.
  std::size_t max_line = 4096;
};

enum class Verb {
  Helo,
  Ehlo,
  Lhlo,
  Mail,
  Rcpt,
  Data,
  Bdat,
  Rset,
  Noop,
  Quit,
  Vrfy,
  Expn,
  Help,
  Starttls,
  Auth
};

// An ESMTP parameter: keyword uppercased, value as sent (xtext not decoded).
using Parameters = std::vector<std::pair<std::string, std::string>>;

struct Command {
  Verb verb = Verb::Noop;
  std::string domain;            // HELO/EHLO/LHLO
  std::string path;              // MAIL/RCPT: the address inside <>, empty for <>
  Parameters parameters;         // MAIL/RCPT
  std::uint64_t chunk_size = 0;  // BDAT
  bool last_chunk = false;       // BDAT ... LAST
  std::string mechanism;         // AUTH, uppercased
  std::string initial_response;  // AUTH: may be "=" (empty response) or empty (absent)
  std::string argument;          // VRFY/EXPN/HELP/NOOP: the rest of the line
};

// `code` and `enhanced` are the reply the session sends ("501", "5.5.4").
struct BadCommand {
  int code = 500;
  std::string enhanced;
  std::string text;
};

struct NeedMore {};

using Step = std::variant<NeedMore, Command, BadCommand>;

class CommandParser {
 public:
  explicit CommandParser(Limits limits = {}) : limits_(limits) {}

  // Takes bytes from the front of `input` up to and including one line end; NeedMore
  // means it took them all. A line longer than the limit is consumed up to its end
  // and reported once as 500 5.5.2.
  Step feed(std::string_view& input);

  // Drops a partial line (after STARTTLS: nothing sent before the handshake counts).
  void reset() {
    line_.clear();
    overlong_ = false;
  }

 private:
  Limits limits_;
  std::string line_;
  bool overlong_ = false;
};

// Parses one complete line without its CRLF. Exposed for tests.
Step parse_command_line(std::string_view line);

// Parses "<local@domain>" with an optional source route; BadCommand text on failure.
// Accepts UTF-8 (SMTPUTF8) local parts and domains; refuses control characters.
bool parse_path(std::string_view text, std::string& address, std::string& error);

}  // namespace rampart::smtp
