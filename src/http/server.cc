#include "http/server.h"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "base/log.h"
#include "http/target.h"
#include "net/stream.h"
#include "net/tls.h"

namespace rampart::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // for 405
};

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Error";
}

Response plain(int status, std::string text) {
  return {.status = status, .body = std::move(text) + "\n"};
}

// One route: a path, the methods it answers, and whether it needs an account (none
// does yet: the anonymous routes are this closed list).
struct Route {
  std::string_view path;
  std::string_view allow;  // "GET, HEAD"
  Response (*handle)(const Request&, const Target&);
};

Response health(const Request&, const Target&) { return plain(200, "ok"); }

constexpr Route kRoutes[] = {{"/health", "GET, HEAD", health}};

Response route(const Request& request, const Target& target) {
  for (const Route& candidate : kRoutes) {
    if (candidate.path != target.path) continue;
    const bool get = request.method() == bhttp::verb::get || request.method() == bhttp::verb::head;
    if (!get)
      return {.status = 405, .body = "method not allowed\n", .allow = std::string(candidate.allow)};
    return candidate.handle(request, target);
  }
  return plain(404, "not found");
}

std::string serialize(const Response& response, bool head, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason(response.status) +
                    "\r\nContent-Type: " + response.content_type +
                    "\r\nContent-Length: " + std::to_string(response.body.size()) +
                    "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  if (!response.allow.empty()) out += "Allow: " + response.allow + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!head) out += response.body;
  return out;
}

// The status for a request the parser refused.
int status_for(const beast::error_code& error) {
  if (error == bhttp::error::header_limit) return 431;
  if (error == bhttp::error::body_limit) return 413;
  if (error == bhttp::error::bad_version) return 505;
  if (error == bhttp::error::bad_method) return 501;
  return 400;
}

}  // namespace

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services) {
  net::Stream stream(std::move(socket), services.tls ? services.tls->current() : nullptr);
  if (options.implicit_tls && !co_await stream.start_tls(options.timeout)) co_return;
  std::string buffer;
  for (int served = 0; served < options.max_requests; ++served) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    parser.eager(true);
    beast::error_code error;
    while (!parser.is_done()) {
      if (!buffer.empty()) {
        const std::size_t used = parser.put(boost::asio::buffer(buffer), error);
        buffer.erase(0, used);
        if (error == bhttp::error::need_more) {
          error = {};
        } else if (error) {
          break;
        } else {
          continue;
        }
      }
      const std::size_t room = options.max_header_bytes + options.max_body_bytes + 4096;
      if (!co_await stream.read_some(buffer, room, options.timeout)) {
        // Closed between requests: the normal end of a connection. Closed or silent in
        // the middle of one: nothing to answer that the client would read.
        co_return;
      }
    }
    if (error) {
      const int status = status_for(error);
      log::info("http: " + std::to_string(status) + " from " + stream.peer_address() + ": " +
                error.message());
      co_await stream.write(serialize(plain(status, error.message()), false, false),
                            options.timeout);
      stream.close();
      co_return;
    }
    const Request& request = parser.get();
    const bool head = request.method() == bhttp::verb::head;
    auto target = parse_target(std::string_view(request.target().data(), request.target().size()));
    // A client that sends an ambiguous target is not one to go on talking to.
    const bool keep_alive = target && request.keep_alive() && served + 1 < options.max_requests;
    const Response response = target ? route(request, *target)
                                     : plain(target.error().code == Errc::TooBig ? 414 : 400,
                                             "bad request target: " + target.error().detail);
    if (!co_await stream.write(serialize(response, head, keep_alive), options.timeout)) co_return;
    if (!keep_alive) {
      stream.close();
      co_return;
    }
  }
}

}  // namespace rampart::http
