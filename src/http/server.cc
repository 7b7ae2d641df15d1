#include "http/server.h"

#include <openssl/crypto.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "audit/trail.h"
#include "auth/login.h"
#include "base/ascii.h"
#include "base/base64.h"
#include "base/log.h"
#include "base/metrics.h"
#include "dav/handler.h"
#include "delivery/mta_sts.h"
#include "directory/directory.h"
#include "http/server_internal.h"
#include "http/target.h"
#include "jmap/api.h"
#include "jmap/mail.h"
#include "net/offload.h"
#include "net/stream.h"
#include "net/tls.h"
#include "store/store.h"

namespace rampart::http {
namespace {

namespace beast = boost::beast;

constexpr std::size_t kReadChunk = 16 * 1024;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;          // for 405
  std::string extra_headers;  // whole lines, each ending in CRLF
};

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 207:
      return "Multi-Status";
    case 301:
      return "Moved Permanently";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 424:
      return "Failed Dependency";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
  }
  return "Error";
}

Response plain(int status, std::string text) {
  return {.status = status, .body = std::move(text) + "\n"};
}

using Handler = Response (*)(const Request&, const Target&, const Caller&, Services&);
// A route that keeps the connection and writes as it goes (event streams); the
// connection is closed when it returns.
using StreamHandler = boost::asio::awaitable<void> (*)(net::Stream&, const Request&, const Target&,
                                                       const Caller&, Services&,
                                                       const SessionOptions&);

// One route: a path, the methods it answers, and whether it needs an account. Default
// deny: a route is anonymous only when it says so. `parameters`: how many segments
// follow the path (the handler reads them from the target), exactly; `subtree`: the
// path and anything below it (the handler resolves it: /dav).
struct Route {
  std::string_view path;
  std::initializer_list<bhttp::verb> methods;
  bool anonymous;
  Handler handle;
  std::size_t parameters = 0;
  StreamHandler stream = nullptr;  // instead of `handle`
  bool subtree = false;
};

Response health(const Request&, const Target&, const Caller&, Services&) {
  return plain(200, "ok");
}

Response json_response(int status, const boost::json::value& value,
                       const char* type = "application/json") {
  return {.status = status, .content_type = type, .body = boost::json::serialize(value)};
}

Response jmap_session(const Request&, const Target&, const Caller& caller, Services& services) {
  return json_response(200, jmap::session_resource(services.jmap, jmap_account_id(*caller.account),
                                                   caller.account->address, services.base_url));
}

}  // namespace

bool revoked(const Caller& caller, Services& services) {
  return services.directory.revoked_since(caller.account->id, caller.generation);
}

std::string jmap_account_id(const store::Account& account) {
  return "A" + std::to_string(account.id);
}

namespace {

// Records the caller's JMAP accesses in the audit trail, as protocol "jmap".
std::function<void(const char*, std::string, std::int64_t, std::string)> jmap_audit(
    Services& services, const Caller& caller) {
  return [&services, &caller](const char* kind, std::string mailbox, std::int64_t count,
                              std::string detail) {
    services.trail.record({.kind = kind,
                           .account = caller.account->address,
                           .actor = caller.account->address,
                           .address = caller.address,
                           .protocol = "jmap",
                           .mailbox = std::move(mailbox),
                           .count = count,
                           .detail = std::move(detail)});
  };
}

}  // namespace

std::variant<boost::json::object, jmap::RequestError> run_jmap(std::string_view body,
                                                               const Caller& caller,
                                                               Services& services) {
  jmap::Context context{.account_id = jmap_account_id(*caller.account),
                        .limits = &services.jmap.limits(),
                        .account = caller.account->id,
                        .username = caller.account->address,
                        .address = caller.address,
                        .created_ids = {},
                        .audit = jmap_audit(services, caller)};
  return services.jmap.process(body, context, "1");
}

