// domain, user and alias subcommands: the directory, straight on the store.
#include <termios.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <ctime>
#include <iostream>

#include "app/commands.h"
#include "app/open.h"
#include "base/ascii.h"
#include "directory/directory.h"

namespace rampart::app {
namespace {

int report(const Error& error, const std::string& what) {
  std::cerr << "rampart: " << what << ": " << errc_name(error.code);
  if (!error.detail.empty()) std::cerr << " (" << error.detail << ")";
  std::cerr << "\n";
  return kExitFailure;
}

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
  auto opened = open_admin(config_path, "domain " + verb + (name.empty() ? "" : " " + name), {});
  if (!opened) return kExitFailure;
  directory::Directory directory(*opened->store);
  if (verb == "list") {
    auto domains = directory.list_domains();
    if (!domains) return report(domains.error(), "cannot list domains");
    for (const auto& domain : *domains) std::cout << domain.name << "\n";
    return kExitOk;
  }
  auto done = verb == "add" ? directory.add_domain(name) : directory.remove_domain(name);
  if (!done) return report(done.error(), "cannot " + verb + " domain " + name);
  std::cout << (verb == "add" ? "added" : "removed") << " domain " << name << "\n";
  return kExitOk;
}

int user_command(const std::filesystem::path& config_path, const std::string& verb,
                 const std::string& address) {
  auto opened = open_admin(config_path, "user " + verb + (address.empty() ? "" : " " + address),
                           (verb == "list" ? std::string() : address));
  if (!opened) return kExitFailure;
  directory::Directory directory(*opened->store);
  if (verb == "list") {
    auto accounts = directory.list_accounts(address);
    if (!accounts) return report(accounts.error(), "cannot list accounts");
    for (const auto& account : *accounts) std::cout << account.address << "\n";
    return kExitOk;
  }
  if (verb == "remove") {
    auto removed = directory.remove_account(address);
    if (!removed) return report(removed.error(), "cannot remove " + address);
    std::cout << "removed " << address << " and all its mail\n";
    return kExitOk;
  }
  auto password = read_password();
  if (!password) {
    std::cerr << "rampart: no password given\n";
    return kExitFailure;
  }
  if (verb == "add") {
    auto account = directory.add_account(address, *password);
    if (!account) return report(account.error(), "cannot add " + address);
    std::cout << "added " << account->address << "\n";
  } else {
    auto changed = directory.set_password(address, *password);
    if (!changed) return report(changed.error(), "cannot set the password of " + address);
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
    if (error != std::errc() || end == size.data() || shift < 0 || number > (UINT64_MAX >> shift)) {
      std::cerr << "rampart: quota size must be bytes with an optional K, M, G or T, or none\n";
      return kExitUsage;
    }
    bytes = number << shift;
  }
  auto opened = open_admin(config_path, "user quota " + address + " " + size, address);
  if (!opened) return kExitFailure;
  directory::Directory directory(*opened->store);
  auto set = directory.set_quota(address, bytes);
  if (!set) return report(set.error(), "cannot set the quota of " + address);
  if (bytes == 0) {
    std::cout << "no quota for " << address << "\n";
  } else {
    std::cout << "quota of " << address << " set to " << bytes << " bytes\n";
  }
  return kExitOk;
}

int app_password_command(const std::filesystem::path& config_path, const std::string& verb,
                         const std::string& address, const std::string& device) {
  auto opened = open_admin(
      config_path,
      "user app-password " + verb + " " + address + (device.empty() ? "" : " " + device), address);
  if (!opened) return kExitFailure;
  directory::Directory directory(*opened->store);
  if (verb == "list") {
    auto passwords = directory.list_app_passwords(address);
    if (!passwords) return report(passwords.error(), "cannot list the app passwords of " + address);
    for (const auto& password : *passwords) {
      const std::time_t created = password.created;
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&created));
      std::cout << password.name << "\tcreated " << when << "\n";
    }
    return kExitOk;
  }
  if (verb == "remove") {
    auto removed = directory.remove_app_password(address, device);
    if (!removed) return report(removed.error(), "cannot revoke " + device + " of " + address);
    std::cout << "revoked the app password " << device << " of " << address << "\n";
    return kExitOk;
  }
  auto secret = directory.add_app_password(address, device);
  if (!secret) return report(secret.error(), "cannot add an app password for " + address);
  std::cout << *secret << "\n";
  std::cerr << "app password " << device << " for " << address
            << ": shown once, use it instead of the account's password on that device\n";
  return kExitOk;
}

int alias_command(const std::filesystem::path& config_path, const std::string& verb,
                  const std::string& address, const std::string& target) {
  auto opened = open_admin(config_path,
                           "alias " + verb + (address.empty() ? "" : " " + address) +
                               (target.empty() ? "" : " " + target),
                           {});
  if (!opened) return kExitFailure;
  directory::Directory directory(*opened->store);
  if (verb == "list") {
    auto aliases = directory.list_aliases(address);
    if (!aliases) return report(aliases.error(), "cannot list aliases");
    for (const auto& alias : *aliases) std::cout << alias.address << " -> " << alias.target << "\n";
    return kExitOk;
  }
  if (verb == "add") {
    auto added = directory.add_alias(address, target);
    if (!added) return report(added.error(), "cannot add alias " + address);
    std::cout << "added alias " << address << " -> " << target << "\n";
    return kExitOk;
  }
  auto removed = directory.remove_alias(address);
  if (!removed) return report(removed.error(), "cannot remove alias " + address);
  std::cout << "removed alias " << address << "\n";
  return kExitOk;
}

int queue_command(const std::filesystem::path& config_path, const std::string& /*verb: list*/) {
  auto opened = open_admin(config_path, "queue list", {});
  if (!opened) return kExitFailure;
  auto entries = opened->store->list_queue();
  if (!entries) return report(entries.error(), "cannot read the queue");
  // One line per message: id, queued time (UTC), size, sender, then its recipients.
  for (const auto& entry : *entries) {
    const std::time_t queued = entry.queued_at;
    std::tm utc{};
    gmtime_r(&queued, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::cout << entry.id << "  " << stamp << "  " << entry.size << " bytes  <" << entry.sender
              << ">  attempts " << entry.attempts << "\n";
    for (const auto& recipient : entry.recipients)
      std::cout << "    -> <" << recipient.address << ">\n";
  }
  std::cout << entries->size() << " message(s) queued\n";
  return kExitOk;
}

}  // namespace rampart::app
