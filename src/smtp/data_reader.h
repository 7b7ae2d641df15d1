// Reads the body of DATA (RFC 5321 §4.1.1.4, §4.5.2): undoes dot-stuffing and stops
// at <CRLF>.<CRLF> and nowhere else. A bare LF or bare CR never starts or ends a line
// here (no SMTP smuggling): "\n.\n" and "\r.\r" are message content. Pure and
// incremental like the command parser.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rampart::smtp {

class DataReader {
 public:
  enum class Status { NeedMore, Done };

  // `max_size`: bytes beyond it are counted but not kept; check too_big() at the end.
  explicit DataReader(std::size_t max_size) : max_size_(max_size) {}

  // Takes bytes from the front of `input`; Done when the terminating line has been
  // consumed (bytes after it stay in `input`: pipelined commands).
  Status feed(std::string_view& input);

  bool too_big() const { return size_ > max_size_; }
  // The message, CRLF line ends as received, dot-stuffing removed.
  std::string take() { return std::move(message_); }
  std::size_t size() const { return size_; }

 private:
  void append(std::string_view bytes);

  std::size_t max_size_;
  std::size_t size_ = 0;
  std::string message_;
  // Where we are relative to the last CRLF: 0 = at line start, 1 = saw ".", 2 = saw
  // ".\r" at line start, 3 = inside a line, 4 = inside a line after "\r".
  int state_ = 0;
};

}  // namespace rampart::smtp
