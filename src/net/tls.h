// TLS for every listener: one server context per certificate, Mozilla "intermediate"
// profile's protocols and ciphers (TLS 1.2 and 1.3, ECDHE with AEAD ciphers only),
// with the server's cipher order (all are strong; testssl.sh wants an order), no
// compression, no renegotiation, no session tickets across restarts.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>

#include "base/result.h"

namespace boost::asio::ssl {
class context;
}

namespace rampart::net {

struct TlsFiles {
  std::filesystem::path cert, key;
};

// When `files` is empty, uses data_dir/tls/{cert,key}.pem, creating a self-signed
// pair for `hostname` there on first use, and again when it has fewer than 30 of its
// 397 days left (logged). Returns the files in force.
Result<TlsFiles> ensure_tls_files(const TlsFiles& configured, const std::filesystem::path& data_dir,
                                  std::string_view hostname);

// Loads and checks the pair (the key must match the certificate).
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(const TlsFiles& files);

// The context new connections get. reload() reads the files again (after the admin
// replaced them, on SIGHUP); connections already open keep the context they started
// with, so nothing is dropped. Thread-safe.
class TlsReloader {
 public:
  // Loads the files once; the server does not start without a working pair.
  static Result<std::unique_ptr<TlsReloader>> open(const TlsFiles& files);

  std::shared_ptr<boost::asio::ssl::context> current() const;
  // On failure the context in force stays, and the error says why.
  Result<void> reload();

 private:
  TlsReloader(TlsFiles files, std::shared_ptr<boost::asio::ssl::context> context)
      : files_(std::move(files)), context_(std::move(context)) {}

  const TlsFiles files_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace rampart::net
