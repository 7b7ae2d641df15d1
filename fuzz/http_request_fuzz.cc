// A whole HTTP/1.1 request as the server reads it: Boost.Beast's parser with the
// server's limits (16 KiB of headers, a bounded body, bytes fed in pieces), then the
// request target, its query and the Authorization header through the server's own
// decoders (src/http/target.h). Any bytes: a request, a wait for more or an error,
// never a crash.
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/target.h"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte sets the piece size, as reads of any size arrive.
  const std::size_t piece = size == 0 ? 1 : static_cast<std::size_t>(data[0] % 64) + 1;
  if (!input.empty()) input.remove_prefix(1);
  std::string buffer;  // what one request left is the start of the next (pipelining)
  for (int requests = 0; requests < 8 && (!input.empty() || !buffer.empty()); ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code error;
    while (!parser.is_done() && !error) {
      if (buffer.empty() || error == bhttp::error::need_more) {
        if (input.empty()) return 0;
        const std::size_t take = std::min(piece, input.size());
        buffer.append(input.substr(0, take));
        input.remove_prefix(take);
        error = {};
      }
      const std::size_t used = parser.put(boost::asio::buffer(buffer), error);
      buffer.erase(0, used);
    }
    if (error && error != bhttp::error::need_more) return 0;
    const auto& request = parser.get();
    auto target = rampart::http::parse_target(
        std::string_view(request.target().data(), request.target().size()));
    if (target) {
      (void)rampart::http::query_value(target->query, "accept");
      (void)rampart::http::query_value(target->query, "types");
    }
    const auto authorization = request[bhttp::field::authorization];
    auto credentials = rampart::http::parse_credentials(
        std::string_view(authorization.data(), authorization.size()));
    if (credentials && !credentials->bearer && credentials->user.find(':') != std::string::npos) {
      __builtin_trap();  // the user name ends at the first colon
    }
  }
  return 0;
}
