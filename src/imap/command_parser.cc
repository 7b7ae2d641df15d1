#include "imap/command_parser.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include "base/ascii.h"

namespace rampart::imap {
namespace {

// A discarded line keeps this many of its last bytes: enough for "~{4294967295+}".
constexpr std::size_t kTailBytes = 32;
// RFC 7888 §4: with LITERAL- only, a non-synchronizing literal holds at most 4096 bytes.
constexpr std::uint64_t kLiteralMinusBytes = 4096;

bool is_ctl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 9051 ATOM-CHAR / "]", i.e. ASTRING-CHAR; 8-bit bytes are let through as UTF-8.
bool is_astring_char(char c) {
  if (is_ctl(c)) return false;
  switch (c) {
    case ' ':
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
      return false;
    default:
      return true;
  }
}

// RFC 9051 tag: 1*<any ASTRING-CHAR except "+">, ASCII only.
bool is_tag_char(char c) {
  return static_cast<unsigned char>(c) < 0x80 && c != '+' && is_astring_char(c);
}

// A command name is an atom without brackets ("FETCH", "X-FOO").
bool is_name_char(char c) {
  return static_cast<unsigned char>(c) < 0x80 && c != '[' && c != ']' && is_astring_char(c);
}

// The fetch attributes whose atom runs on into a "[section]" (RFC 9051 fetch-att).
bool opens_section(std::string_view name) {
  for (std::string_view attribute : {"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"}) {
    if (iequals(name, attribute)) return true;
  }
  return false;
}

std::size_t skip_spaces(std::string_view line, std::size_t i) {
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

std::size_t tag_length(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_tag_char(line[i])) ++i;
  return i;
}

struct LiteralMarker {
  std::uint64_t size = 0;  // saturates at the maximum
  bool synchronizing = true;
};

// Does this bad line end in "{n}", "{n+}", "~{n}" or "~{n+}"?
std::optional<LiteralMarker> literal_at_end(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  line.remove_suffix(1);
  LiteralMarker marker;
  if (!line.empty() && line.back() == '+') {
    marker.synchronizing = false;
    line.remove_suffix(1);
  }
  std::size_t digits = 0;
  while (digits < line.size() && is_digit(line[line.size() - 1 - digits])) ++digits;
  if (digits == 0 || digits == line.size() || line[line.size() - 1 - digits] != '{') {
    return std::nullopt;
  }
  for (char c : line.substr(line.size() - digits)) {
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    marker.size = marker.size > (std::numeric_limits<std::uint64_t>::max() - digit) / 10
                      ? std::numeric_limits<std::uint64_t>::max()
                      : marker.size * 10 + digit;
  }
  return marker;
}

}  // namespace

bool Token::is(std::string_view keyword) const {
  return kind == Kind::Atom && iequals(text, keyword);
}

std::optional<std::string_view> Token::astring() const {
  if (kind == Kind::String && !binary) return std::string_view(text);
  if (kind == Kind::Atom && std::all_of(text.begin(), text.end(), is_astring_char)) {
    return std::string_view(text);
  }
  return std::nullopt;
}

bool Token::is_flag() const {
  std::string_view name = text;
  if (!name.empty() && name.front() == '\\') name.remove_prefix(1);
  return kind == Kind::Atom && !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
           return static_cast<unsigned char>(c) < 0x80 && c != ']' && is_astring_char(c);
         });
}

