// Strict base64 (RFC 4648 §4) for protocol tokens such as SASL responses: padding
// required, no whitespace, no other alphabet. Message bodies use mime's lenient decoder.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rampart {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace rampart
