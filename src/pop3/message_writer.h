// A stored message as the body of a POP3 multi-line response (RFC 1939 §3): every line
// ended by CRLF (a lone CR or LF becomes CRLF, and a last line without a line end gets
// one, as mime::crlf_size counts them), a line that starts with "." stuffed with a
// second ".", then the terminating ".\r\n". RETR sends the whole message; TOP (RFC 1939
// §7) the header, the blank line after it, and that many body lines. Pure: bytes in,
// bytes out a piece at a time, so a large message is never copied whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rampart::pop3 {

class MessageWriter {
 public:
  // `raw` must outlive the writer. `body_lines`: TOP's count; nullopt for RETR.
  explicit MessageWriter(std::string_view raw,
                         std::optional<std::uint64_t> body_lines = std::nullopt)
      : raw_(raw), body_lines_(body_lines) {}

  // Appends to `out` until it holds at least `until` bytes or the terminator is
  // written; false once it is (nothing more to write).
  bool write(std::string& out, std::size_t until);

 private:
  void finish(std::string& out);

  std::string_view raw_;
  std::optional<std::uint64_t> body_lines_;
  std::size_t position_ = 0;
  bool at_line_start_ = true;
  bool in_header_ = true;
  std::uint64_t body_lines_sent_ = 0;
  bool done_ = false;
};

}  // namespace rampart::pop3
