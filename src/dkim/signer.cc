#include "dkim/signer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "base/ascii.h"
#include "base/base64.h"
#include "dkim/canonical.h"
#include "dkim/crypto_internal.h"

namespace rampart::dkim {

namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) {
  return key ? std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free) : nullptr;
}

}  // namespace

namespace detail {

Result<std::string> sign_data(const Key& key, std::string_view data) {
  MdContext context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool rsa = key.algorithm == Algorithm::Rsa;
  const std::string hashed = rsa ? std::string() : sha256(data);
  const std::string_view input = rsa ? data : std::string_view(hashed);
  std::size_t size = 0;
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, rsa ? EVP_sha256() : nullptr, nullptr,
                         key.key.get()) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return fail(Errc::Internal, "DKIM: cannot sign with " + key.selector);
  }
  std::string out(size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(out.data()), &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return fail(Errc::Internal, "DKIM: cannot sign with " + key.selector);
  }
  out.resize(size);
  return out;
}

std::string folded(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); i += 72) {
    if (i > 0) out += "\r\n\t ";
    out.append(value.substr(i, 72));
  }
  return out;
}

std::pair<std::string, std::string> fields_to_sign(const SplitMessage& split) {
  // The names, each once per field present, bottom-up (RFC 6376 section 5.4.2), plus
  // one From more than there are.
  std::string names;
  std::string data;
  for (const char* wanted : kSignedFields) {
    for (auto field = split.fields.rbegin(); field != split.fields.rend(); ++field) {
      if (!iequals(field_name(*field), wanted)) continue;
      names += (names.empty() ? "" : ":") + std::string(wanted);
      data += relaxed_header(*field) + "\r\n";
    }
    if (std::string_view(wanted) == "from")
      names += (names.empty() ? "" : ":") + std::string("from");
  }
  return {names, data};
}

std::string sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), size);
}

}  // namespace detail

namespace {

std::string_view prefix(Algorithm algorithm) {
  return algorithm == Algorithm::Rsa ? "rsa-" : "ed-";
}

// A domain as a directory name: what the directory accepts as a domain, nothing more.
bool safe_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.front() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(domain.begin(), domain.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

Result<void> write_private(const std::filesystem::path& path, EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail(Errc::Internal, "DKIM: cannot encode a key");
  }
  char* bytes = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &bytes);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::Internal, "DKIM: cannot create " + path.string());
  const bool written =
      ::write(fd, bytes, static_cast<std::size_t>(size)) == size && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return fail(Errc::Internal, "DKIM: cannot write " + path.string());
  return {};
}

std::string selector_now(Algorithm algorithm) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &utc);
  return std::string(prefix(algorithm)) + stamp;
}

}  // namespace

std::string Key::record() const {
  std::string public_key;
  if (algorithm == Algorithm::Ed25519) {
    unsigned char raw[64];
    std::size_t size = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key.get(), raw, &size) == 1) {
      public_key.assign(reinterpret_cast<char*>(raw), size);
    }
  } else {
    unsigned char* der = nullptr;
    const int size = i2d_PUBKEY(key.get(), &der);
    if (size > 0) public_key.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
    OPENSSL_free(der);
  }
  return std::string("v=DKIM1; k=") + (algorithm == Algorithm::Rsa ? "rsa" : "ed25519") +
         "; p=" + base64_encode(public_key);
}

std::string sign(std::string_view message, std::string_view domain, const std::vector<Key>& keys,
                 std::int64_t now) {
  const SplitMessage split = split_message(message);
  const std::string body_hash = base64_encode(detail::sha256(relaxed_body(split.body)));
  const auto [names, signed_fields] = detail::fields_to_sign(split);
  std::string out;
  for (const Key& key : keys) {
    std::string header = std::string("DKIM-Signature: v=1; a=") +
                         (key.algorithm == Algorithm::Rsa ? "rsa-sha256" : "ed25519-sha256") +
                         "; c=relaxed/relaxed; d=" + std::string(domain) + "; s=" + key.selector +
                         ";\r\n\tt=" + std::to_string(now) + "; h=" + names +
                         ";\r\n\tbh=" + body_hash + ";\r\n\tb=";
    auto signed_bytes = detail::sign_data(key, signed_fields + relaxed_header(header));
    if (!signed_bytes) continue;  // this key cannot sign: the others still do
    out += header + detail::folded(base64_encode(*signed_bytes)) + "\r\n";
  }
  return out;
}

std::vector<Key> KeyStore::keys(std::string_view domain) {
  const std::string name = lowercase(domain);
  if (!safe_domain(name)) return {};
  const std::filesystem::path directory = directory_ / name;
  std::error_code error;
  const auto changed = std::filesystem::last_write_time(directory, error);
  if (error) return {};
  std::lock_guard lock(mutex_);
  auto found = loaded_.find(name);
  if (found != loaded_.end() && found->second.changed == changed) return found->second.keys;
  auto keys = load(directory);
  if (!keys) return {};
  loaded_[name] = Loaded{changed, *keys};
  return *keys;
}

Result<std::vector<Key>> KeyStore::load(const std::filesystem::path& directory) {
  std::vector<Key> newest;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".pem")) continue;
    const std::string selector = file.substr(0, file.size() - 4);
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const std::string pem = text.str();
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    auto key = own(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key) continue;
    const Algorithm algorithm =
        EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_ED25519 ? Algorithm::Ed25519 : Algorithm::Rsa;
    if (!selector.starts_with(prefix(algorithm))) continue;
    auto same = std::find_if(newest.begin(), newest.end(),
                             [&](const Key& k) { return k.algorithm == algorithm; });
    if (same == newest.end()) {
      newest.push_back({selector, algorithm, key});
    } else if (selector > same->selector) {
      *same = {selector, algorithm, key};
    }
  }
  if (error) return fail(Errc::Internal, "DKIM: cannot read " + directory.string());
  std::sort(newest.begin(), newest.end(),
            [](const Key& a, const Key& b) { return a.algorithm < b.algorithm; });
  return newest;
}

Result<std::vector<Key>> KeyStore::make(std::string_view domain, bool only_if_none) {
  const std::string name = lowercase(domain);
  if (!safe_domain(name)) return fail(Errc::BadInput, "not a domain: " + name);
  if (only_if_none) {
    if (auto existing = keys(name); !existing.empty()) return existing;
  }
  const std::filesystem::path directory = directory_ / name;
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  std::filesystem::permissions(directory_, std::filesystem::perms::owner_all, error);
  std::filesystem::permissions(directory, std::filesystem::perms::owner_all, error);
  for (Algorithm algorithm : {Algorithm::Rsa, Algorithm::Ed25519}) {
    auto key = own(algorithm == Algorithm::Rsa
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048))
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) return fail(Errc::Internal, "DKIM: cannot make a key");
    std::string selector = selector_now(algorithm);
    // A second rotation within the same second: the next free name.
    for (int n = 2; std::filesystem::exists(directory / (selector + ".pem")); ++n) {
      selector = selector_now(algorithm) + "-" + std::to_string(n);
    }
    auto written = write_private(directory / (selector + ".pem"), key.get());
    if (!written) return tl::unexpected(written.error());
  }
  auto made = keys(name);
  if (made.empty()) return fail(Errc::Internal, "DKIM: the new keys cannot be read back");
  return made;
}

}  // namespace rampart::dkim
