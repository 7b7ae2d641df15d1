#include "smtp/data_reader.h"

#include <cstring>

namespace rampart::smtp {
namespace {

enum : int { kLineStart = 0, kDot = 1, kDotCr = 2, kInLine = 3, kInLineCr = 4 };

}  // namespace

void DataReader::append(std::string_view bytes) {
  if (size_ + bytes.size() <= max_size_) {
    message_.append(bytes);
  } else if (size_ < max_size_) {
    message_.append(bytes.substr(0, max_size_ - size_));
  }
  size_ += bytes.size();
}

DataReader::Status DataReader::feed(std::string_view& input) {
  while (!input.empty()) {
    if (state_ == kInLine) {
      // Fast path: copy up to the next CR in one go.
      const void* cr = std::memchr(input.data(), '\r', input.size());
      const std::size_t run =
          cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - input.data()) : input.size();
      append(input.substr(0, run));
      input.remove_prefix(run);
      if (input.empty()) break;
    }
    const char c = input.front();
    input.remove_prefix(1);
    switch (state_) {
      case kLineStart:
        if (c == '.') {
          state_ = kDot;
        } else {
          append(std::string_view(&c, 1));
          state_ = c == '\r' ? kInLineCr : kInLine;
        }
        break;
      case kDot:
        // RFC 5321 §4.5.2: a leading "." followed by more text was stuffed; drop it.
        if (c == '\r') {
          state_ = kDotCr;
        } else {
          append(std::string_view(&c, 1));
          state_ = kInLine;
        }
        break;
      case kDotCr:
        if (c == '\n') return Status::Done;  // <CRLF>.<CRLF>
        // "." then a bare CR: content. The stuffed dot goes; the CR stays.
        append("\r");
        state_ = kInLineCr;
        input = std::string_view(input.data() - 1, input.size() + 1);  // look at c again
        break;
      case kInLine:
        append(std::string_view(&c, 1));  // c is '\r' here
        state_ = kInLineCr;
        break;
      case kInLineCr:
        append(std::string_view(&c, 1));
        state_ = c == '\n' ? kLineStart : c == '\r' ? kInLineCr : kInLine;
        break;
    }
  }
  return Status::NeedMore;
}

}  // namespace rampart::smtp
