#include "directory/directory.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/sha256.h"

namespace rampart::directory {
namespace {

// OWASP's Argon2id minimum: 19 MiB, 2 passes, 1 lane. Keeps a login flood from
// exhausting memory while staying far beyond GPU-friendly costs.
constexpr uint32_t kArgonPasses = 2;
constexpr uint32_t kArgonMemoryKib = 19 * 1024;
constexpr uint32_t kArgonLanes = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

bool is_label_char(unsigned char c) { return std::isalnum(c) || c == '-' || c >= 0x80; }

}  // namespace

Result<std::string> normalize_domain(std::string_view domain) {
  // RFC 5321 §4.5.3.1.2: a domain is at most 255 octets; labels at most 63.
  if (domain.empty() || domain.size() > 253) return fail(Errc::BadInput, "domain length");
  std::string out = lowercase(domain);
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= out.size(); ++i) {
    if (i == out.size() || out[i] == '.') {
      const std::size_t length = i - label_start;
      if (length == 0 || length > 63) return fail(Errc::BadInput, "empty or long domain label");
      if (out[label_start] == '-' || out[i - 1] == '-') {
        return fail(Errc::BadInput, "domain label starts or ends with '-'");
      }
      label_start = i + 1;
    } else if (!is_label_char(static_cast<unsigned char>(out[i]))) {
      return fail(Errc::BadInput, "invalid character in domain");
    }
  }
  return out;
}

