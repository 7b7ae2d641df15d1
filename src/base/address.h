// The parts of a mail address the code asks for often enough to say once.
#pragma once

#include <string_view>

namespace rampart {

// The domain of "local@domain": what follows the last '@', empty when there is none.
inline std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

}  // namespace rampart
