// Email/set create (RFC 8621 §4.6): an RFC 5322 message built from an Email object's
// header and body properties. Pure: attachments come through a callback that reads
// the account's blobs, so this is unit-tested and fuzzed on its own.
//
// Every string that reaches a header is checked for CR, LF and NUL (no header
// injection), non-ASCII text is written as RFC 2047 encoded words, names as RFC 2231
// parameters, text bodies as UTF-8 in 7bit or quoted-printable, attachments base64.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace rampart::jmap {

namespace json = boost::json;

// An uploaded or stored blob: its bytes and media type; nullopt if the account has none.
struct Blob {
  std::string bytes;
  std::string type;
};
using BlobReader = std::function<std::optional<Blob>(std::string_view blob_id)>;

struct ComposeOptions {
  std::string hostname;  // for a generated Message-ID
  std::int64_t now = 0;  // Unix seconds, for a missing Date
  std::size_t max_attachment_bytes = 10'000'000;
};

// The message, or a SetError object (invalidProperties with "properties",
// blobNotFound with "notFound", tooLarge). Properties that are not content
// (mailboxIds, keywords, receivedAt) are the caller's and are ignored here.
std::variant<std::string, json::object> compose_email(const json::object& email,
                                                      const BlobReader& read_blob,
                                                      const ComposeOptions& options);

}  // namespace rampart::jmap
