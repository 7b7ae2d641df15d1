// SASL responses: any bytes give credentials or an error, never more than the limit
// takes, and PLAIN's user never holds the NUL that ends it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/sasl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const rampart::auth::Limits limits{.max_response = 1024};
  if (auto plain = rampart::auth::decode_plain(bytes, limits)) {
    if (plain->user.find('\0') != std::string_view::npos) __builtin_trap();
    if (plain->user.size() + plain->password.size() > limits.max_response) __builtin_trap();
  }
  // LOGIN's two steps: the user name's line, then the password's.
  const auto newline = bytes.find('\n');
  const std::string_view user = bytes.substr(0, newline);
  const std::string_view password =
      newline == std::string_view::npos ? std::string_view() : bytes.substr(newline + 1);
  if (auto login = rampart::auth::decode_login(user, password, limits)) {
    if (login->user.size() > user.size() || login->password.size() > password.size()) {
      __builtin_trap();
    }
  }
  rampart::auth::parse_mechanism(bytes);
  return 0;
}
