// The directory: domains, accounts, aliases and passwords, with the policy the store
// does not know (address syntax, Argon2id hashing, plus-addressing, catch-alls).
// Blocking and thread-safe like the store it wraps; call it from a blocking pool.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "directory/login_guard.h"
#include "store/directory_store.h"

namespace rampart::audit {
class Trail;
}

namespace rampart::directory {

// Lowercases and checks an address (local@domain, RFC 5321 lengths, no spaces or
// control characters). BadInput with a reason otherwise.
Result<std::string> normalize_address(std::string_view address);
Result<std::string> normalize_domain(std::string_view domain);

// Argon2id in PHC string form; verification is constant-time in the hash.
Result<std::string> hash_password(std::string_view password);
bool verify_password(std::string_view phc_hash, std::string_view password);

class Directory {
 public:
  // `trail`: where network logins are recorded (null for the admin command).
  // `default_quota_bytes`: the quota add_account gives (0: none).
  explicit Directory(store::DirectoryStore& store, audit::Trail* trail = nullptr,
                     std::uint64_t default_quota_bytes = 0);

  Result<void> add_domain(std::string_view name);
  Result<void> remove_domain(std::string_view name);
  Result<std::vector<store::Domain>> list_domains();

  // The domain must already exist. Passwords shorter than kMinPasswordBytes are refused.
  // The account starts with the default quota.
  Result<store::Account> add_account(std::string_view address, std::string_view password);
  Result<void> set_password(std::string_view address, std::string_view password);
  Result<void> remove_account(std::string_view address);
  // 0 removes the limit.
  Result<void> set_quota(std::string_view address, std::uint64_t quota_bytes);

  // App passwords: one per device, accepted wherever the account's password is, and
  // revocable one by one. add_app_password returns the secret, the only time it is
  // ever shown: 24 random characters (120 bits) in groups of four.
  Result<std::string> add_app_password(std::string_view address, std::string_view name);
  Result<std::vector<store::AppPassword>> list_app_passwords(std::string_view address);
  Result<void> remove_app_password(std::string_view address, std::string_view name);
  Result<std::vector<store::Account>> list_accounts(std::string_view domain = {});

  // Does `address` lead to the account (itself, a +tag, an alias, a catch-all)? The one
  // answer to "may this account send as this address".
  bool owns(std::string_view address, store::AccountId account);

  // `address` is local@domain or @domain (catch-all); the target must be an account
  // or another alias, and the alias domain must be ours.
  Result<void> add_alias(std::string_view address, std::string_view target);
  Result<void> remove_alias(std::string_view address);
  Result<std::vector<store::Alias>> list_aliases(std::string_view domain = {});

  // The account mail for `address` lands in: the account itself, then the address with
  // its +tag removed, then an alias (followed up to kMaxAliasDepth), then the domain's
  // catch-all. NotFound when nothing matches.
  Result<store::Account> resolve_recipient(std::string_view address);

  // NotFound for an unknown user and NoPermission for a wrong password; callers must
  // answer both the same way. A hash is computed for unknown users too, so the time
  // taken does not tell them apart. A success is remembered for kLoginCacheTime, so a
  // client that logs in again and again (IMAP clients open a connection per folder)
  // costs one Argon2id verification, not one per connection: the cache keeps an HMAC
  // of the password under a key made at start-up, never the password, and a changed
  // password hash misses.
  // `peer` is the client's address for attempts from the network: the outcome is
  // recorded by the login guard (empty: not recorded, as for the CLI).
  // With a peer, the attempt also goes to the audit trail as a login or a failed one,
  // under `protocol`.
  Result<store::Account> authenticate(std::string_view address, std::string_view password,
                                      std::string_view peer = {}, std::string_view protocol = {});
  // An app password's secret alone, as an HTTP bearer token: the account it belongs
  // to, NotFound otherwise; with a peer, recorded like authenticate (the guard counts
  // a failure against the client's address only, a success for the owning account).
  Result<store::Account> authenticate_token(std::string_view token, std::string_view peer,
                                            std::string_view protocol);
  // Revocation: a changed password, a removed app password or a removed account
  // stamps the account with the credential clock's next tick (in this process: admin
  // commands reach the running server's directory through its admin socket). A login
  // reads the clock before it checks the credentials; its session ends, or
  // authenticates again, once the account's stamp is later than that reading: checked
  // before each IMAP command, HTTP request and WebSocket message, and on each push
  // wake-up. Read before the check, a change made while the check runs is not missed.
  std::uint64_t credential_clock() const { return credential_clock_.load(); }
  bool revoked_since(store::AccountId account, std::uint64_t clock);

  // Before a network login: refuse, delay, or go ahead (see login_guard.h). Sessions
  // wait out the delay asynchronously, then call authenticate.
  LoginGuard::Verdict login_verdict(std::string_view peer, std::string_view address);

  static constexpr std::size_t kMinPasswordBytes = 8;
  static constexpr std::size_t kMaxPasswordBytes = 1024;
  static constexpr int kMaxAliasDepth = 8;
  static constexpr std::chrono::seconds kLoginCacheTime{300};
  static constexpr std::size_t kLoginCacheEntries = 10000;

 private:
  // A network login's outcome to the guard (under `guard_name`) and the audit trail.
  void note_login(const Result<store::Account>& result, std::string_view peer,
                  std::string_view guard_name, std::string_view failed_account,
                  std::string_view protocol, std::string_view detail,
                  std::string_view failure_detail);
  // Passes `changed` on, raising the account's credential generation when it succeeded.
  Result<void> revoking(store::AccountId account, Result<void> changed);
  using Mac = std::array<unsigned char, 32>;
  struct CachedLogin {
    std::string password_hash;  // the PHC string the password matched
    Mac password_mac;
    std::chrono::steady_clock::time_point expires;
  };
  Mac password_mac(std::string_view address, std::string_view password) const;
  Result<store::Account> check_password_of(std::string_view address, std::string_view password);
  // The account at `address` (any case); BadInput for a malformed address.
  Result<store::Account> account_of(std::string_view address);

  store::DirectoryStore& store_;
  audit::Trail* trail_;
  const std::uint64_t default_quota_bytes_;
  LoginGuard guard_;
  Mac cache_key_{};
  std::mutex cache_mutex_;
  std::unordered_map<std::string, CachedLogin> cache_;  // by account address
  std::atomic<std::uint64_t> credential_clock_{0};
  std::mutex generations_mutex_;
  // The clock's tick at each account's last credential change; absent: never.
  std::unordered_map<store::AccountId, std::uint64_t> generations_;
};

}  // namespace rampart::directory
