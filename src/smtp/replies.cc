#include "smtp/replies.h"

namespace rampart::smtp {

std::string format_reply(int code, std::string_view enhanced, std::string_view text) {
  std::string line = std::to_string(code);
  line += ' ';
  if (!enhanced.empty()) {
    line += enhanced;
    line += ' ';
  }
  line += text;
  line += "\r\n";
  return line;
}

std::string format_multiline_reply(int code, const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += std::to_string(code);
    out += i + 1 == lines.size() ? ' ' : '-';
    out += lines[i];
    out += "\r\n";
  }
  return out;
}

Reply reply_for(Errc code) {
  switch (code) {
    case Errc::BadInput:
      return {554, "5.6.0", "Message rejected as malformed"};
    case Errc::TooBig:
      return {552, "5.3.4", "Message size exceeds fixed limit"};
    case Errc::NotFound:
      return {550, "5.1.1", "User unknown"};
    case Errc::NoPermission:
      return {550, "5.7.1", "Delivery not authorized"};
    case Errc::OverQuota:
      return {452, "4.3.1", "Insufficient system storage"};
    case Errc::Exists:
    case Errc::TryLater:
    case Errc::Internal:
      return {451, "4.3.0", "Temporary failure, try again later"};
  }
  return {451, "4.3.0", "Temporary failure, try again later"};
}

}  // namespace rampart::smtp