namespace {

Response jmap_api(const Request& request, const Target&, const Caller& caller, Services& services) {
  auto result = run_jmap(request.body(), caller, services);
  if (auto* error = std::get_if<jmap::RequestError>(&result)) {
    return json_response(error->status, error->problem(), "application/problem+json");
  }
  return json_response(200, std::get<boost::json::object>(result));
}

// RFC 8620 §2.2: the well-known URL leads to the session resource, which needs an account.
// RFC 8461 section 3.3: the policy of a domain hosted here, asked of mta-sts.DOMAIN.
Response mta_sts(const Request& request, const Target&, const Caller&, Services& services) {
  std::string host = lowercase(std::string(request[bhttp::field::host]));
  if (const auto colon = host.rfind(':');
      colon != std::string::npos && host.find(']') == std::string::npos) {
    host.resize(colon);
  }
  constexpr std::string_view kPrefix = "mta-sts.";
  if (!host.starts_with(kPrefix)) return plain(404, "no MTA-STS policy here");
  auto domains = services.directory.list_domains();
  const std::string domain = host.substr(kPrefix.size());
  if (!domains || std::none_of(domains->begin(), domains->end(), [&](const store::Domain& hosted) {
        return hosted.name == domain;
      })) {
    return plain(404, "no MTA-STS policy for " + domain);
  }
  return {.status = 200,
          .content_type = "text/plain; charset=utf-8",
          .body = delivery::mta_sts_policy(services.hostname)};
}

Response well_known_jmap(const Request&, const Target&, const Caller&, Services&) {
  Response response = plain(307, "see /jmap/session");
  response.extra_headers = "Location: /jmap/session\r\n";
  return response;
}

// A media type made only of the characters RFC 6838 allows, so it cannot break a header.
bool safe_media_type(std::string_view type) {
  const auto slash = type.find('/');
  return type.size() <= 255 && slash != 0 && slash != std::string_view::npos &&
         slash + 1 < type.size() && std::all_of(type.begin(), type.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view("!#$&-^_.+/").find(c) != std::string_view::npos;
         });
}

// POST /jmap/upload/{accountId} (RFC 8620 §6.1).
Response jmap_upload(const Request& request, const Target& target, const Caller& caller,
                     Services& services) {
  if (target.segments[2] != jmap_account_id(*caller.account)) return plain(404, "no such account");
  const auto header = request[bhttp::field::content_type];
  std::string type(header.data(), header.size());
  if (const auto semicolon = type.find(';'); semicolon != std::string::npos) type.resize(semicolon);
  if (!safe_media_type(type)) type = "application/octet-stream";
  auto answer =
      jmap::upload(services.store, caller.account->id, target.segments[2], request.body(), type);
  if (!answer) {
    if (answer.error().code == Errc::OverQuota) {
      return json_response(413,
                           boost::json::object{{"type", "urn:ietf:params:jmap:error:limit"},
                                               {"status", 413},
                                               {"limit", "quota"},
                                               {"detail", "the account is over its quota"}},
                           "application/problem+json");
    }
    log::error("http: upload: " + answer.error().detail);
    return plain(503, "try again later");
  }
  jmap_audit(services, caller)(audit::kChange, {}, 0,
                               "upload " + std::string(answer->at("blobId").get_string()));
  return json_response(201, *answer);
}

// GET /jmap/download/{accountId}/{blobId}/{name}?accept=type (RFC 8620 §6.2). Always
// an attachment, sandboxed: what a message holds never runs as this origin's page.
Response jmap_download(const Request&, const Target& target, const Caller& caller,
                       Services& services) {
  if (target.segments[2] != jmap_account_id(*caller.account)) return plain(404, "no such account");
  auto blob = jmap::read_account_blob(services.store, caller.account->id, target.segments[3]);
  if (!blob) return plain(404, "no such blob");
  auto accept = query_value(target.query, "accept");
  std::string type = accept && safe_media_type(*accept) ? *accept : blob->type;
  if (!safe_media_type(type)) type = "application/octet-stream";
  jmap::audit_blob_read(services.store,
                        {.account_id = {},
                         .limits = nullptr,
                         .account = caller.account->id,
                         .username = caller.account->address,
                         .address = caller.address,
                         .created_ids = {},
                         .audit = jmap_audit(services, caller)},
                        "download", target.segments[3]);
  std::string filename;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : target.segments[4]) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      filename += static_cast<char>(c);
    } else {
      filename += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  Response response{.status = 200, .content_type = type, .body = std::move(blob->bytes)};
  response.extra_headers = "Content-Disposition: attachment; filename*=UTF-8''" + filename +
                           "\r\nContent-Security-Policy: sandbox\r\n";
  return response;
}

