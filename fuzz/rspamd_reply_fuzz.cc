// rspamd's replies come from another process: any bytes give a verdict; what goes into
// a header field (the symbols, the new Subject, the reason) never carries a line break,
// and marking a message with that Subject keeps its body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filter/rspamd.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto verdict = rampart::filter::parse_rspamd_reply(bytes);
  (void)rampart::filter::http_reply_complete(bytes);
  for (char c : verdict.symbols + verdict.detail + verdict.subject) {
    if (c == '\r' || c == '\n' || c == '\0') __builtin_trap();
  }
  const std::string fields = rampart::filter::spam_header_fields(verdict);
  if (fields.find("\r\n\r\n") != std::string::npos) __builtin_trap();
  std::string marked = "Subject: hi\r\nX-Spam: Yes\r\n\r\nbody\r\n";
  rampart::filter::mark_message(marked, verdict.subject);
  if (!marked.ends_with("\r\n\r\nbody\r\n")) __builtin_trap();
  const auto test = rampart::filter::spam_test(verdict);
  if (test.score < 1 || test.score > 10 || test.percent < 0 || test.percent > 100) __builtin_trap();
  return 0;
}
