#include "base/config.h"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <span>

#include "base/ascii.h"
#include "base/files.h"

namespace rampart {
namespace {

std::string where(std::string_view source_name, const toml::source_region& region) {
  return std::string(source_name) + ":" + std::to_string(region.begin.line);
}

Error bad_key(std::string_view source_name, const toml::node& node, std::string_view key,
              std::string_view problem) {
  return Error{Errc::BadInput, where(source_name, node.source()) + ": " + std::string(key) + ": " +
                                   std::string(problem)};
}

Result<std::string> string_value(std::string_view source, const toml::node& node,
                                 std::string_view key) {
  if (auto value = node.value<std::string>(); value && node.is_string()) return *value;
  return tl::unexpected(bad_key(source, node, key, "expected a string"));
}

Result<std::vector<Endpoint>> endpoint_list(std::string_view source, const toml::node& node,
                                            std::string_view key) {
  const toml::array* array = node.as_array();
  if (!array)
    return tl::unexpected(bad_key(source, node, key, "expected a list of \"address:port\""));
  std::vector<Endpoint> endpoints;
  for (const toml::node& element : *array) {
    auto text = string_value(source, element, key);
    if (!text) return tl::unexpected(text.error());
    auto endpoint = parse_endpoint(*text);
    if (!endpoint) return tl::unexpected(bad_key(source, element, key, endpoint.error().detail));
    endpoints.push_back(*endpoint);
  }
  return endpoints;
}

// An integer setting with its bounds, for a table of them.
struct IntegerKey {
  std::string_view name;
  std::int64_t* value;
  std::int64_t min, max;
};

// Sets the key of `keys` named `name` from `node`; an error when there is none or the
// value is not an integer within its bounds.
Result<void> integer_key(std::string_view source, std::string_view prefix, std::string_view name,
                         const toml::node& node, std::span<const IntegerKey> keys) {
  const std::string full = std::string(prefix) + std::string(name);
  const auto key = std::find_if(keys.begin(), keys.end(),
                                [&](const IntegerKey& each) { return each.name == name; });
  if (key == keys.end()) return tl::unexpected(bad_key(source, node, full, "unknown key"));
  const auto value = node.value<std::int64_t>();
  if (!node.is_integer() || !value || *value < key->min || *value > key->max) {
    return tl::unexpected(bad_key(source, node, full,
                                  "expected an integer from " + std::to_string(key->min) + " to " +
                                      std::to_string(key->max)));
  }
  *key->value = *value;
  return {};
}

// Like integer_key for a duration written "90s", "30m", "4h" or "5d", kept in seconds.
Result<void> duration_key(std::string_view source, std::string_view prefix, std::string_view name,
                          const toml::node& node, std::span<const IntegerKey> keys) {
  const std::string full = std::string(prefix) + std::string(name);
  const auto key = std::find_if(keys.begin(), keys.end(),
                                [&](const IntegerKey& each) { return each.name == name; });
  const auto text = node.value<std::string>();
  std::int64_t seconds = -1;
  if (node.is_string() && text && text->size() >= 2 && text->size() <= 12) {
    const std::string_view digits = std::string_view(*text).substr(0, text->size() - 1);
    const char unit = text->back();
    const std::int64_t scale = unit == 's'   ? 1
                               : unit == 'm' ? 60
                               : unit == 'h' ? 3600
                               : unit == 'd' ? 86400
                                             : 0;
    std::int64_t count = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
    if (scale != 0 && error == std::errc() && end == digits.data() + digits.size()) {
      seconds = count * scale;
    }
  }
  if (seconds < key->min || seconds > key->max) {
    return tl::unexpected(bad_key(source, node, full,
                                  "expected a duration such as \"90s\", \"30m\", \"4h\" or "
                                  "\"5d\", from " +
                                      std::to_string(key->min) + " s to " +
                                      std::to_string(key->max / 86400) + " days"));
  }
  *key->value = seconds;
  return {};
}

// The top-level strings: data_dir, hostname, log_level, user, admin_socket.
Result<void> parse_top_level(std::string_view source, std::string_view name, const toml::node& node,
                             Config& config) {
  auto value = string_value(source, node, name);
  if (!value) return tl::unexpected(value.error());
  if (value->empty()) return tl::unexpected(bad_key(source, node, name, "must not be empty"));
  if (name == "data_dir") {
    config.data_dir = *value;
  } else if (name == "hostname") {
    config.hostname = *value;
  } else if (name == "admin_socket") {
    config.admin_socket = *value;
  } else if (name == "user") {
    if (*value == "root") {
      return tl::unexpected(bad_key(source, node, name, "the server does not serve as root"));
    }
    config.user = *value;
  } else {
    const std::pair<std::string_view, log::Level> levels[] = {{"debug", log::Level::Debug},
                                                              {"info", log::Level::Info},
                                                              {"warn", log::Level::Warn},
                                                              {"error", log::Level::Error}};
    const auto* level = std::find_if(std::begin(levels), std::end(levels),
                                     [&](const auto& entry) { return entry.first == *value; });
    if (level == std::end(levels)) {
      return tl::unexpected(bad_key(source, node, name, "expected debug, info, warn or error"));
    }
    config.log_level = level->second;
  }
  return {};
}

// [listen]: a list of endpoints for each service.
Result<void> parse_listen(std::string_view source, std::string_view name, const toml::node& node,
                          Config& config) {
  const toml::table* listen = node.as_table();
  if (!listen) return tl::unexpected(bad_key(source, node, name, "expected a table"));
  Config::Listen& out = config.listen;
  const std::pair<std::string_view, std::vector<Endpoint>*> services[] = {
      {"smtp", &out.smtp},
      {"submission", &out.submission},
      {"submissions", &out.submissions},
      {"lmtp", &out.lmtp},
      {"imap", &out.imap},
      {"imaps", &out.imaps},
      {"pop3", &out.pop3},
      {"pop3s", &out.pop3s},
      {"managesieve", &out.managesieve},
      {"http", &out.http},
      {"https", &out.https}};
  for (const auto& [service_key, service_node] : *listen) {
    const std::string full = "listen." + std::string(service_key.str());
    std::vector<Endpoint>* target = nullptr;
    for (const auto& [service, list] : services) {
      if (service == service_key.str()) target = list;
    }
    if (!target) return tl::unexpected(bad_key(source, service_node, full, "unknown key"));
    auto endpoints = endpoint_list(source, service_node, full);
    if (!endpoints) return tl::unexpected(endpoints.error());
    *target = std::move(*endpoints);
  }
  return {};
}

// [limits].
Result<void> parse_limits(std::string_view source, std::string_view name, const toml::node& node,
                          Config& config) {
  const toml::table* limits = node.as_table();
  if (!limits) return tl::unexpected(bad_key(source, node, name, "expected a table"));
  Config::Limits& out = config.limits;
  const IntegerKey keys[] = {{"connections_per_ip", &out.connections_per_ip, 1, 1'000'000},
                             {"default_quota_mib", &out.default_quota_mib, 0, 1LL << 30},
                             {"reserve_free_mib", &out.reserve_free_mib, 0, 1LL << 30},
                             {"message_memory_mib", &out.message_memory_mib, 1, 1LL << 30}};
  for (const auto& [limit_key, limit_node] : *limits) {
    auto set = integer_key(source, "limits.", limit_key.str(), limit_node, keys);
    if (!set) return tl::unexpected(set.error());
  }
  return {};
}

// [audit]: the alert rules and destinations.
Result<void> parse_audit(std::string_view source, std::string_view name, const toml::node& node,
                         Config& config) {
  const toml::table* audit = node.as_table();
  if (!audit) return tl::unexpected(bad_key(source, node, name, "expected a table"));
  Config::Audit& out = config.audit;
  const IntegerKey counts[] = {
      {"bulk_read_messages", &out.bulk_read_messages, 1, 1'000'000'000},
      {"mass_delete_messages", &out.mass_delete_messages, 1, 1'000'000'000},
      {"failed_logins", &out.failed_logins, 1, 1'000'000'000},
      {"window_seconds", &out.window_seconds, 1, 1'000'000'000}};
  for (const auto& [audit_key, audit_node] : *audit) {
    const std::string full = "audit." + std::string(audit_key.str());
    if (audit_key.str() == "alert_webhook") {
      auto value = string_value(source, audit_node, full);
      if (!value) return tl::unexpected(value.error());
      if (!value->starts_with("http://")) {
        return tl::unexpected(bad_key(source, audit_node, full,
                                      "expected an http:// URL (put a relay in front for "
                                      "https)"));
      }
      out.alert_webhook = *value;
      continue;
    }
    if (audit_key.str() == "alert_mail") {
      auto value = string_value(source, audit_node, full);
      if (!value) return tl::unexpected(value.error());
      const auto at = value->find('@');
      if (at == 0 || at == std::string::npos || at + 1 == value->size()) {
        return tl::unexpected(bad_key(source, audit_node, full, "expected an address"));
      }
      out.alert_mail = *value;
      continue;
    }
    auto set = integer_key(source, "audit.", audit_key.str(), audit_node, counts);
    if (!set) return tl::unexpected(set.error());
  }
  return {};
}

// [http].
Result<void> parse_http(std::string_view source, std::string_view name, const toml::node& node,
                        Config& config) {
  const toml::table* http = node.as_table();
  if (!http) return tl::unexpected(bad_key(source, node, name, "expected a table"));
  const IntegerKey keys[] = {{"header_timeout", &config.http.header_timeout, 1, 3600}};
  for (const auto& [http_key, http_node] : *http) {
    const std::string full = "http." + std::string(http_key.str());
    if (http_key.str() != "metrics_accounts") {
      auto set = integer_key(source, "http.", http_key.str(), http_node, keys);
      if (!set) return tl::unexpected(set.error());
      continue;
    }
    const toml::array* list = http_node.as_array();
    if (!list) return tl::unexpected(bad_key(source, http_node, full, "expected a list"));
    for (const auto& item : *list) {
      auto value = item.value<std::string>();
      if (!value || value->find('@') == std::string::npos) {
        return tl::unexpected(bad_key(source, item, full, "expected account addresses"));
      }
      config.http.metrics_accounts.push_back(lowercase(*value));
    }
  }
  return {};
}

// [delivery.domains."NAME"]: the overrides for one destination domain.
Result<void> parse_delivery_domains(std::string_view source, const toml::node& node,
                                    Config& config) {
  const toml::table* domains = node.as_table();
  if (!domains)
    return tl::unexpected(bad_key(source, node, "delivery.domains", "expected a table"));
  for (const auto& [domain_key, domain_node] : *domains) {
    const std::string prefix = "delivery.domains." + std::string(domain_key.str());
    const toml::table* table = domain_node.as_table();
    if (!table) return tl::unexpected(bad_key(source, domain_node, prefix, "expected a table"));
    Config::Delivery::Domain domain{.name = lowercase(domain_key.str())};
    for (const auto& [key, value_node] : *table) {
      const std::string full = prefix + "." + std::string(key.str());
      if (key.str() == "require_tls") {
        auto value = value_node.is_boolean() ? value_node.value<bool>() : std::nullopt;
        if (!value)
          return tl::unexpected(bad_key(source, value_node, full, "expected true or false"));
        domain.require_tls = *value;
      } else if (key.str() == "dane") {
        auto value = value_node.value<std::string>();
        if (!value || (*value != "on" && *value != "off")) {
          return tl::unexpected(bad_key(source, value_node, full, "expected \"on\" or \"off\""));
        }
        domain.dane = *value == "on";
      } else {
        return tl::unexpected(bad_key(source, value_node, full, "unknown key"));
      }
    }
    config.delivery.domains.push_back(std::move(domain));
  }
  return {};
}

// [delivery].
Result<void> parse_delivery(std::string_view source, std::string_view name, const toml::node& node,
                            Config& config) {
  const toml::table* delivery = node.as_table();
  if (!delivery) return tl::unexpected(bad_key(source, node, name, "expected a table"));
  Config::Delivery& out = config.delivery;
  const IntegerKey counts[] = {
      {"max_connections", &out.max_connections, 1, 10'000},
      {"max_connections_per_domain", &out.max_connections_per_domain, 1, 1'000}};
  constexpr std::int64_t kYear = 365 * 24 * 3600;
  const IntegerKey durations[] = {{"give_up", &out.give_up, 1, kYear},
                                  {"delay_notice", &out.delay_notice, 0, kYear},
                                  {"retry_first", &out.retry_first, 1, kYear},
                                  {"retry_max", &out.retry_max, 1, kYear},
                                  {"tls_report_period", &out.tls_report_period, 0, kYear}};
  for (const auto& [key, value_node] : *delivery) {
    const std::string full = "delivery." + std::string(key.str());
    if (key.str() == "queue_only") {
      auto value = value_node.is_boolean() ? value_node.value<bool>() : std::nullopt;
      if (!value)
        return tl::unexpected(bad_key(source, value_node, full, "expected true or false"));
      out.queue_only = *value;
      continue;
    }
    if (key.str() == "report_from") {
      auto value = string_value(source, value_node, full);
      if (!value) return tl::unexpected(value.error());
      if (value->find('@') == std::string::npos ||
          value->find_first_of(" <>\r\n") != std::string::npos) {
        return tl::unexpected(bad_key(source, value_node, full, "expected an address"));
      }
      out.report_from = *value;
      continue;
    }
    if (key.str() == "trust_anchor" || key.str() == "ca_file") {
      auto value = string_value(source, value_node, full);
      if (!value) return tl::unexpected(value.error());
      (key.str() == "ca_file" ? out.ca_file : out.trust_anchor) = *value;
      continue;
    }
    if (key.str() == "domains") {
      auto parsed = parse_delivery_domains(source, value_node, config);
      if (!parsed) return tl::unexpected(parsed.error());
      continue;
    }
    const std::string_view name = key.str();  // a lambda may not capture `key` (C++20)
    if (std::any_of(std::begin(durations), std::end(durations),
                    [name](const IntegerKey& each) { return each.name == name; })) {
      auto set = duration_key(source, "delivery.", key.str(), value_node, durations);
      if (!set) return tl::unexpected(set.error());
      continue;
    }
    if (key.str() != "resolvers") {
      auto set = integer_key(source, "delivery.", key.str(), value_node, counts);
      if (!set) return tl::unexpected(set.error());
      continue;
    }
    const toml::array* list = value_node.as_array();
    if (!list) return tl::unexpected(bad_key(source, value_node, full, "expected a list"));
    for (const auto& item : *list) {
      auto text = item.value<std::string>();
      if (!text) return tl::unexpected(bad_key(source, item, full, "expected addresses"));
      // An address alone means port 53; "[v6]:port" and "v4:port" name the port.
      const auto colons = std::count(text->begin(), text->end(), ':');
      const std::string with_port = text->starts_with("[") || colons == 1 ? *text
                                    : colons > 1                          ? "[" + *text + "]:53"
                                                                          : *text + ":53";
      auto endpoint = parse_endpoint(with_port);
      unsigned char address[16];
      if (!endpoint || !endpoint->unix_path.empty() ||
          (::inet_pton(AF_INET, endpoint->address.c_str(), address) != 1 &&
           ::inet_pton(AF_INET6, endpoint->address.c_str(), address) != 1)) {
        return tl::unexpected(
            bad_key(source, item, full, "expected an IP address, with a port or not"));
      }
      out.resolvers.push_back(std::move(*endpoint));
    }
  }
  return {};
}

// "http://IP:port", with or without a final "/": where rspamd listens. An IP literal, so
// no name is looked up on the path of a message.
Result<Endpoint> parse_rspamd_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return fail(Errc::BadInput, "expected \"http://IP:port\"");
  url.remove_prefix(kScheme.size());
  if (url.ends_with("/")) url.remove_suffix(1);
  auto endpoint = parse_endpoint(url);
  unsigned char address[16];
  if (!endpoint || !endpoint->unix_path.empty() ||
      (::inet_pton(AF_INET, endpoint->address.c_str(), address) != 1 &&
       ::inet_pton(AF_INET6, endpoint->address.c_str(), address) != 1)) {
    return fail(Errc::BadInput, "expected \"http://IP:port\" with an IP address and a port");
  }
  return *endpoint;
}

// [filter].
Result<void> parse_filter(std::string_view source, std::string_view name, const toml::node& node,
                          Config& config) {
  const toml::table* filter = node.as_table();
  if (!filter) return tl::unexpected(bad_key(source, node, name, "expected a table"));
  for (const auto& [key, value_node] : *filter) {
    const std::string full = "filter." + std::string(key.str());
    if (key.str() == "sender_checks") {
      auto value = value_node.is_boolean() ? value_node.value<bool>() : std::nullopt;
      if (!value)
        return tl::unexpected(bad_key(source, value_node, full, "expected true or false"));
      config.filter.sender_checks = *value;
    } else if (key.str() == "public_suffix_list" || key.str() == "clamav_socket") {
      auto value = string_value(source, value_node, full);
      if (!value) return tl::unexpected(value.error());
      (key.str() == "clamav_socket" ? config.filter.clamav_socket
                                    : config.filter.public_suffix_list) = *value;
    } else if (key.str() == "clamav_accept_unscanned" || key.str() == "rspamd_accept_unscanned") {
      auto value = value_node.is_boolean() ? value_node.value<bool>() : std::nullopt;
      if (!value)
        return tl::unexpected(bad_key(source, value_node, full, "expected true or false"));
      (key.str() == "clamav_accept_unscanned" ? config.filter.clamav_accept_unscanned
                                              : config.filter.rspamd_accept_unscanned) = *value;
    } else if (key.str() == "clamav_timeout" || key.str() == "rspamd_timeout") {
      const IntegerKey timeouts[] = {{"clamav_timeout", &config.filter.clamav_timeout, 1, 3600},
                                     {"rspamd_timeout", &config.filter.rspamd_timeout, 1, 3600}};
      auto set = duration_key(source, "filter.", key.str(), value_node, timeouts);
      if (!set) return tl::unexpected(set.error());
    } else if (key.str() == "rspamd_max_size_mib") {
      const IntegerKey sizes[] = {
          {"rspamd_max_size_mib", &config.filter.rspamd_max_size_mib, 1, 1024}};
      auto set = integer_key(source, "filter.", key.str(), value_node, sizes);
      if (!set) return tl::unexpected(set.error());
    } else if (key.str() == "rspamd_url" || key.str() == "rspamd_controller_url") {
      auto value = string_value(source, value_node, full);
      if (!value) return tl::unexpected(value.error());
      auto endpoint = parse_rspamd_url(*value);
      if (!endpoint) {
        return tl::unexpected(bad_key(source, value_node, full, endpoint.error().detail));
      }
      (key.str() == "rspamd_url" ? config.filter.rspamd : config.filter.rspamd_controller) =
          *endpoint;
    } else if (key.str() == "arc_trusted_sealers") {
      const toml::array* list = value_node.as_array();
      if (!list) return tl::unexpected(bad_key(source, value_node, full, "expected a list"));
      for (const auto& item : *list) {
        auto domain = item.value<std::string>();
        if (!domain || domain->empty() || domain->find_first_of("@ \t\r\n") != std::string::npos) {
          return tl::unexpected(bad_key(source, item, full, "expected domain names"));
        }
        config.filter.arc_trusted_sealers.push_back(lowercase(*domain));
      }
    } else if (key.str() == "rspamd_password") {
      auto value = string_value(source, value_node, full);
      if (!value) return tl::unexpected(value.error());
      if (value->find_first_of("\r\n") != std::string::npos) {
        return tl::unexpected(bad_key(source, value_node, full, "no line breaks in a password"));
      }
      config.filter.rspamd_password = *value;
    } else {
      return tl::unexpected(bad_key(source, value_node, full, "unknown key"));
    }
  }
  return {};
}

// [tls]: certificate and key, both or neither.
Result<void> parse_tls(std::string_view source, std::string_view name, const toml::node& node,
                       Config& config) {
  const toml::table* tls = node.as_table();
  if (!tls) return tl::unexpected(bad_key(source, node, name, "expected a table"));
  for (const auto& [tls_key, tls_node] : *tls) {
    const std::string full = "tls." + std::string(tls_key.str());
    if (tls_key.str() != "cert" && tls_key.str() != "key") {
      return tl::unexpected(bad_key(source, tls_node, full, "unknown key"));
    }
    auto value = string_value(source, tls_node, full);
    if (!value) return tl::unexpected(value.error());
    (tls_key.str() == "cert" ? config.tls.cert : config.tls.key) = *value;
  }
  if (config.tls.cert.empty() != config.tls.key.empty()) {
    return tl::unexpected(
        bad_key(source, node, "tls", "cert and key go together: set both or neither"));
  }
  return {};
}

}  // namespace

std::string Endpoint::text() const {
  if (!unix_path.empty()) return "unix:" + unix_path.string();
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint endpoint;
  if (text.starts_with("unix:")) {
    const std::string_view path = text.substr(5);
    if (path.empty() || path.front() != '/' || path.size() > 100) {
      return fail(Errc::BadInput, "\"" + std::string(text) + "\" is not \"unix:/absolute/path\"");
    }
    endpoint.unix_path = std::string(path);
    return endpoint;
  }
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail(Errc::BadInput, "\"" + std::string(text) + "\" is not \"[address]:port\"");
    }
    endpoint.address = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return fail(Errc::BadInput, "\"" + std::string(text) + "\" is not \"address:port\"");
    }
    endpoint.address = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (endpoint.address.empty() || error != std::errc() ||
      end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return fail(Errc::BadInput,
                "\"" + std::string(text) + "\" has no valid address and port 1-65535");
  }
  endpoint.port = static_cast<std::uint16_t>(port);
  return endpoint;
}

Result<Config> parse_config(std::string_view text, std::string_view source) {
  // Debian's toml++ is built with exceptions: a syntax error arrives as a throw.
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    return fail(Errc::BadInput,
                where(source, error.source()) + ": " + std::string(error.description()));
  }
  using Section = Result<void> (*)(std::string_view, std::string_view, const toml::node&, Config&);
  const std::pair<std::string_view, Section> sections[] = {{"data_dir", parse_top_level},
                                                           {"hostname", parse_top_level},
                                                           {"log_level", parse_top_level},
                                                           {"user", parse_top_level},
                                                           {"admin_socket", parse_top_level},
                                                           {"listen", parse_listen},
                                                           {"limits", parse_limits},
                                                           {"audit", parse_audit},
                                                           {"http", parse_http},
                                                           {"delivery", parse_delivery},
                                                           {"filter", parse_filter},
                                                           {"tls", parse_tls}};
  Config config;
  for (const auto& [key, node] : root) {
    const std::string_view name = key.str();
    const auto* section = std::find_if(std::begin(sections), std::end(sections),
                                       [&](const auto& entry) { return entry.first == name; });
    if (section == std::end(sections)) {
      return tl::unexpected(bad_key(source, node, name, "unknown key"));
    }
    if (auto parsed = section->second(source, name, node, config); !parsed) {
      return tl::unexpected(parsed.error());
    }
  }
  return config;
}

Result<Config> load_config(const std::filesystem::path& path) {
  auto text = files::read_all(path);
  if (!text) {
    return fail(text.error().code, "cannot read config file: " + text.error().detail);
  }
  return parse_config(*text, path.string());
}

}  // namespace rampart
