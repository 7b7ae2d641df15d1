// SHA-256 of a byte string as 64 lowercase hex digits (blob names, audit chain).
#pragma once

#include <string>
#include <string_view>

namespace rampart {

std::string sha256_hex(std::string_view bytes);

}  // namespace rampart
