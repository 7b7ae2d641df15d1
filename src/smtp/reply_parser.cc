#include "smtp/reply_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/ascii.h"
#include "base/utf8.h"

namespace rampart::smtp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// One line of a reply, its line end removed.
struct Line {
  int code = 0;
  bool last = false;
  std::string_view text;
  const char* error = nullptr;  // set if the line is not a reply line
};

// RFC 5321 §4.2: Reply-code [ ("-" / SP) textstring ]; a bare code ends a reply.
Line parse_line(std::string_view line) {
  Line parsed;
  if (line.find('\0') != std::string_view::npos) {
    parsed.error = "NUL byte in a reply";
  } else if (line.size() < 3 || !std::all_of(line.begin(), line.begin() + 3, is_digit)) {
    parsed.error = "a reply line that does not start with a three-digit code";
  } else if (line.size() > 3 && line[3] != '-' && line[3] != ' ') {
    parsed.error = "a reply code not followed by '-', a space or the line end";
  } else {
    parsed.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (parsed.code < 200 || parsed.code > 599) parsed.error = "a reply code out of 200..599";
    parsed.last = line.size() == 3 || line[3] == ' ';
    parsed.text = line.size() > 3 ? line.substr(4) : std::string_view();
  }
  return parsed;
}

// 1 to 3 digits at the front of `text`, taken off it; false if there are none or more.
bool take_number(std::string_view& text) {
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  if (digits == 0 || digits > 3) return false;
  text.remove_prefix(digits);
  return true;
}

// The length of the RFC 3463 §2 code "class.subject.detail" that starts `text` and is
// followed by a space or the end (RFC 2034 §4), if its class is the reply's first
// digit (2, 4 or 5: a 3xx reply, such as a base64 AUTH challenge, has none); else 0.
std::size_t enhanced_code_length(std::string_view text, int code) {
  const int reply_class = code / 100;
  if (reply_class == 3 || text.size() < 2 || text[0] != '0' + reply_class || text[1] != '.') {
    return 0;
  }
  std::string_view rest = text.substr(2);
  if (!take_number(rest) || rest.empty() || rest.front() != '.') return 0;
  rest.remove_prefix(1);
  if (!take_number(rest) || (!rest.empty() && rest.front() != ' ')) return 0;
  return text.size() - rest.size();
}

// Postfix's printable(): the text may be logged or quoted in a DSN, so control
// characters (HT aside) and bytes that are not UTF-8 become '?', one for one.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto byte = static_cast<unsigned char>(text.front());
    const std::size_t length = utf8_sequence_length(text);
    if (length == 0 || (byte < 0x20 && byte != '\t') || byte == 0x7f) {
      out += '?';
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return out;
}

}  // namespace

void ReplyParser::reset() {
  line_.clear();
  skipping_ = false;
  code_ = 0;
  enhanced_.clear();
  lines_.clear();
}

ReplyStep ReplyParser::refuse(std::string detail) {
  reset();
  return BadReply{std::move(detail)};
}