std::optional<std::uint64_t> Token::number() const {
  if (kind != Kind::Atom || text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void CommandParser::reset() {
  state_ = State::Line;
  line_.clear();
  discarding_ = false;
  tail_.clear();
  line_bytes_ = 0;
  start_command();
}

void CommandParser::start_command() {
  state_ = State::Line;
  command_ = Command{};
  tagged_ = false;
  open_.clear();
  need_separator_ = false;
  tokens_ = 0;
  command_bytes_ = 0;
  remaining_ = 0;
  literal_binary_ = false;
  error_.reset();
}

std::string CommandParser::bad_tag() const {
  return command_.tag.empty() ? std::string("*") : command_.tag;
}

std::vector<Token>& CommandParser::current_list() {
  return open_.empty() ? command_.arguments : open_.back().children;
}

bool CommandParser::count_token() { return ++tokens_ <= limits_.max_arguments; }

void CommandParser::remember_tail(std::string_view bytes) {
  // One byte more than kTailBytes, for the CR that may precede the LF.
  constexpr std::size_t keep = kTailBytes + 1;
  if (bytes.size() >= keep) {
    tail_.assign(bytes.substr(bytes.size() - keep));
  } else {
    tail_.append(bytes);
    if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
  }
}

void CommandParser::set_tail(std::string_view line) {
  tail_.assign(line.substr(line.size() - std::min(line.size(), kTailBytes)));
}

// Gathers one line. Complete: `line` is the line without its CRLF (a view into `input`
// or line_, valid until the next call). Discarded: the line was too long, or
// discarding_ was set for a bad command; tail_ holds its last bytes, line_ its first
// max_line bytes.
CommandParser::Gather CommandParser::gather_line(std::string_view& input, std::string_view& line) {
  const void* found = std::memchr(input.data(), '\n', input.size());
  const std::size_t length =
      found ? static_cast<std::size_t>(static_cast<const char*>(found) - input.data())
            : input.size();
  const std::string_view bytes = input.substr(0, length);
  input.remove_prefix(found ? length + 1 : length);
  if (!discarding_) {
    // One byte over max_line may be the CR of the CRLF.
    if (line_.size() + length <= limits_.max_line + 1) {
      if (!found) {
        line_.append(bytes);
        return Gather::More;
      }
      if (line_.empty()) {
        line = bytes;
      } else {
        line_.append(bytes);
        line = line_;
      }
      line_bytes_ = line.size() + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() <= limits_.max_line) return Gather::Complete;
      set_tail(line);
      if (line_.empty()) {
        line_.assign(line.substr(0, limits_.max_line));
      } else {
        line_.resize(limits_.max_line);
      }
      return Gather::Discarded;
    }
    tail_.clear();
    remember_tail(line_);
    if (line_.size() < limits_.max_line) {
      line_.append(bytes.substr(0, limits_.max_line - line_.size()));
    }
    line_.resize(std::min(line_.size(), limits_.max_line));
    discarding_ = true;
  }
  remember_tail(bytes);
  if (!found) return Gather::More;
  if (!tail_.empty() && tail_.back() == '\r') tail_.pop_back();
  if (tail_.size() > kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
  discarding_ = false;
  return Gather::Discarded;
}

std::optional<Step> CommandParser::fail(std::string text, std::string code) {
  if (!error_) error_ = BadCommand{bad_tag(), std::move(text), std::move(code), false};
  return std::nullopt;
}

// The bad command's line has ended: report it once, then skip a non-synchronizing
// literal the line announced (the client sends it without waiting) and the rest of the
// command after it. A synchronizing literal will not come: we sent no continuation.
std::optional<Step> CommandParser::end_bad_line() {
  std::optional<BadCommand> report = std::move(error_);
  error_.reset();
  const auto marker = literal_at_end(tail_);
  tail_.clear();
  if (marker && !marker->synchronizing) {
    if (marker->size > limits_.max_literal ||
        (!limits_.literal_plus && marker->size > kLiteralMinusBytes)) {
      state_ = State::Closed;
      return BadCommand{bad_tag(), "Literal too big", "TOOBIG", true};
    }
    command_.arguments.clear();
    open_.clear();
    remaining_ = marker->size;
    state_ = State::SkipLiteral;
  } else {
    start_command();
  }
  if (report) return Step(std::move(*report));
  return std::nullopt;
}

std::optional<Step> CommandParser::parse_line(std::string_view line) {
  std::size_t i = 0;
  if (!tagged_) {
    if (line.empty()) return std::nullopt;  // some clients send a stray CRLF
    i = tag_length(line);
    if (i == 0 || (i < line.size() && line[i] != ' ')) return fail("Invalid tag");
    command_.tag.assign(line.substr(0, i));
    tagged_ = true;
  }
  command_bytes_ += line_bytes_;
  if (command_bytes_ > limits_.max_command) return fail("Command too big", "TOOBIG");
  if (std::memchr(line.data(), '\0', line.size())) return fail("NUL byte in command");
  if (command_.name.empty()) {
    auto read_name = [&] {
      i = skip_spaces(line, i);
      const std::size_t start = i;
      while (i < line.size() && is_name_char(line[i])) ++i;
      if (i < line.size() && line[i] != ' ') return false;
      command_.name.resize(i - start);
      std::transform(line.begin() + start, line.begin() + i, command_.name.begin(), ascii_upper);
      return i > start;
    };
    if (!read_name()) return fail("Missing or invalid command name");
    if (command_.name == "UID") {
      command_.uid = true;
      if (!read_name()) return fail("UID needs a command: UID FETCH, UID STORE, ...");
    }
    need_separator_ = true;
  }
  return parse_arguments(line, i);
}

std::optional<Step> CommandParser::parse_arguments(std::string_view line, std::size_t i) {
  const std::size_t max_nesting = static_cast<std::size_t>(std::max(limits_.max_nesting, 0));
  while (i < line.size()) {
    const char c = line[i];
    // Extra spaces between arguments are tolerated, as Dovecot does.
    if (c == ' ') {
      need_separator_ = false;
      ++i;
      continue;
    }
    if (c == ')') {
      if (open_.empty()) return fail("Unexpected )");
      Token list = std::move(open_.back());
      open_.pop_back();
      current_list().push_back(std::move(list));
      need_separator_ = true;
      ++i;
      continue;
    }
    if (need_separator_) return fail("Expected a space between arguments");
    if (c == '{' || (c == '~' && i + 1 < line.size() && line[i + 1] == '{')) {
      return announce_literal(line.substr(i));
    }
    if (is_ctl(c)) return fail("Control character in command");
    if (!count_token()) return fail("Too many arguments", "LIMIT");
    if (c == '(') {
      if (open_.size() >= max_nesting) return fail("Lists nested too deeply", "LIMIT");
      open_.push_back(Token{.kind = Token::Kind::List});
      ++i;
      continue;
    }
    Token token;
    if (c == '"') {
      // RFC 9051 quoted: any byte but CR, LF and NUL; only \" and \\ are escapes.
      token.kind = Token::Kind::String;
      std::size_t run = ++i;
      for (;;) {
        if (i >= line.size()) return fail("Unterminated quoted string");
        if (line[i] == '"') break;
        if (line[i] == '\r') return fail("CR in quoted string");
        if (line[i] == '\\') {
          if (i + 1 >= line.size() || (line[i + 1] != '"' && line[i + 1] != '\\')) {
            return fail("Invalid escape in quoted string");
          }
          token.text.append(line.substr(run, i - run));
          token.text.push_back(line[i + 1]);
          i += 2;
          run = i;
          continue;
        }
        ++i;
      }
      token.text.append(line.substr(run, i - run));
      ++i;
    } else {
      // An atom. A fetch attribute's section (BODY[...], BINARY.PEEK[...]) belongs to it,
      // spaces, parentheses and quoted strings included; any other "[" is an ATOM-CHAR.
      const std::size_t start = i;
      int depth = 0;
      while (i < line.size()) {
        const char d = line[i];
        if (depth == 0 && (d == ' ' || d == '(' || d == ')' || d == '"' || is_ctl(d))) break;
        if (is_ctl(d)) return fail("Control character in command");
        if (d == '[' && (depth > 0 || opens_section(line.substr(start, i - start)))) {
          ++depth;
        } else if (d == ']' && depth > 0) {
          --depth;
        } else if (d == '"' && depth > 0) {
          for (++i; i < line.size() && line[i] != '"'; ++i) {
            if (line[i] == '\\') ++i;
          }
          if (i >= line.size()) return fail("Unterminated quoted string");
        }
        ++i;
      }
      if (depth > 0) return fail("Missing ]");
      token.text.assign(line.substr(start, i - start));
    }
    current_list().push_back(std::move(token));
    need_separator_ = true;
  }
  if (!open_.empty()) return fail("Missing )");
  Command command = std::move(command_);
  start_command();
  return Step(std::move(command));
}

// `marker` runs from "{" or "~{" to the end of the line.
std::optional<Step> CommandParser::announce_literal(std::string_view marker) {
  const bool binary = marker.front() == '~';
  std::size_t i = binary ? 2 : 1;
  const std::size_t digits_start = i;
  std::uint64_t size = 0;
  for (; i < marker.size() && is_digit(marker[i]); ++i) {
    const std::uint64_t digit = static_cast<std::uint64_t>(marker[i] - '0');
    size = size > (std::numeric_limits<std::uint64_t>::max() - digit) / 10
               ? std::numeric_limits<std::uint64_t>::max()
               : size * 10 + digit;
  }
  if (i == digits_start) return fail("Invalid literal");
  bool synchronizing = true;
  if (i < marker.size() && marker[i] == '+') {
    synchronizing = false;
    ++i;
  }
  if (i >= marker.size() || marker[i] != '}') return fail("Invalid literal");
  if (i + 1 != marker.size()) return fail("A literal must end its line");
  if (!count_token()) return fail("Too many arguments", "LIMIT");
  if (size > limits_.max_literal || size > std::numeric_limits<std::uint32_t>::max()) {
    if (!synchronizing) {
      // The client sends the bytes without waiting; we will not read them.
      state_ = State::Closed;
      return BadCommand{bad_tag(), "Literal too big", "TOOBIG", true};
    }
    BadCommand bad{bad_tag(), "Literal too big", "TOOBIG", false};
    start_command();
    return bad;
  }
  if (!synchronizing && !limits_.literal_plus && size > kLiteralMinusBytes) {
    state_ = State::Closed;
    return BadCommand{bad_tag(), "Non-synchronizing literal over 4096 bytes", "TOOBIG", true};
  }
  // Within max_literal, so a non-synchronizing one can be skipped (see end_bad_line).
  if (size > limits_.max_command - std::min(command_bytes_, limits_.max_command)) {
    return fail("Command too big", "TOOBIG");
  }
  Token token{.kind = Token::Kind::String, .literal = true, .binary = binary};
  // A bounded reservation: announcing a literal must not cost memory before its bytes come.
  token.text.reserve(std::min<std::uint64_t>(size, 64 << 10));
  current_list().push_back(std::move(token));
  command_bytes_ += size;
  remaining_ = size;
  literal_binary_ = binary;
  need_separator_ = true;
  state_ = State::Literal;
  return NeedLiteral{static_cast<std::uint32_t>(size), synchronizing};
}

Step CommandParser::feed(std::string_view& input) {
  while (!input.empty()) {
    switch (state_) {
      case State::Closed:
        input.remove_prefix(input.size());
        return NeedMore{};
      case State::Literal: {
        const std::string_view bytes =
            input.substr(0, std::min<std::uint64_t>(remaining_, input.size()));
        // RFC 9051 literal: CHAR8 excludes NUL; only literal8 may carry it.
        if (!literal_binary_ && std::memchr(bytes.data(), '\0', bytes.size())) {
          fail("NUL byte in literal");
          state_ = State::SkipLiteral;
          break;
        }
        current_list().back().text.append(bytes);
        input.remove_prefix(bytes.size());
        remaining_ -= bytes.size();
        if (remaining_ == 0) state_ = State::Line;
        break;
      }
      case State::SkipLiteral: {
        const std::size_t skip = std::min<std::uint64_t>(remaining_, input.size());
        input.remove_prefix(skip);
        remaining_ -= skip;
        if (remaining_ == 0) {
          // The rest of the line after the literal belongs to the bad command too.
          state_ = State::SkipLine;
          discarding_ = true;
          line_.clear();
          tail_.clear();
        }
        break;
      }
      case State::SkipLine: {
        std::string_view unused;
        if (gather_line(input, unused) == Gather::More) return NeedMore{};
        line_.clear();
        if (auto step = end_bad_line()) return std::move(*step);
        break;
      }
      case State::Line: {
        std::string_view line;
        const Gather gathered = gather_line(input, line);
        if (gathered == Gather::More) return NeedMore{};
        std::optional<Step> step;
        if (gathered == Gather::Discarded) {
          if (!tagged_) {
            const std::string_view start = std::string_view(line_).substr(0, limits_.max_line);
            const std::size_t length = tag_length(start);
            if (length > 0 && length < start.size() && start[length] == ' ') {
              command_.tag.assign(start.substr(0, length));
            }
          }
          line_.clear();
          fail("Line too long", "TOOBIG");
          step = end_bad_line();
        } else {
          step = parse_line(line);
          if (error_) {
            set_tail(line);
            step = end_bad_line();
          }
          line_.clear();
        }
        if (step) return std::move(*step);
        break;
      }
    }
  }
  return NeedMore{};
}

LineStep CommandParser::take_line(std::string_view& input) {
  assert(state_ == State::Closed || (state_ == State::Line && !tagged_));
  if (state_ == State::Closed) {
    input.remove_prefix(input.size());
    return NeedMore{};
  }
  std::string_view line;
  switch (gather_line(input, line)) {
    case Gather::More:
      return NeedMore{};
    case Gather::Complete: {
      std::string text(line);
      line_.clear();
      return text;
    }
    case Gather::Discarded:
      line_.clear();
      tail_.clear();
      return BadCommand{"*", "Line too long", "TOOBIG", false};
  }
  return NeedMore{};
}

std::optional<SequenceSet> parse_sequence_set(std::string_view text) {
  SequenceSet set;
  if (text == "$") {
    set.saved = true;
    return set;
  }
  std::size_t i = 0;
  // seq-number = nz-number / "*"
  auto number = [&](std::uint32_t& out) {
    if (i < text.size() && text[i] == '*') {
      out = SequenceSet::kStar;
      ++i;
      return true;
    }
    if (i >= text.size() || text[i] < '1' || text[i] > '9') return false;
    std::uint64_t value = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (value > std::numeric_limits<std::uint32_t>::max()) return false;
    }
    out = static_cast<std::uint32_t>(value);
    return true;
  };
  for (;;) {
    SequenceSet::Range range;
    if (!number(range.first)) return std::nullopt;
    range.last = range.first;
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!number(range.last)) return std::nullopt;
    }
    set.ranges.push_back(range);
    if (i == text.size()) return set;
    if (text[i] != ',') return std::nullopt;
    ++i;
  }
}

std::vector<SequenceSet::Range> SequenceSet::resolve(std::uint32_t largest) const {
  std::vector<Range> out;
  out.reserve(ranges.size());
  for (Range range : ranges) {
    if (range.first == kStar) range.first = largest;
    if (range.last == kStar) range.last = largest;
    if (range.first > range.last) std::swap(range.first, range.last);
    if (range.last == 0) continue;
    range.first = std::max<std::uint32_t>(range.first, 1);
    out.push_back(range);
  }
  std::sort(out.begin(), out.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  std::vector<Range> merged;
  for (const Range& range : out) {
    if (!merged.empty() && range.first - 1 <= merged.back().last) {
      merged.back().last = std::max(merged.back().last, range.last);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

bool SequenceSet::contains(std::uint32_t number, std::uint32_t largest) const {
  if (number == 0) return false;
  return std::any_of(ranges.begin(), ranges.end(), [&](Range range) {
    const std::uint32_t a = range.first == kStar ? largest : range.first;
    const std::uint32_t b = range.last == kStar ? largest : range.last;
    return number >= std::min(a, b) && number <= std::max(a, b);
  });
}

}  // namespace rampart::imap
