#include "base/result.h"

namespace rampart {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::BadInput:
      return "bad input";
    case Errc::TooBig:
      return "too big";
    case Errc::NotFound:
      return "not found";
    case Errc::Exists:
      return "already exists";
    case Errc::NoPermission:
      return "no permission";
    case Errc::OverQuota:
      return "over quota or disk full";
    case Errc::TryLater:
      return "try later";
    case Errc::Internal:
      return "internal error";
  }
  return "unknown";
}

}  // namespace rampart
