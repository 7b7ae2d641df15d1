#include "pop3/responses_internal.h"

namespace rampart::pop3 {

std::string error_for(Errc code, std::string_view text) {
  const char* response_code = "[SYS/PERM] ";
  switch (code) {
    case Errc::BadInput:
    case Errc::NotFound:
    case Errc::Exists:
    case Errc::TooBig:
      response_code = "";  // about the command: the client can do otherwise
      break;
    case Errc::NoPermission:
      response_code = "[AUTH] ";
      break;
    case Errc::OverQuota:  // a full disk: the administrator makes room
    case Errc::TryLater:
      response_code = "[SYS/TEMP] ";
      break;
    case Errc::Internal:
      response_code = "[SYS/PERM] ";
      break;
  }
  return response_code + std::string(text);
}

}  // namespace rampart::pop3
