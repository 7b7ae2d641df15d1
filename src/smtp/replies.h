// SMTP reply formatting (RFC 5321 §4.2, RFC 3463 enhanced codes) and the one mapping
// from store/service errors to SMTP replies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace rampart::smtp {

struct Reply {
  int code;
  const char* enhanced;
  const char* text;
};

// "250 2.1.0 Ok\r\n"; `enhanced` may be empty (greeting, 354).
std::string format_reply(int code, std::string_view enhanced, std::string_view text);
// "250-first\r\n250-...\r\n250 last\r\n" (EHLO).
std::string format_multiline_reply(int code, const std::vector<std::string>& lines);

// What to tell a client when storing its message failed. Failures are temporary (4xx)
// unless the input itself was at fault, so a sender retries rather than bouncing.
Reply reply_for(Errc code);

}  // namespace rampart::smtp
