#include "filter/clamav.h"

namespace rampart::filter {

namespace {

constexpr std::size_t kMaxReply = 1024;

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= ' ' && c <= '~') out += c;
  }
  return out;
}

}  // namespace

ClamavVerdict parse_clamd_reply(std::string_view reply) {
  reply = reply.substr(0, std::min(reply.size(), kMaxReply));
  if (const auto nul = reply.find('\0'); nul != std::string_view::npos)
    reply = reply.substr(0, nul);
  while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.remove_suffix(1);
  ClamavVerdict verdict;
  // "stream: ..." (the name clamd gives a stream), then the result.
  std::string_view result = reply;
  if (const auto colon = reply.find(": "); colon != std::string_view::npos) {
    result = reply.substr(colon + 2);
  }
  if (result == "OK") {
    verdict.kind = ClamavVerdict::Kind::Clean;
  } else if (result.ends_with(" FOUND") && result.size() > 6) {
    verdict.kind = ClamavVerdict::Kind::Infected;
    verdict.virus = printable(result.substr(0, result.size() - 6));
    if (verdict.virus.empty()) verdict.virus = "unnamed";
  } else {
    verdict.detail = "clamd: " + printable(reply.empty() ? "no answer" : reply);
  }
  return verdict;
}

}  // namespace rampart::filter