// GET /metrics: the Prometheus text format, for the accounts the configuration names.
Response metrics_page(const Request&, const Target&, const Caller& caller, Services& services) {
  const auto& allowed = services.metrics_accounts;
  if (std::find(allowed.begin(), allowed.end(), caller.account->address) == allowed.end()) {
    return plain(403, "this account may not read metrics (http.metrics_accounts)");
  }
  using metrics::family;
  using metrics::Type;
  std::string out = metrics::render();
  if (auto accounts = services.store.list_accounts()) {
    std::uint64_t messages = 0, bytes = 0;
    for (const auto& account : *accounts) {
      if (auto usage = services.store.usage(account.id)) {
        messages += usage->messages;
        bytes += usage->bytes;
      }
    }
    out +=
        family("rampart_accounts", Type::Gauge, "Accounts.", static_cast<double>(accounts->size()));
    out += family("rampart_stored_messages", Type::Gauge, "Messages in all mailboxes.",
                  static_cast<double>(messages));
    out += family("rampart_stored_bytes", Type::Gauge, "Bytes of the messages in all mailboxes.",
                  static_cast<double>(bytes));
  }
  if (auto queue = services.store.list_queue()) {
    out += family("rampart_queue_messages", Type::Gauge, "Messages waiting in the outbound queue.",
                  static_cast<double>(queue->size()));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  out += family("process_cpu_seconds_total", Type::Counter, "CPU time used.", cpu);
  long pages = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  out += family("process_resident_memory_bytes", Type::Gauge, "Resident memory.",
                static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
  return {.status = 200,
          .content_type = "text/plain; version=0.0.4; charset=utf-8",
          .body = std::move(out)};
}

// RFC 6764 section 5: the well-known CalDAV and CardDAV locations lead to /dav, whose
// PROPFIND names the caller's principal (after authentication).
Response well_known_dav(const Request&, const Target&, const Caller&, Services&) {
  Response response = plain(301, "see /dav/");
  response.extra_headers = "Location: /dav/\r\n";
  return response;
}

std::string_view header_value(const Request& request, std::string_view name) {
  const auto value = request[name];
  return {value.data(), value.size()};
}

// /dav and below: CalDAV and CardDAV (dav/handler.h), audited as protocol "dav".
Response dav_route(const Request& request, const Target& target, const Caller& caller,
                   Services& services) {
  auto resource = dav::resolve(target.segments);
  if (!resource) return plain(404, "not found");
  const auto method = request.method_string();
  const dav::Request dav_request{.method = {method.data(), method.size()},
                                 .resource = std::move(*resource),
                                 .depth = header_value(request, "Depth"),
                                 .if_match = header_value(request, "If-Match"),
                                 .if_none_match = header_value(request, "If-None-Match"),
                                 .content_type = header_value(request, "Content-Type"),
                                 .body = request.body()};
  dav::Context context{.store = services.store,
                       .account = *caller.account,
                       .audit = [&services, &caller](const char* kind, std::string collection,
                                                     std::int64_t count, std::string detail) {
                         services.trail.record({.kind = kind,
                                                .account = caller.account->address,
                                                .actor = caller.account->address,
                                                .address = caller.address,
                                                .protocol = "dav",
                                                .mailbox = std::move(collection),
                                                .count = count,
                                                .detail = std::move(detail)});
                       }};
  dav::Response answer = dav::handle(dav_request, context);
  return {.status = answer.status,
          .content_type = std::move(answer.content_type),
          .body = std::move(answer.body),
          .allow = {},
          .extra_headers = std::move(answer.headers)};
}

constexpr std::initializer_list<bhttp::verb> kDavVerbs = {
    bhttp::verb::options,    bhttp::verb::get,      bhttp::verb::head,      bhttp::verb::put,
    bhttp::verb::delete_,    bhttp::verb::propfind, bhttp::verb::proppatch, bhttp::verb::mkcol,
    bhttp::verb::mkcalendar, bhttp::verb::report};

const Route kRoutes[] = {
    {"/health", {bhttp::verb::get, bhttp::verb::head}, true, health},
    {"/.well-known/jmap", {bhttp::verb::get}, true, well_known_jmap},
    {"/.well-known/mta-sts.txt", {bhttp::verb::get}, true, mta_sts},
    {"/jmap/session", {bhttp::verb::get}, false, jmap_session},
    {"/jmap/api", {bhttp::verb::post}, false, jmap_api},
    {"/jmap/upload", {bhttp::verb::post}, false, jmap_upload, 1},
    {"/jmap/download", {bhttp::verb::get}, false, jmap_download, 3},
    {"/jmap/eventsource", {bhttp::verb::get}, false, nullptr, 0, jmap_event_source},
    {"/jmap/ws", {bhttp::verb::get}, false, nullptr, 0, jmap_websocket},
    {"/metrics", {bhttp::verb::get}, false, metrics_page},
    {"/.well-known/caldav", kDavVerbs, true, well_known_dav},
    {"/.well-known/carddav", kDavVerbs, true, well_known_dav},
    {"/dav", kDavVerbs, false, dav_route, 0, nullptr, true},
};

const Route* find_route(const Target& target) {
  for (const Route& route : kRoutes) {
    if (route.subtree) {
      if (target.path == route.path || target.path.starts_with(std::string(route.path) + "/")) {
        return &route;
      }
      continue;
    }
    if (route.parameters == 0) {
      if (route.path == target.path) return &route;
      continue;
    }
    // "/jmap/upload" + exactly `parameters` more segments.
    const auto depth =
        static_cast<std::size_t>(std::count(route.path.begin(), route.path.end(), '/'));
    if (target.segments.size() == depth + route.parameters &&
        target.path.starts_with(std::string(route.path) + "/")) {
      return &route;
    }
  }
  return nullptr;
}

Response unauthorized(std::string text) {
  Response response = plain(401, std::move(text));
  response.extra_headers =
      "WWW-Authenticate: Basic realm=\"Rampart\", charset=\"UTF-8\"\r\n"
      "WWW-Authenticate: Bearer realm=\"Rampart\"\r\n";
  return response;
}

std::string serialize(const Response& response, bool head, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason(response.status) +
                    "\r\nContent-Type: " + response.content_type + "\r\n";
  // RFC 9110 section 8.6: a 204 has no content and no Content-Length.
  if (response.status != 204) {
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  }
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  if (!response.allow.empty()) out += "Allow: " + response.allow + "\r\n";
  out += response.extra_headers;
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!head) out += response.body;
  return out;
}

}  // namespace

