#include "audit/webhook.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>

#include "base/json.h"
#include "base/log.h"

namespace rampart::audit {
namespace {

// Sends `request` and returns the response's status line; empty on failure (logged).
std::string exchange(const WebhookTarget& target, const std::string& request) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(target.port);
  if (const int error = ::getaddrinfo(target.host.c_str(), port.c_str(), &hints, &found);
      error != 0) {
    log::error("audit: webhook host " + target.host + ": " + ::gai_strerror(error));
    return {};
  }
  int fd = -1;
  for (addrinfo* candidate = found; candidate && fd < 0; candidate = candidate->ai_next) {
    fd = ::socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (::connect(fd, candidate->ai_addr, candidate->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    log::error("audit: webhook " + target.host + ":" + port + ": cannot connect");
    return {};
  }
  std::string response;
  bool sent = true;
  for (std::size_t offset = 0; offset < request.size();) {
    const ssize_t written =
        ::send(fd, request.data() + offset, request.size() - offset, MSG_NOSIGNAL);
    if (written <= 0) {
      sent = false;
      break;
    }
    offset += static_cast<std::size_t>(written);
  }
  char buffer[512];
  while (sent && response.find("\r\n") == std::string::npos && response.size() < 4096) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    response.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return response.substr(0, response.find("\r\n"));
}

}  // namespace

Result<WebhookTarget> parse_webhook_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return fail(Errc::BadInput, "only http:// webhooks are supported");
  }
  std::string_view rest = url.substr(kScheme.size());
  WebhookTarget target;
  const std::size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    target.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string_view::npos) {
    return fail(Errc::BadInput, "credentials in the webhook URL are not supported");
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail(Errc::BadInput, "unclosed [ in the host");
    target.host = std::string(rest.substr(1, close - 1));
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return fail(Errc::BadInput, "junk after ]");
      port = rest.substr(close + 2);
    }
  } else {
    const std::size_t colon = rest.find(':');
    target.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (target.host.empty()) return fail(Errc::BadInput, "no host");
  if (!port.empty() || rest.find(':') != std::string_view::npos) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return fail(Errc::BadInput, "bad port");
    }
    target.port = static_cast<std::uint16_t>(value);
  }
  for (const char c : target.path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail(Errc::BadInput, "spaces or control characters in the path");
    }
  }
  return target;
}

std::string alert_json(const Alert& alert, std::string_view server) {
  std::string json = "{";
  bool first = true;
  for (const auto& [key, value] :
       {std::pair<std::string_view, std::string_view>{"kind", alert.kind},
        {"account", alert.account},
        {"address", alert.address},
        {"text", alert.text},
        {"server", server}}) {
    if (!first) json += ',';
    first = false;
    append_json_string(json, key);
    json += ':';
    append_json_string(json, value);
  }
  return json + "}";
}

AlertSink webhook_sink(WebhookTarget target, std::string server) {
  return [target = std::move(target), server = std::move(server)](const Alert& alert) {
    const std::string body = alert_json(alert, server);
    const bool v6 = target.host.find(':') != std::string::npos;
    const std::string request =
        "POST " + target.path +
        " HTTP/1.1\r\nHost: " + (v6 ? "[" + target.host + "]" : target.host) + ":" +
        std::to_string(target.port) +
        "\r\nUser-Agent: rampart\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    const std::string status = exchange(target, request);
    if (status.empty()) return;
    if (status.size() < 12 || status.compare(0, 5, "HTTP/") != 0 || status[9] != '2') {
      log::error("audit: webhook answered \"" + status + "\" to a " + alert.kind + " alert");
    }
  };
}

}  // namespace rampart::audit
