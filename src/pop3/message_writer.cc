#include "pop3/message_writer.h"

#include <algorithm>

namespace rampart::pop3 {

void MessageWriter::finish(std::string& out) {
  if (!at_line_start_) out += "\r\n";  // the last line had no line end
  out += ".\r\n";
  done_ = true;
}

bool MessageWriter::write(std::string& out, std::size_t until) {
  while (!done_ && out.size() < until) {
    if (position_ == raw_.size()) {
      finish(out);
      break;
    }
    if (at_line_start_) {
      const char first = raw_[position_];
      const bool empty_line = first == '\r' || first == '\n';
      if (!in_header_ && body_lines_) {
        if (body_lines_sent_ == *body_lines_) {
          finish(out);
          break;
        }
        ++body_lines_sent_;
      }
      // The first empty line ends the header; it is sent, and is not a body line.
      if (in_header_ && empty_line) in_header_ = false;
      // RFC 1939 §3: a line that starts with the termination octet gets another.
      if (first == '.') out += '.';
      at_line_start_ = false;
    }
    // At most what is still wanted of this line: a line of any length goes in pieces.
    const std::size_t room = std::max<std::size_t>(until - std::min(until, out.size()), 1);
    const std::string_view window = raw_.substr(position_, room);
    const std::size_t end = std::min(window.find_first_of("\r\n"), window.size());
    out.append(window.substr(0, end));
    position_ += end;
    if (end < window.size()) {
      // A line end here: CRLF, or a lone CR or LF, is written as CRLF.
      const bool crlf =
          raw_[position_] == '\r' && position_ + 1 < raw_.size() && raw_[position_ + 1] == '\n';
      position_ += crlf ? 2 : 1;
      out += "\r\n";
      at_line_start_ = true;
    }
  }
  return !done_;
}

}  // namespace rampart::pop3
