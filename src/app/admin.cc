// domain, user, alias and queue subcommands: calls of the admin API (admin/api.h).
#include <termios.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <iostream>

#include "app/commands.h"
#include "app/open.h"
#include "base/ascii.h"

namespace rampart::app {
namespace {

namespace json = boost::json;

std::string text_of(const json::value& value) { return std::string(value.as_string()); }

// Echo off while the user types; restored on every path out.
class NoEcho {
 public:
  NoEcho() {
    if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~NoEcho() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

std::optional<std::string> read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// From standard input when it is not a terminal (one line), else prompted twice.
std::optional<std::string> read_password() {
  if (!isatty(STDIN_FILENO)) return read_line();
  std::optional<std::string> first, second;
  {
    NoEcho quiet;
    std::cerr << "Password: " << std::flush;
    first = read_line();
    std::cerr << "\nRepeat password: " << std::flush;
    second = read_line();
    std::cerr << "\n";
  }
  if (!first || !second) return std::nullopt;
  if (*first != *second) {
    std::cerr << "rampart: the passwords differ\n";
    return std::nullopt;
  }
  return first;
}

}  // namespace

int domain_command(const std::filesystem::path& config_path, const std::string& verb,
                   const std::string& name) {
  if (verb == "list") {
    auto domains = call_admin(config_path, {{"call", "domain.list"}}, "cannot list domains");
    if (!domains) return kExitFailure;
    for (const auto& domain : domains->as_array()) std::cout << text_of(domain) << "\n";
    return kExitOk;
  }
  if (!call_admin(config_path, {{"call", "domain." + verb}, {"name", name}},
                  "cannot " + verb + " domain " + name)) {
    return kExitFailure;
  }
  std::cout << (verb == "add" ? "added" : "removed") << " domain " << name << "\n";
  return kExitOk;
}

int dns_records_command(const std::filesystem::path& config_path, const std::string& domain,
                        bool dkim_only, bool rotate) {
  const json::object request =
      dkim_only
          ? json::object{{"call", "domain.dkim"}, {"name", domain}, {"rotate", rotate ? 1 : 0}}
          : json::object{{"call", "domain.records"}, {"name", domain}};
  auto records = call_admin(config_path, request, "cannot make the records of " + domain);
  if (!records) return kExitFailure;
  for (const auto& record : records->as_array()) {
    std::cout << text_of(record.at("name")) << "\tIN\t" << text_of(record.at("type")) << "\t"
              << text_of(record.at("value")) << "\n";
  }
  return kExitOk;
}

int user_command(const std::filesystem::path& config_path, const std::string& verb,
                 const std::string& address) {
  if (verb == "list") {
    json::object request{{"call", "user.list"}};
    if (!address.empty()) request["domain"] = address;
    auto accounts = call_admin(config_path, request, "cannot list accounts");
    if (!accounts) return kExitFailure;
    for (const auto& account : accounts->as_array()) {
      std::cout << text_of(account.at("address")) << "\n";
    }
    return kExitOk;
  }
  if (verb == "remove") {
    if (!call_admin(config_path, {{"call", "user.remove"}, {"address", address}},
                    "cannot remove " + address)) {
      return kExitFailure;
    }
    std::cout << "removed " << address << " and all its mail\n";
    return kExitOk;
  }
  auto password = read_password();
  if (!password) {
    std::cerr << "rampart: no password given\n";
    return kExitFailure;
  }
  const json::object request{{"call", verb == "add" ? "user.add" : "user.passwd"},
                             {"address", address},
                             {"password", *password}};
  if (verb == "add") {
    auto account = call_admin(config_path, request, "cannot add " + address);
    if (!account) return kExitFailure;
    std::cout << "added " << text_of(account->at("address")) << "\n";
  } else {
    if (!call_admin(config_path, request, "cannot set the password of " + address)) {
      return kExitFailure;
    }
    std::cout << "password changed for " << address << "\n";
  }
  return kExitOk;
}

int quota_command(const std::filesystem::path& config_path, const std::string& address,
                  const std::string& size) {
  std::uint64_t bytes = 0;
  if (size != "none") {
    std::uint64_t number = 0;
    const auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), number);
    const std::string_view unit(end, size.data() + size.size() - end);
    int shift = -1;
    if (unit.empty()) shift = 0;
    for (const auto& [suffix, bits] : {std::pair{"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}}) {
      if (iequals(unit, suffix)) shift = bits;
    }
    if (error != std::errc() || end == size.data() || shift < 0 ||
        number > (static_cast<std::uint64_t>(INT64_MAX) >> shift)) {
      std::cerr << "rampart: quota size must be bytes with an optional K, M, G or T, or none\n";
      return kExitUsage;
    }
    bytes = number << shift;
  }
  if (!call_admin(config_path,
                  {{"call", "user.quota"},
                   {"address", address},
                   {"bytes", static_cast<std::int64_t>(bytes)}},
                  "cannot set the quota of " + address)) {
    return kExitFailure;
  }
  if (bytes == 0) {
    std::cout << "no quota for " << address << "\n";
  } else {
    std::cout << "quota of " << address << " set to " << bytes << " bytes\n";
  }
  return kExitOk;
}

int app_password_command(const std::filesystem::path& config_path, const std::string& verb,
                         const std::string& address, const std::string& device) {
  if (verb == "list") {
    auto passwords = call_admin(config_path, {{"call", "app_password.list"}, {"address", address}},
                                "cannot list the app passwords of " + address);
    if (!passwords) return kExitFailure;
    for (const auto& password : passwords->as_array()) {
      const std::time_t created = password.at("created").to_number<std::int64_t>();
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&created));
      std::cout << text_of(password.at("device")) << "\tcreated " << when << "\n";
    }
    return kExitOk;
  }
  const json::object request{
      {"call", "app_password." + verb}, {"address", address}, {"device", device}};
  if (verb == "remove") {
    if (!call_admin(config_path, request, "cannot revoke " + device + " of " + address)) {
      return kExitFailure;
    }
    std::cout << "revoked the app password " << device << " of " << address << "\n";
    return kExitOk;
  }
  auto made = call_admin(config_path, request, "cannot add an app password for " + address);
  if (!made) return kExitFailure;
  std::cout << text_of(made->at("secret")) << "\n";
  std::cerr << "app password " << device << " for " << address
            << ": shown once, use it instead of the account's password on that device\n";
  return kExitOk;
}

int alias_command(const std::filesystem::path& config_path, const std::string& verb,
                  const std::string& address, const std::string& target) {
  if (verb == "list") {
    json::object request{{"call", "alias.list"}};
    if (!address.empty()) request["domain"] = address;
    auto aliases = call_admin(config_path, request, "cannot list aliases");
    if (!aliases) return kExitFailure;
    for (const auto& alias : aliases->as_array()) {
      std::cout << text_of(alias.at("address")) << " -> " << text_of(alias.at("target")) << "\n";
    }
    return kExitOk;
  }
  if (verb == "add") {
    if (!call_admin(config_path, {{"call", "alias.add"}, {"address", address}, {"target", target}},
                    "cannot add alias " + address)) {
      return kExitFailure;
    }
    std::cout << "added alias " << address << " -> " << target << "\n";
    return kExitOk;
  }
  if (!call_admin(config_path, {{"call", "alias.remove"}, {"address", address}},
                  "cannot remove alias " + address)) {
    return kExitFailure;
  }
  std::cout << "removed alias " << address << "\n";
  return kExitOk;
}

namespace {

std::string utc_time(std::int64_t seconds) {
  const std::time_t time = seconds;
  std::tm utc{};
  gmtime_r(&time, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return stamp;
}

// One entry: id, queued time (UTC), size, sender, attempts, held; then its recipients
// with their state.
void print_entry(const json::value& entry) {
  std::cout << entry.at("id").to_number<std::int64_t>() << "  "
            << utc_time(entry.at("queued_at").to_number<std::int64_t>()) << "  "
            << entry.at("size").to_number<std::uint64_t>() << " bytes  <"
            << text_of(entry.at("sender")) << ">  attempts "
            << entry.at("attempts").to_number<int>() << (entry.at("held").as_bool() ? "  held" : "")
            << "\n";
  for (const auto& recipient : entry.at("recipients").as_array()) {
    std::cout << "    -> <" << text_of(recipient.at("address")) << ">  "
              << text_of(recipient.at("state"));
    if (!recipient.at("reply").as_string().empty()) {
      std::cout << "  " << text_of(recipient.at("reply"));
    }
    if (!recipient.at("via").as_string().empty()) {
      std::cout << "  via " << text_of(recipient.at("via"));
    }
    std::cout << "\n";
  }
}

}  // namespace

int queue_command(const std::filesystem::path& config_path, const std::string& verb,
                  std::int64_t id) {
  if (verb == "list") {
    auto entries = call_admin(config_path, {{"call", "queue.list"}}, "cannot read the queue");
    if (!entries) return kExitFailure;
    for (const auto& entry : entries->as_array()) print_entry(entry);
    std::cout << entries->as_array().size() << " message(s) queued\n";
    return kExitOk;
  }
  json::object request{{"call", "queue." + verb}};
  if (id != 0 || verb != "retry") request["id"] = id;
  auto answer = call_admin(config_path, request, "cannot " + verb + " queue entry");
  if (!answer) return kExitFailure;
  if (verb == "show") {
    print_entry(*answer);
    std::cout << "next attempt " << utc_time(answer->at("next_attempt").to_number<std::int64_t>())
              << "\n";
  } else if (verb == "retry") {
    std::cout << answer->to_number<std::int64_t>() << " message(s) due now\n";
  } else {
    std::cout << (verb == "hold"      ? "held "
                  : verb == "release" ? "released "
                                      : "removed ")
              << id << "\n";
  }
  return kExitOk;
}

}  // namespace rampart::app
