// DKIM signing (RFC 6376, relaxed/relaxed) with rsa-sha256 and ed25519-sha256 (RFC
// 8463), and the keys each hosted domain signs with: made by the server, kept under
// data_dir/dkim/DOMAIN/ readable by the service user only, the newest of each
// algorithm in use. docs/delivery.md says what an admin publishes.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace rampart::dkim {

enum class Algorithm { Rsa, Ed25519 };

struct Key {
  std::string selector;  // "rsa-20261203170102", "ed-20261203170102"
  Algorithm algorithm = Algorithm::Rsa;
  std::shared_ptr<EVP_PKEY> key;

  // The TXT record's value: "v=DKIM1; k=rsa; p=..." (k=ed25519 with the raw key).
  std::string record() const;
};

// The header fields a signature covers, each as often as it occurs; From once more,
// so that no From can be added (oversigning).
inline constexpr const char* kSignedFields[] = {"from",
                                                "sender",
                                                "reply-to",
                                                "to",
                                                "cc",
                                                "subject",
                                                "date",
                                                "message-id",
                                                "in-reply-to",
                                                "references",
                                                "mime-version",
                                                "content-type",
                                                "content-transfer-encoding"};

// The DKIM-Signature fields, one per key, each ending in CRLF, to put before `message`
// (CRLF line ends). `now` is the t= tag (Unix seconds).
std::string sign(std::string_view message, std::string_view domain, const std::vector<Key>& keys,
                 std::int64_t now);

// The keys of the domains this server hosts, under `directory` (data_dir/dkim).
// Thread-safe; reads a domain's keys once and again after they change.
class KeyStore {
 public:
  explicit KeyStore(std::filesystem::path directory) : directory_(std::move(directory)) {}

  // The newest key of each algorithm for `domain` (lowercase); none: not signed.
  std::vector<Key> keys(std::string_view domain);

  // Makes an RSA 2048-bit and an Ed25519 key for `domain` with new selectors (mode
  // 0600), unless `only_if_none` and it has keys already. Returns the keys in use.
  Result<std::vector<Key>> make(std::string_view domain, bool only_if_none);

 private:
  struct Loaded {
    std::filesystem::file_time_type changed;
    std::vector<Key> keys;
  };
  Result<std::vector<Key>> load(const std::filesystem::path& directory);

  const std::filesystem::path directory_;
  std::mutex mutex_;
  std::map<std::string, Loaded, std::less<>> loaded_;
};

}  // namespace rampart::dkim
