// WebDAV (RFC 4918), CalDAV (RFC 4791), CardDAV (RFC 6352) and sync-collection
// (RFC 6578) over the store's calendars and address books (store/dav_store.h), for the
// HTTP server's /dav routes. One call answers one request; it blocks on the store, so
// the server runs it on the blocking pool. The caller has authenticated; every
// resource here belongs to one account, and another account's paths are answered as
// if they did not exist.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "dav/resource.h"

namespace rampart::store {
class Store;
struct Account;
}  // namespace rampart::store

namespace rampart::dav {

struct Request {
  std::string_view method;  // as sent: "PROPFIND", "REPORT", ...
  Resource resource;
  std::string_view depth;  // the Depth header, empty when absent
  std::string_view if_match;
  std::string_view if_none_match;
  std::string_view content_type;
  std::string_view body;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string headers;  // whole lines, each ending in CRLF (ETag, DAV, Allow, Location)
};

// What the request may touch and how it is recorded.
struct Context {
  store::Store& store;
  const store::Account& account;
  // The audit trail: (kind, collection, count, detail), protocol "dav".
  std::function<void(const char*, std::string, std::int64_t, std::string)> audit;
};

// The methods /dav answers (the Allow header of OPTIONS and of a 405).
inline constexpr std::string_view kMethods =
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR, REPORT";

// Blocking.
Response handle(const Request& request, Context& context);

}  // namespace rampart::dav