ReplyStep ReplyParser::feed(std::string_view& input) {
  while (!input.empty()) {
    const void* found = std::memchr(input.data(), '\n', input.size());
    const std::size_t line_end =
        found ? static_cast<std::size_t>(static_cast<const char*>(found) - input.data()) + 1
              : input.size();
    if (skipping_) {
      input.remove_prefix(line_end);
      skipping_ = !found;
      continue;
    }
    if (line_.size() + line_end > limits_.max_line) {
      // Refused at the line's first byte past the limit, wherever the input was split
      // and without waiting for a line end a hostile server may never send.
      const std::size_t take = limits_.max_line + 1 - line_.size();
      const bool line_goes_on = input[take - 1] != '\n';
      input.remove_prefix(take);
      ReplyStep bad =
          refuse("a reply line longer than " + std::to_string(limits_.max_line) + " bytes");
      skipping_ = line_goes_on;
      return bad;
    }
    line_.append(input.substr(0, line_end));
    input.remove_prefix(line_end);
    if (!found) break;

    // Servers that end lines with a bare LF are taken as they are, as Postfix does.
    std::string_view text = line_;
    text.remove_suffix(1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    const Line line = parse_line(text);
    if (line.error) return refuse(line.error);
    if (lines_.empty()) {
      code_ = line.code;
    } else if (line.code != code_) {
      return refuse("reply lines with different codes");
    }
    // This line and, unless it is the last, at least one more.
    if (lines_.size() + (line.last ? 1 : 2) > limits_.max_lines) {
      return refuse("a reply of more than " + std::to_string(limits_.max_lines) + " lines");
    }
    text = line.text;
    if (lines_.empty()) {
      enhanced_ = text.substr(0, enhanced_code_length(text, code_));
    }
    // Servers (Postfix, Gmail) repeat the code on every line of a multi-line reply; only
    // the same code is taken off a later line: anything else is the server's text.
    if (!enhanced_.empty() && text.starts_with(enhanced_) &&
        (text.size() == enhanced_.size() || text[enhanced_.size()] == ' ')) {
      text.remove_prefix(std::min(text.size(), enhanced_.size() + 1));
    }
    lines_.push_back(printable(text));
    line_.clear();
    if (line.last) {
      Reply reply{code_, std::move(enhanced_), std::move(lines_)};
      reset();
      return reply;
    }
  }
  return NeedMore{};
}

namespace {

// The next word of an EHLO line, separated by spaces (or tabs, from careless servers).
std::string_view next_word(std::string_view& rest) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
  const auto end = std::find_if(rest.begin(), rest.end(), blank);
  const std::string_view word = rest.substr(0, static_cast<std::size_t>(end - rest.begin()));
  rest.remove_prefix(word.size());
  return word;
}

// RFC 4422 §3.1: sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_"), after uppercasing.
bool is_mechanism_name(std::string_view name) {
  return !name.empty() && name.size() <= 20 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_';
  });
}

void add_mechanism(EhloCapabilities& capabilities, std::string_view word) {
  std::string name = uppercase(word);
  auto& mechanisms = capabilities.auth_mechanisms;
  if (is_mechanism_name(name) &&
      std::find(mechanisms.begin(), mechanisms.end(), name) == mechanisms.end()) {
    mechanisms.push_back(std::move(name));
  }
}

}  // namespace

EhloCapabilities parse_ehlo(const Reply& reply) {
  EhloCapabilities capabilities;
  if (!reply.positive()) return capabilities;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    std::string_view rest = reply.lines[i];
    const std::string_view keyword = next_word(rest);
    if (iequals(keyword, "PIPELINING")) {
      capabilities.pipelining = true;
    } else if (iequals(keyword, "SIZE")) {
      // RFC 1870 §4: an optional decimal maximum, 0 meaning none; one we cannot read
      // (or that does not fit 64 bits) is taken as none too.
      const std::string_view number = next_word(rest);
      std::uint64_t max_size = 0;
      const auto [end, error] =
          std::from_chars(number.data(), number.data() + number.size(), max_size);
      capabilities.size = true;
      capabilities.max_size =
          error == std::errc() && end == number.data() + number.size() ? max_size : 0;
    } else if (iequals(keyword, "8BITMIME")) {
      capabilities.eight_bit_mime = true;
    } else if (iequals(keyword, "SMTPUTF8")) {
      capabilities.smtputf8 = true;
    } else if (iequals(keyword, "CHUNKING")) {
      capabilities.chunking = true;
    } else if (iequals(keyword, "STARTTLS")) {
      capabilities.starttls = true;
    } else if (iequals(keyword, "ENHANCEDSTATUSCODES")) {
      capabilities.enhanced_status_codes = true;
    } else if (iequals(keyword, "DSN")) {
      capabilities.dsn = true;
    } else if (iequals(keyword, "AUTH") || iequals(keyword.substr(0, 5), "AUTH=")) {
      // "AUTH=LOGIN PLAIN" is the spelling of a draft that old clients (Outlook
      // Express) needed; some servers still send it, a few only it.
      if (keyword.size() > 5) add_mechanism(capabilities, keyword.substr(5));
      for (std::string_view word = next_word(rest); !word.empty(); word = next_word(rest)) {
        add_mechanism(capabilities, word);
      }
    }
  }
  return capabilities;
}

}  // namespace rampart::smtp
