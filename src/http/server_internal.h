// What the HTTP server (server.cc) shares with its streaming JMAP routes (push.cc):
// the caller of a route, running a JMAP request for it, and the push handlers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "http/server.h"
#include "http/target.h"
#include "jmap/api.h"
#include "net/stream.h"
#include "store/store.h"

namespace rampart::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;

// The caller of a route, once authentication (if the route needs it) is done.
struct Caller {
  const store::Account* account = nullptr;  // set for routes that need one
  std::string address;                      // the client's IP address
  std::uint64_t generation = 0;             // the credential clock before its login
};

// The caller's credentials were revoked since it authenticated (Directory::
// revoked_since): a long-lived connection ends.
bool revoked(const Caller& caller, Services& services);

// The account's JMAP id ("A" and its number).
std::string jmap_account_id(const store::Account& account);

// A JMAP API request body run for the caller, its reads and changes audited (protocol
// "jmap"). Blocking: call it on the blocking pool.
std::variant<boost::json::object, jmap::RequestError> run_jmap(std::string_view body,
                                                               const Caller& caller,
                                                               Services& services);

// A whole plain-text answer that closes the connection, for a stream that cannot start.
std::string error_response(int status, std::string text);

// GET /jmap/eventsource (RFC 8620 §7.3) and GET /jmap/ws (RFC 8887): they keep the
// connection, which is closed when they return.
boost::asio::awaitable<void> jmap_event_source(net::Stream& stream, const Request& request,
                                               const Target& target, const Caller& caller,
                                               Services& services, const SessionOptions& options);
boost::asio::awaitable<void> jmap_websocket(net::Stream& stream, const Request& request,
                                            const Target& target, const Caller& caller,
                                            Services& services, const SessionOptions& options);

}  // namespace rampart::http
