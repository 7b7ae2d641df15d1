// What arrives in mail and DNS for sender authentication: DMARC records, the
// Authentication-Results fields of incoming messages, the Public Suffix List's format;
// and the Authentication-Results this server writes from values a message chose.
// Every function takes any bytes; nothing written may start a header field.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailauth/auth_results.h"
#include "mailauth/dmarc.h"
#include "mailauth/public_suffix.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rampart::mailauth;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto record = parse_dmarc_record(bytes)) {
    if (record->percent < 0 || record->percent > 100) __builtin_trap();
  }
  (void)authserv_id_of(bytes);
  const std::string kept = remove_own_results(bytes, "mx.example.org");
  if (kept.size() > bytes.size()) __builtin_trap();
  const std::string header =
      authentication_results(bytes, {{std::string(bytes), std::string(bytes), std::string(bytes),
                                      {{std::string(bytes), std::string(bytes)}}}});
  // Line ends only where this writer folds: CRLF then a tab, and the final CRLF.
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == '\n' && (i == 0 || header[i - 1] != '\r')) __builtin_trap();
    if (header[i] == '\r' && (i + 1 >= header.size() || header[i + 1] != '\n')) __builtin_trap();
    if (header[i] == '\n' && i + 1 < header.size() && header[i + 1] != '\t') __builtin_trap();
  }
  const auto list = PublicSuffixList::parse(bytes);
  const std::string organizational = list.organizational_domain(bytes.substr(0, 300));
  if (organizational.size() > 300) __builtin_trap();
  return 0;
}
