// Alerts posted as JSON to an HTTP endpoint (a chat relay, an alert manager):
//   POST /path  {"kind":"new-network","account":"...","address":"...","text":"...",
//                "server":"mail.example.org"}
// over plain HTTP/1.1, 5 seconds at most per alert; a failure is logged. HTTPS comes
// with the HTTP client of a later issue: put a local relay in front until then.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/trail.h"
#include "base/result.h"

namespace rampart::audit {

struct WebhookTarget {
  std::string host;  // a name or an IP address ([v6] without brackets)
  std::uint16_t port = 80;
  std::string path = "/";
};

// "http://host[:port][/path]"; anything else is BadInput, with the reason.
Result<WebhookTarget> parse_webhook_url(std::string_view url);

// The request body for `alert`.
std::string alert_json(const Alert& alert, std::string_view server);

AlertSink webhook_sink(WebhookTarget target, std::string server);

}  // namespace rampart::audit
