#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <ctime>

#include "base/files.h"
#include "base/log.h"

namespace rampart::net {
namespace {

constexpr char kIntermediateTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Browsers and testssl.sh allow at most 398 days; the pair is made again at start or
// on SIGHUP once fewer than kRenewDays remain.
constexpr int kSelfSignedDays = 397;
constexpr int kRenewDays = 30;

std::string openssl_error(std::string_view what) {
  std::string text(what);
  if (const unsigned long code = ERR_get_error(); code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += ": ";
    text += buffer;
  }
  ERR_clear_error();
  return text;
}

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* pointer) const { Free(pointer); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Result<void> make_self_signed(const TlsFiles& files, std::string_view hostname) {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  CertPtr cert(X509_new());
  if (!key || !cert) return fail(Errc::Internal, openssl_error("key generation"));
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) {
    return fail(Errc::Internal, "no randomness for the certificate serial");
  }
  serial[0] &= 0x7f;
  BIGNUM* serial_number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(serial_number, X509_get_serialNumber(cert.get()));
  BN_free(serial_number);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * kSelfSignedDays);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string common_name(hostname);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  const std::string san = "DNS:" + common_name;
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()},
                                   std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                                   std::pair{NID_ext_key_usage, "serverAuth"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    if (!extension) return fail(Errc::Internal, openssl_error("certificate extension"));
    X509_add_ext(cert.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return fail(Errc::Internal, openssl_error("certificate signing"));
  }
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_bio_X509(cert_bio.get(), cert.get())) {
    return fail(Errc::Internal, openssl_error("PEM encoding"));
  }
  if (auto written =
          files::write_durably(files.key, bio_text(key_bio.get()), files::SyncDirectory::No, 0600);
      !written) {
    return written;
  }
  return files::write_durably(files.cert, bio_text(cert_bio.get()), files::SyncDirectory::Yes,
                              0644);
}

// True also when the certificate cannot be read, so that a broken pair is made again.
bool expires_within(const std::filesystem::path& cert_path, int days) {
  BioPtr bio(BIO_new_file(cert_path.c_str(), "r"));
  CertPtr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  if (!cert) return true;
  const std::time_t limit = std::time(nullptr) + std::time_t{60} * 60 * 24 * days;
  std::time_t check = limit;
  return X509_cmp_time(X509_get0_notAfter(cert.get()), &check) < 0;
}

}  // namespace

Result<TlsFiles> ensure_tls_files(const TlsFiles& configured, const std::filesystem::path& data_dir,
                                  std::string_view hostname) {
  if (!configured.cert.empty()) return configured;
  const std::filesystem::path directory = data_dir / "tls";
  TlsFiles files{directory / "cert.pem", directory / "key.pem"};
  std::error_code error;
  if (std::filesystem::exists(files.cert, error) && std::filesystem::exists(files.key, error) &&
      !expires_within(files.cert, kRenewDays)) {
    return files;
  }
  std::filesystem::create_directories(directory, error);
  if (error)
    return fail(Errc::Internal, "cannot create " + directory.string() + ": " + error.message());
  ::chmod(directory.c_str(), 0700);
  if (auto made = make_self_signed(files, hostname); !made) return tl::unexpected(made.error());
  log::warn("no [tls] cert configured: made a self-signed certificate, valid " +
            std::to_string(kSelfSignedDays) + " days, for " + std::string(hostname) + " in " +
            files.cert.string() + "; clients will not trust it");
  return files;
}

Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(const TlsFiles& files) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // The server's cipher order, unlike Mozilla's intermediate profile: every cipher in
  // the list is ECDHE with AEAD, so nothing is lost, and testssl.sh rates a missing
  // server order HIGH (#6 asks for no finding of medium or above).
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(native, kIntermediateTls12Ciphers);
  SSL_CTX_set1_groups_list(native, "X25519:prime256v1:secp384r1");
  if (SSL_CTX_use_certificate_chain_file(native, files.cert.c_str()) != 1) {
    return fail(Errc::BadInput, openssl_error("cannot load certificate " + files.cert.string()));
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(Errc::BadInput, openssl_error("cannot load key " + files.key.string()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return fail(Errc::BadInput, openssl_error("key " + files.key.string() + " does not match " +
                                              files.cert.string()));
  }
  return context;
}

Result<std::unique_ptr<TlsReloader>> TlsReloader::open(const TlsFiles& files) {
  auto context = make_server_context(files);
  if (!context) return tl::unexpected(context.error());
  return std::unique_ptr<TlsReloader>(new TlsReloader(files, std::move(*context)));
}

std::shared_ptr<boost::asio::ssl::context> TlsReloader::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

Result<void> TlsReloader::reload() {
  auto context = make_server_context(files_);
  if (!context) return tl::unexpected(context.error());
  std::lock_guard lock(mutex_);
  context_ = std::move(*context);
  return {};
}

}  // namespace rampart::net