std::string error_response(int status, std::string text) {
  return serialize(plain(status, std::move(text)), false, false);
}

namespace {

// The status for a request the parser refused.
int status_for(const beast::error_code& error) {
  if (error == bhttp::error::header_limit) return 431;
  if (error == bhttp::error::body_limit) return 413;
  if (error == bhttp::error::bad_version) return 505;
  if (error == bhttp::error::bad_method) return 501;
  return 400;
}

}  // namespace

namespace {

using Parser = bhttp::request_parser<bhttp::string_body>;

// One HTTP/1.1 connection: its stream, the bytes read ahead of the parser, and the
// account it has authenticated (kept while the same credentials come, and none of the
// account's are revoked).
class Connection {
 public:
  Connection(net::Socket socket, const SessionOptions& options, Services& services)
      : stream_(std::move(socket), services.tls ? services.tls->current() : nullptr),
        options_(options),
        services_(services) {}

  boost::asio::awaitable<void> run() {
    if (options_.implicit_tls && !co_await stream_.start_tls(options_.timeout)) co_return;
    for (int served = 0; served < options_.max_requests; ++served) {
      refusal_.reset();
      Parser parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      const Read read = co_await read_request(parser);
      if (read == Read::Closed) co_return;
      const Request& request = parser.get();
      const bool head = request.method() == bhttp::verb::head;
      // A client that sends an ambiguous target, or a body we did not read, is not one
      // to go on talking to.
      bool keep_alive =
          read == Read::Request && request.keep_alive() && served + 1 < options_.max_requests;
      auto response = co_await answer(request, keep_alive);
      if (!response) co_return;  // a streaming route had the connection
      // One kept counter per status code: a request only adds (base/metrics.h).
      static metrics::Slots<600> requests("rampart_http_requests_total", metrics::Type::Counter,
                                          "HTTP requests answered.");
      requests
          .at(static_cast<std::size_t>(response->status),
              [&] { return "code=" + metrics::label(std::to_string(response->status)); })
          .add();
      if (!co_await stream_.write(serialize(*response, head, keep_alive), options_.timeout)) {
        co_return;
      }
      if (!keep_alive) {
        stream_.close();
        co_return;
      }
    }
  }