Result<std::string> normalize_address(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return fail(Errc::BadInput, "address has no '@'");
  const std::string_view local = address.substr(0, at);
  if (local.empty() || local.size() > 64) return fail(Errc::BadInput, "local part length");
  for (unsigned char c : local) {
    // Quoted local parts and specials are refused for accounts: they only invite
    // ambiguity between protocols.
    if (c <= 0x20 || c == 0x7f || c == '@' || c == '"' || c == '(' || c == ')' || c == ',' ||
        c == ':' || c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
      return fail(Errc::BadInput, "invalid character in local part");
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return fail(Errc::BadInput, "misplaced '.' in local part");
  }
  auto domain = normalize_domain(address.substr(at + 1));
  if (!domain) return tl::unexpected(domain.error());
  return lowercase(local) + "@" + *domain;
}

Result<std::string> hash_password(std::string_view password) {
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) return fail(Errc::Internal, "RAND_bytes failed");
  const std::size_t encoded_length = argon2_encodedlen(kArgonPasses, kArgonMemoryKib, kArgonLanes,
                                                       kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(encoded_length, '\0');
  const int status = argon2id_hash_encoded(kArgonPasses, kArgonMemoryKib, kArgonLanes,
                                           password.data(), password.size(), salt, sizeof salt,
                                           kHashBytes, encoded.data(), encoded.size());
  if (status != ARGON2_OK) return fail(Errc::Internal, argon2_error_message(status));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view phc_hash, std::string_view password) {
  const std::string hash(phc_hash);  // argon2 wants a NUL-terminated string
  return argon2id_verify(hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

Result<void> Directory::add_domain(std::string_view name) {
  auto domain = normalize_domain(name);
  if (!domain) return tl::unexpected(domain.error());
  return store_.add_domain(*domain);
}

Result<void> Directory::remove_domain(std::string_view name) {
  auto domain = normalize_domain(name);
  if (!domain) return tl::unexpected(domain.error());
  return store_.remove_domain(*domain);
}

Result<std::vector<store::Domain>> Directory::list_domains() { return store_.list_domains(); }

namespace {

Result<void> check_password(std::string_view password) {
  if (password.size() < Directory::kMinPasswordBytes) {
    return fail(Errc::BadInput,
                "password shorter than " + std::to_string(Directory::kMinPasswordBytes) + " bytes");
  }
  if (password.size() > Directory::kMaxPasswordBytes)
    return fail(Errc::BadInput, "password too long");
  if (password.find('\0') != std::string_view::npos) return fail(Errc::BadInput, "NUL in password");
  return {};
}

std::string_view domain_of(std::string_view address) {
  return address.substr(address.rfind('@') + 1);
}

}  // namespace

Result<store::Account> Directory::add_account(std::string_view address, std::string_view password) {
  auto normalized = normalize_address(address);
  if (!normalized) return tl::unexpected(normalized.error());
  if (auto checked = check_password(password); !checked) return tl::unexpected(checked.error());
  auto has_domain = store_.has_domain(domain_of(*normalized));
  if (!has_domain) return tl::unexpected(has_domain.error());
  if (!*has_domain) {
    return fail(Errc::NotFound,
                "domain " + std::string(domain_of(*normalized)) + " does not exist");
  }
  auto alias = store_.find_alias(*normalized);
  if (!alias) return tl::unexpected(alias.error());
  if (*alias) return fail(Errc::Exists, *normalized + " is an alias");
  auto hash = hash_password(password);
  if (!hash) return tl::unexpected(hash.error());
  auto account = store_.add_account(*normalized, *hash);
  if (account && default_quota_bytes_ > 0) {
    if (auto set = store_.set_quota(account->id, default_quota_bytes_); !set) {
      return tl::unexpected(set.error());
    }
    account->quota_bytes = default_quota_bytes_;
  }
  return account;
}

Result<store::Account> Directory::account_of(std::string_view address) {
  auto normalized = normalize_address(address);
  if (!normalized) return tl::unexpected(normalized.error());
  return store_.find_account(*normalized);
}

Result<void> Directory::set_password(std::string_view address, std::string_view password) {
  if (auto checked = check_password(password); !checked) return tl::unexpected(checked.error());
  auto account = account_of(address);
  if (!account) return tl::unexpected(account.error());
  auto hash = hash_password(password);
  if (!hash) return tl::unexpected(hash.error());
  return revoking(account->id, store_.set_password_hash(account->id, *hash));
}

Result<void> Directory::set_quota(std::string_view address, std::uint64_t quota_bytes) {
  auto account = account_of(address);
  if (!account) return tl::unexpected(account.error());
  return store_.set_quota(account->id, quota_bytes);
}

Result<std::string> Directory::add_app_password(std::string_view address, std::string_view name) {
  if (name.empty() || name.size() > 64 ||
      std::any_of(name.begin(), name.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    return fail(Errc::BadInput, "an app password's name is 1 to 64 printable characters");
  }
  auto account = account_of(address);
  if (!account) return tl::unexpected(account.error());
  // No 0/o or 1/l: the secret is often typed on a phone.
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  unsigned char random[24];
  if (RAND_bytes(random, sizeof random) != 1) return fail(Errc::Internal, "no randomness");
  std::string secret;
  for (std::size_t i = 0; i < sizeof random; ++i) {
    if (i > 0 && i % 4 == 0) secret += '-';
    secret += kAlphabet[random[i] % 32];
  }
  auto added = store_.add_app_password(account->id, {std::string(name), sha256_hex(secret), 0});
  if (!added) return tl::unexpected(added.error());
  return secret;
}

Result<std::vector<store::AppPassword>> Directory::list_app_passwords(std::string_view address) {
  auto account = account_of(address);
  if (!account) return tl::unexpected(account.error());
  return store_.list_app_passwords(account->id);
}

Result<void> Directory::remove_app_password(std::string_view address, std::string_view name) {
  auto account = account_of(address);
  if (!account) return tl::unexpected(account.error());
  return revoking(account->id, store_.remove_app_password(account->id, name));
}

bool Directory::owns(std::string_view address, store::AccountId account) {
  auto owner = resolve_recipient(lowercase(address));
  return owner && owner->id == account;
}

Result<void> Directory::remove_account(std::string_view address) {
  auto account = account_of(address);
  if (!account) return tl::unexpected(account.error());
  return revoking(account->id, store_.remove_account(account->id));
}

Result<void> Directory::revoking(store::AccountId account, Result<void> changed) {
  if (changed) {
    std::lock_guard lock(generations_mutex_);
    generations_[account] = ++credential_clock_;
  }
  return changed;
}

bool Directory::revoked_since(store::AccountId account, std::uint64_t clock) {
  std::lock_guard lock(generations_mutex_);
  const auto found = generations_.find(account);
  return found != generations_.end() && found->second > clock;
}

Result<std::vector<store::Account>> Directory::list_accounts(std::string_view domain) {
  if (domain.empty()) return store_.list_accounts();
  auto normalized = normalize_domain(domain);
  if (!normalized) return tl::unexpected(normalized.error());
  return store_.list_accounts(*normalized);
}

Result<void> Directory::add_alias(std::string_view address, std::string_view target) {
  std::string alias;
  if (!address.empty() && address.front() == '@') {
    auto domain = normalize_domain(address.substr(1));
    if (!domain) return tl::unexpected(domain.error());
    alias = "@" + *domain;
  } else {
    auto normalized = normalize_address(address);
    if (!normalized) return tl::unexpected(normalized.error());
    alias = *normalized;
  }
  auto has_domain = store_.has_domain(domain_of(alias));
  if (!has_domain) return tl::unexpected(has_domain.error());
  if (!*has_domain)
    return fail(Errc::NotFound, "domain " + std::string(domain_of(alias)) + " does not exist");
  auto normalized_target = normalize_address(target);
  if (!normalized_target) return tl::unexpected(normalized_target.error());
  if (*normalized_target == alias) return fail(Errc::BadInput, "alias points to itself");
  if (alias.front() != '@') {
    auto existing = store_.find_account(alias);
    if (existing) return fail(Errc::Exists, alias + " is an account");
    if (existing.error().code != Errc::NotFound) return tl::unexpected(existing.error());
  }
  // The target must lead to an account now, so mail is never accepted for nowhere.
  auto resolved = resolve_recipient(*normalized_target);
  if (!resolved) {
    return fail(resolved.error().code,
                "target " + *normalized_target + " is not an account or alias here");
  }
  return store_.add_alias(alias, *normalized_target);
}

Result<void> Directory::remove_alias(std::string_view address) {
  if (!address.empty() && address.front() == '@') {
    auto domain = normalize_domain(address.substr(1));
    if (!domain) return tl::unexpected(domain.error());
    return store_.remove_alias("@" + *domain);
  }
  auto normalized = normalize_address(address);
  if (!normalized) return tl::unexpected(normalized.error());
  return store_.remove_alias(*normalized);
}

Result<std::vector<store::Alias>> Directory::list_aliases(std::string_view domain) {
  if (domain.empty()) return store_.list_aliases();
  auto normalized = normalize_domain(domain);
  if (!normalized) return tl::unexpected(normalized.error());
  return store_.list_aliases(*normalized);
}

Result<store::Account> Directory::resolve_recipient(std::string_view address) {
  auto normalized = normalize_address(address);
  if (!normalized) return tl::unexpected(normalized.error());
  std::string current = *normalized;
  for (int depth = 0; depth <= kMaxAliasDepth; ++depth) {
    auto account = store_.find_account(current);
    if (account || account.error().code != Errc::NotFound) return account;
    // user+tag@domain → user@domain (plus-addressing), tried before aliases.
    const std::string_view local = std::string_view(current).substr(0, current.rfind('@'));
    if (const auto plus = local.find('+'); plus != std::string_view::npos && plus > 0) {
      const std::string untagged =
          std::string(local.substr(0, plus)) + "@" + std::string(domain_of(current));
      auto base = store_.find_account(untagged);
      if (base || base.error().code != Errc::NotFound) return base;
      current = untagged;
    }
    auto alias = store_.find_alias(current);
    if (!alias) return tl::unexpected(alias.error());
    if (!*alias) {
      auto catch_all = store_.find_alias("@" + std::string(domain_of(current)));
      if (!catch_all) return tl::unexpected(catch_all.error());
      if (!*catch_all) return fail(Errc::NotFound, "no such recipient " + current);
      alias = std::move(catch_all);
    }
    current = (*alias)->target;
  }
  return fail(Errc::NotFound, "alias chain too deep for " + *normalized);
}

LoginGuard::Verdict Directory::login_verdict(std::string_view peer, std::string_view address) {
  return guard_.check(peer, address, LoginGuard::Clock::now());
}

Result<store::Account> Directory::authenticate(std::string_view address, std::string_view password,
                                               std::string_view peer, std::string_view protocol) {
  auto result = check_password_of(address, password);
  if (!peer.empty()) {
    // A failure is filed under the name as given (lowercased), known or not.
    note_login(result, peer, address, lowercase(address), protocol, "",
               "wrong password or unknown user");
  }
  return result;
}

void Directory::note_login(const Result<store::Account>& result, std::string_view peer,
                           std::string_view guard_name, std::string_view failed_account,
                           std::string_view protocol, std::string_view detail,
                           std::string_view failure_detail) {
  const bool refused = !result && (result.error().code == Errc::NotFound ||
                                   result.error().code == Errc::NoPermission);
  if (result) {
    guard_.succeeded(peer, guard_name, LoginGuard::Clock::now());
  } else if (refused) {
    guard_.failed(peer, guard_name, LoginGuard::Clock::now());
  }
  if (trail_ && (result || refused)) {
    const std::string account = result ? result->address : std::string(failed_account);
    trail_->record({.kind = result ? audit::kLogin : audit::kLoginFailed,
                    .account = account,
                    .actor = account,
                    .address = std::string(peer),
                    .protocol = std::string(protocol),
                    .detail = std::string(result ? detail : failure_detail)});
  }
}

Result<store::Account> Directory::authenticate_token(std::string_view token, std::string_view peer,
                                                     std::string_view protocol) {
  auto result = token.empty() || token.size() > kMaxPasswordBytes
                    ? Result<store::Account>(fail(Errc::NotFound, "no token"))
                    : store_.find_app_password_owner(sha256_hex(token));
  // An unknown token names no account: its failure counts against the client's address
  // only, so bogus tokens from anywhere never lock out anyone's real one.
  note_login(result, peer, result ? std::string_view(result->address) : std::string_view(), "",
             protocol, "bearer token", "unknown bearer token");
  if (!result && result.error().code == Errc::NotFound)
    return fail(Errc::NotFound, "unknown token");
  return result;
}

Result<store::Account> Directory::check_password_of(std::string_view address,
                                                    std::string_view password) {
  // Hashed once for the process, so an unknown user costs one verification too.
  static const std::string kDecoyHash = hash_password("rampart-decoy-password").value_or("");
  auto account = account_of(address);
  if (!account) {
    if (account.error().code != Errc::NotFound && account.error().code != Errc::BadInput) {
      return tl::unexpected(account.error());
    }
    verify_password(kDecoyHash, password);
    return fail(Errc::NotFound, "unknown user");
  }
  const Mac mac = password_mac(account->address, password);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_mutex_);
    auto cached = cache_.find(account->address);
    if (cached != cache_.end() && cached->second.expires > now &&
        cached->second.password_hash == account->password_hash &&
        CRYPTO_memcmp(cached->second.password_mac.data(), mac.data(), mac.size()) == 0) {
      return account;
    }
  }
  if (!verify_password(account->password_hash, password)) {
    // Then an app password: a direct lookup of its hash, so trying them costs nothing
    // more than the one Argon2id check above.
    auto app = store_.find_app_password(account->id, sha256_hex(password));
    if (app) return account;
    if (app.error().code != Errc::NotFound) return tl::unexpected(app.error());
    return fail(Errc::NoPermission, "wrong password for " + account->address);
  }
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= kLoginCacheEntries) cache_.clear();
  cache_[account->address] = {account->password_hash, mac, now + kLoginCacheTime};
  return account;
}

Directory::Directory(store::DirectoryStore& store, audit::Trail* trail,
                     std::uint64_t default_quota_bytes)
    : store_(store), trail_(trail), default_quota_bytes_(default_quota_bytes) {
  // Start-up: without a secret key the password cache would be a plain hash table.
  if (RAND_bytes(cache_key_.data(), static_cast<int>(cache_key_.size())) != 1) {
    throw std::runtime_error("directory: no randomness for the password cache key (RAND_bytes)");
  }
}

Directory::Mac Directory::password_mac(std::string_view address, std::string_view password) const {
  const std::string message = std::string(address) + '\0' + std::string(password);
  Mac mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), cache_key_.data(), static_cast<int>(cache_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length);
  return mac;
}

}  // namespace rampart::directory
