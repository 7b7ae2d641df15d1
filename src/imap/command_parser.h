// The IMAP command parser: a pure object fed bytes, giving one command (or one error)
// at a time. No socket, clock or store. IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501)
// command syntax, LITERAL+/LITERAL- (RFC 7888), literal8 (RFC 3516), SEARCHRES "$"
// (RFC 5182).
//
// The parser only tokenizes: a command is a tag, a name and a tree of tokens. What the
// tokens mean (is this a valid FETCH?) is for the command handlers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rampart::imap {

struct Limits {
  std::size_t max_line = 64 << 10;     // bytes of one line, without its CRLF
  std::size_t max_literal = 64 << 20;  // bytes of one literal
  int max_nesting = 16;                // depth of parenthesised lists
  std::size_t max_command = 80 << 20;  // bytes of one command: its lines and literals
  std::size_t max_arguments = 100000;  // tokens of one command, lists included
  // False when only LITERAL- is advertised (RFC 7888 §4): a non-synchronizing literal
  // over 4096 bytes is then refused.
  bool literal_plus = true;
};

// One argument. An atom is anything unquoted, NIL included; an atom holding "[" runs to
// the matching "]", spaces and parentheses included, so that
// `BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.2048>` is one atom. A string is quoted
// (escapes undone) or a literal. A list holds its children.
struct Token {
  enum class Kind { Atom, String, List };
  Kind kind = Kind::Atom;
  std::string text;             // Atom and String
  std::vector<Token> children;  // List
  bool literal = false;         // String sent as {n} or ~{n}
  bool binary = false;          // String sent as literal8 ~{n}: may hold NUL

  bool is_nil() const { return is("NIL"); }
  // An atom equal to `keyword`, ignoring ASCII case.
  bool is(std::string_view keyword) const;
  // RFC 9051 astring: an atom of ASTRING-CHARs (8-bit bytes allowed) or a string that is
  // not literal8.
  std::optional<std::string_view> astring() const;
  // RFC 9051 flag: an atom of ASCII ATOM-CHARs, perhaps after one "\" ("NIL" is a
  // keyword like any other).
  bool is_flag() const;
  // An atom of decimal digits that fits 64 bits (number64; MODSEQ, partial ranges).
  std::optional<std::uint64_t> number() const;

  bool operator==(const Token&) const = default;
};

struct Command {
  std::string tag;
  std::string name;  // uppercased; "UID FETCH" gives "FETCH" and uid = true
  bool uid = false;
  std::vector<Token> arguments;

  bool operator==(const Command&) const = default;
};

// Nothing more can be said until more bytes come: the parser took all of `input`.
struct NeedMore {
  bool operator==(const NeedMore&) const = default;
};

// The current line announced a literal the parser accepted. The session sends a
// continuation ("+ Ready") only when `synchronizing`; either way the parser then reads
// the literal's bytes on the next feeds.
struct NeedLiteral {
  std::uint32_t size = 0;
  bool synchronizing = true;

  bool operator==(const NeedLiteral&) const = default;
};

// The session answers `<tag> BAD [<code>] <text>` ("*" when no valid tag was read).
// `code` is "TOOBIG" (line, literal or command too large), "LIMIT" (too deeply nested,
// too many arguments) or empty (syntax). When `fatal` the session must close the
// connection: the client is sending bytes the parser will not read. Otherwise the
// parser has skipped, or will skip, the rest of the bad command, non-synchronizing
// literals included; a bad line ending in "{n+}" is taken to announce one.
struct BadCommand {
  std::string tag;
  std::string text;
  std::string code;
  bool fatal = false;

  bool operator==(const BadCommand&) const = default;
};

using Step = std::variant<NeedMore, NeedLiteral, Command, BadCommand>;
using LineStep = std::variant<NeedMore, std::string, BadCommand>;

class CommandParser {
 public:
  explicit CommandParser(Limits limits = {}) : limits_(limits) {}

  // Takes bytes from the front of `input` and stops after the first step it can give.
  // NeedMore means it took them all; any other step took at least one byte, so a
  // caller looping on feed() always makes progress. The steps do not depend on how the
  // bytes are split. Empty lines between commands are ignored. After a fatal
  // BadCommand the parser discards everything until reset().
  Step feed(std::string_view& input);

  // Reads one raw line (without CRLF) for an IDLE "DONE" or an AUTHENTICATE response.
  // Call it only between commands, i.e. after feed() gave a Command. A line longer than
  // max_line is consumed to its end and gives a non-fatal BadCommand [TOOBIG].
  LineStep take_line(std::string_view& input);

  // Drops all partial state (after STARTTLS: nothing sent before the handshake counts).
  void reset();
  // New limits from the next command on (after login); call it between commands.
  void set_limits(Limits limits) { limits_ = limits; }

 private:
  enum class State { Line, Literal, SkipLiteral, SkipLine, Closed };
  enum class Gather { More, Complete, Discarded };

  Gather gather_line(std::string_view& input, std::string_view& line);
  void remember_tail(std::string_view bytes);
  void set_tail(std::string_view line);
  std::optional<Step> parse_line(std::string_view line);
  std::optional<Step> parse_arguments(std::string_view line, std::size_t position);
  std::optional<Step> announce_literal(std::string_view marker);
  std::optional<Step> fail(std::string text, std::string code = {});
  std::optional<Step> end_bad_line();
  std::vector<Token>& current_list();
  bool count_token();
  void start_command();
  std::string bad_tag() const;

  Limits limits_;
  State state_ = State::Line;
  // The line being gathered, or (when discarding_) the first max_line bytes of it.
  std::string line_;
  bool discarding_ = false;     // the current line is too long or belongs to a bad command
  std::string tail_;            // the last bytes of a discarded line: does it end in {n+}?
  std::size_t line_bytes_ = 0;  // bytes of the last gathered line, CRLF included

  // The command being built.
  Command command_;
  bool tagged_ = false;          // the first line has been read
  std::vector<Token> open_;      // lists opened and not yet closed, innermost last
  bool need_separator_ = false;  // a token just ended: next comes SP, ")" or the line end
  std::size_t tokens_ = 0;
  std::size_t command_bytes_ = 0;
  std::uint64_t remaining_ = 0;  // literal bytes still to read or skip
  bool literal_binary_ = false;
  std::optional<BadCommand> error_;  // found, not yet reported
};

// A sequence set (RFC 9051 sequence-set) as the client wrote it: message sequence
// numbers or UIDs.
struct SequenceSet {
  static constexpr std::uint32_t kStar = 0;  // "*": the largest number in use
  struct Range {
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    bool operator==(const Range&) const = default;
  };
  std::vector<Range> ranges;  // "5" is {5, 5}, "9:*" is {9, kStar}; order as written
  bool saved = false;         // "$": the result saved by SEARCH RETURN (SAVE); ranges empty

  // The set with "*" replaced by `largest` (0 in an empty mailbox), each range in
  // order, sorted and merged; 0 is never included.
  std::vector<Range> resolve(std::uint32_t largest) const;
  bool contains(std::uint32_t number, std::uint32_t largest) const;

  bool operator==(const SequenceSet&) const = default;
};

// Parses "1,3:5,7:*" or "$"; nullopt when malformed (empty, 0, leading zero, overflow).
std::optional<SequenceSet> parse_sequence_set(std::string_view text);

}  // namespace rampart::imap
