// The blob role of the store: message bytes by their content hash, and what JMAP
// clients upload before they use it. Blocking and thread-safe (src/store/store.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/types.h"

namespace rampart::store {

// Bytes a client uploaded, to be used by a later call (Email/import, attachments).
// Kept for kUploadLifetime, then dropped unless a message now holds the same bytes.
struct Upload {
  std::string blob_id;  // content hash
  std::string type;     // the media type the client gave
  std::uint64_t size = 0;
  std::int64_t created = 0;  // Unix seconds
};
inline constexpr std::int64_t kUploadLifetime = 24 * 3600;

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // The bytes of a blob; NotFound for an unknown or invalid id.
  virtual Result<std::string> read_blob(std::string_view blob_id) = 0;
  // The size of each blob with every line ended by CRLF, the last one too
  // (mime::crlf_size): what POP3 sends of a message and counts in LIST and STAT. In
  // `blob_ids` order; NotFound when one is unknown. Read from the blob's row; a blob
  // stored before the size was kept is read once and its size kept from then on.
  virtual Result<std::vector<std::uint64_t>> crlf_sizes(
      const std::vector<std::string>& blob_ids) = 0;
  // Uploads. add_upload keeps the bytes durably for the account (again: a new time),
  // dropping the account's uploads past kUploadLifetime; OverQuota when they, with
  // the account's mail, would pass its quota. find_blob says whether the account may
  // read a blob: one of its uploads (with its type), or the bytes of one of its
  // messages (type message/rfc822); NotFound otherwise.
  virtual Result<Upload> add_upload(AccountId account, std::string_view bytes,
                                    std::string_view type) = 0;
  virtual Result<Upload> find_blob(AccountId account, std::string_view blob_id) = 0;
};

}  // namespace rampart::store
