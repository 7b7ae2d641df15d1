// Writing JSON strings (RFC 8259): the one escaper for everything Rampart prints as JSON.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "base/utf8.h"

namespace rampart {

// Appends `text` as a JSON string: quotes, backslashes and control characters escaped,
// and each byte that is not valid UTF-8 replaced by U+FFFD, so the output always parses.
inline void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    const std::size_t length = utf8_sequence_length(text);
    const auto byte = static_cast<unsigned char>(text[0]);
    if (length == 0) {
      out += "\\ufffd";
      text.remove_prefix(1);
      continue;
    }
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
  out += '"';
}

}  // namespace rampart