 private:
  enum class Read {
    Request,             // whole
    RequestWithoutBody,  // answered from its header, then the connection closes
    Closed,              // nothing to answer (closed, silent, or refused with an answer sent)
  };

  // Reads one request into `parser` in small reads, so a buffer grows only as bytes
  // arrive. From its first byte the header has header_timeout to arrive whole, however
  // it trickles in (slow-drip clients); before that the connection idles up to
  // `timeout`. A body is read only once the request's credentials are accepted.
  boost::asio::awaitable<Read> read_request(Parser& parser) {
    beast::error_code error;
    std::optional<std::chrono::steady_clock::time_point> header_deadline;
    while (!parser.is_done()) {
      if (!buffer_.empty()) {
        if (!header_deadline) {
          header_deadline = std::chrono::steady_clock::now() + options_.header_timeout;
        }
        const bool had_header = parser.is_header_done();
        const std::size_t used = parser.put(boost::asio::buffer(buffer_), error);
        buffer_.erase(0, used);
        if (!had_header && parser.is_header_done() && !error) {
          if (!parser.is_done()) {
            // Credentials are checked before a body is read: a client the server does
            // not know never makes it hold up to the body limit.
            if (!stream_.is_tls() && !stream_.is_loopback()) co_return Read::RequestWithoutBody;
            if (auto refusal = co_await authenticate(parser.get())) {
              refusal_ = std::move(*refusal);
              co_return Read::RequestWithoutBody;
            }
          }
          parser.eager(true);
          continue;
        }
        if (error == bhttp::error::need_more) {
          error = {};
        } else if (error) {
          break;
        } else {
          continue;
        }
      }
      auto wait = options_.timeout;
      if (header_deadline && !parser.is_header_done()) {
        const auto left = std::chrono::ceil<std::chrono::seconds>(*header_deadline -
                                                                  std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          log::info("http: request header not complete in time from " + stream_.peer_address());
          co_await refuse(408, "request header timeout");
          co_return Read::Closed;
        }
        wait = std::min(wait, left);
      }
      // Closed between requests: the normal end of a connection. Closed or silent in
      // the middle of one: nothing to answer that the client would read.
      if (!co_await stream_.read_some(buffer_, kReadChunk, wait)) co_return Read::Closed;
    }
    if (error) {
      const int status = status_for(error);
      log::info("http: " + std::to_string(status) + " from " + stream_.peer_address() + ": " +
                error.message());
      co_await refuse(status, error.message());
      co_return Read::Closed;
    }
    co_return Read::Request;
  }

