// The directory role of the store: domains, accounts, app passwords and aliases, and
// what an account's mail takes (quota, usage). Data only: the policy (address syntax,
// hashing, plus-addressing, catch-alls) is src/directory's. Blocking, thread-safe and
// durable on return, like every role (src/store/store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/types.h"

namespace rampart::store {

struct Domain {
  std::string name;  // lowercase
};

struct Account {
  AccountId id = 0;
  std::string address;            // lowercase local@domain
  std::string password_hash;      // PHC string ($argon2id$...)
  std::int64_t created = 0;       // Unix seconds
  ModSeq modseq = 0;              // account-wide change counter
  std::uint64_t quota_bytes = 0;  // storage limit over all its mailboxes; 0: none
};

// A password for one device or program, instead of the account's own. The secret is
// random and long, so it is kept as a plain SHA-256 (hex), looked up directly.
struct AppPassword {
  std::string name;  // what the user calls the device: "phone", "laptop mbsync"
  std::string secret_hash;
  std::int64_t created = 0;  // Unix seconds
};

// What an account's mailboxes hold, counted once per message per mailbox.
struct Usage {
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
};

// `address` is local@domain, or @domain for a catch-all; `target` is an address.
struct Alias {
  std::string address;
  std::string target;
};

class DirectoryStore {
 public:
  virtual ~DirectoryStore() = default;

  // Domains
  virtual Result<void> add_domain(std::string_view name) = 0;
  virtual Result<void> remove_domain(std::string_view name) = 0;  // Exists if accounts remain
  virtual Result<std::vector<Domain>> list_domains() = 0;
  virtual Result<bool> has_domain(std::string_view name) = 0;

  // Accounts. add_account creates the default mailboxes; the domain must exist.
  // remove_account deletes the account's mailboxes, messages, change log and
  // every blob no other account references.
  virtual Result<Account> add_account(std::string_view address, std::string_view password_hash) = 0;
  virtual Result<Account> find_account(std::string_view address) = 0;
  virtual Result<Account> get_account(AccountId id) = 0;
  virtual Result<std::vector<Account>> list_accounts(std::string_view domain = {}) = 0;
  virtual Result<void> set_password_hash(AccountId id, std::string_view password_hash) = 0;
  // APPEND and COPY beyond the quota fail with OverQuota; deliveries are not refused
  // here (SMTP checks at RCPT time, so one full mailbox does not fail a message for
  // every other recipient), so usage may end a message above the limit.
  virtual Result<void> set_quota(AccountId id, std::uint64_t quota_bytes) = 0;
  virtual Result<Usage> usage(AccountId id) = 0;

  // App passwords: Exists if the account already has one by that name; NotFound on
  // remove when it has none. find_app_password answers NotFound for no match.
  virtual Result<void> add_app_password(AccountId id, const AppPassword& password) = 0;
  virtual Result<std::vector<AppPassword>> list_app_passwords(AccountId id) = 0;
  virtual Result<void> remove_app_password(AccountId id, std::string_view name) = 0;
  virtual Result<AppPassword> find_app_password(AccountId id, std::string_view secret_hash) = 0;
  // The account with an app password of this hash, whoever it is (bearer tokens).
  virtual Result<Account> find_app_password_owner(std::string_view secret_hash) = 0;
  virtual Result<void> remove_account(AccountId id) = 0;

  // Aliases
  virtual Result<void> add_alias(std::string_view address, std::string_view target) = 0;
  virtual Result<void> remove_alias(std::string_view address) = 0;
  virtual Result<std::vector<Alias>> list_aliases(std::string_view domain = {}) = 0;
  virtual Result<std::optional<Alias>> find_alias(std::string_view address) = 0;
};

}  // namespace rampart::store
