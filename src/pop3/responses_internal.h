// The words of a POP3 -ERR for a store or directory error: one switch over Errc, no
// default, so a new Errc is a compile warning here. RFC 3206: [SYS/TEMP] says try again
// later, [SYS/PERM] that trying again will not help (the administrator must); detail
// from the Error never reaches the client.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace rampart::pop3 {

// "[SYS/TEMP] text" and the like: the text of an -ERR, without the "-ERR ".
std::string error_for(Errc code, std::string_view text);

}  // namespace rampart::pop3