  // The answer to `request`; nullopt when a streaming route took the connection (it is
  // closed then). May clear `keep_alive`.
  boost::asio::awaitable<std::optional<Response>> answer(const Request& request, bool& keep_alive) {
    auto target = parse_target(std::string_view(request.target().data(), request.target().size()));
    if (!target) {
      keep_alive = false;
      co_return plain(target.error().code == Errc::TooBig ? 414 : 400,
                      "bad request target: " + target.error().detail);
    }
    const Route* route = find_route(*target);
    if (!route) co_return plain(404, "not found");
    if (std::find(route->methods.begin(), route->methods.end(), request.method()) ==
        route->methods.end()) {
      Response response = plain(405, "method not allowed");
      for (const bhttp::verb method : route->methods) {
        if (!response.allow.empty()) response.allow += ", ";
        response.allow += std::string_view(bhttp::to_string(method));
      }
      co_return response;
    }
    if (route->anonymous) co_return route->handle(request, *target, Caller{}, services_);
    // Credentials never cross the network in the clear: refused unread.
    if (!stream_.is_tls() && !stream_.is_loopback()) co_return plain(403, "use https");
    // Refused already, before its body (read_request).
    if (refusal_) co_return std::exchange(refusal_, std::nullopt);
    if (auto refusal = co_await authenticate(request)) {
      if (failed_logins_ >= options_.max_failed_logins) keep_alive = false;
      co_return std::move(*refusal);
    }
    const Caller caller{&*account_, stream_.peer_address(), generation_};
    if (route->stream) {
      co_await route->stream(stream_, request, *target, caller, services_, options_);
      stream_.close();
      co_return std::nullopt;
    }
    co_return co_await net::offload(
        services_.blocking, [&] { return route->handle(request, *target, caller, services_); });
  }

  // Sets account_ from the request's credentials, or gives the answer that refuses
  // them (a login tried and failed counts in failed_logins_). The same credentials as
  // before, with none of the account's revoked since, are not checked again.
  boost::asio::awaitable<std::optional<Response>> authenticate(const Request& request) {
    const auto header = request[bhttp::field::authorization];
    const std::string_view credentials_header(header.data(), header.size());
    if (account_ && credentials_header.size() == authorized_header_.size() &&
        CRYPTO_memcmp(credentials_header.data(), authorized_header_.data(),
                      authorized_header_.size()) == 0 &&
        !services_.directory.revoked_since(account_->id, generation_)) {
      co_return std::nullopt;
    }
    account_.reset();
    authorized_header_.clear();
    auto credentials = parse_credentials(credentials_header);
    if (!credentials) co_return unauthorized("authentication required");
    auto login = co_await auth::network_login(services_.directory, services_.blocking,
                                              stream_.peer_address(), credentials->user,
                                              credentials->secret, "http", credentials->bearer);
    if (!login.account) ++failed_logins_;
    if (login.refused) co_return plain(429, "too many failed logins, try again later");
    if (!login.account) {
      co_return login.account.error().code == Errc::Internal
          ? plain(503, "try again later")
          : unauthorized("authentication failed");
    }
    account_ = std::move(*login.account);
    generation_ = login.credentials_as_of;
    authorized_header_ = std::string(credentials_header);
    co_return std::nullopt;
  }

  // Answers and closes the connection.
  boost::asio::awaitable<void> refuse(int status, std::string text) {
    co_await stream_.write(serialize(plain(status, std::move(text)), false, false),
                           options_.timeout);
    stream_.close();
  }

  net::Stream stream_;
  const SessionOptions& options_;
  Services& services_;
  std::string buffer_;                     // read, not yet parsed
  std::optional<store::Account> account_;  // authenticated on this connection
  std::string authorized_header_;          // with these credentials
  std::uint64_t generation_ = 0;           // the credential clock before that login
  int failed_logins_ = 0;
  std::optional<Response> refusal_;  // the credentials refused before the body was read
};

}  // namespace

boost::asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                         Services& services) {
  Connection connection(std::move(socket), options, services);
  co_await connection.run();
}

}  // namespace rampart::http
