// The object role of the store: small per-account records a front end keeps without
// the store knowing their contents (JMAP Identity, EmailSubmission, VacationResponse;
// later calendars and contacts), on the account's one MODSEQ. Blocking and
// thread-safe (src/store/store.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/types.h"

namespace rampart::store {

// A record the store keeps for a front end without knowing its contents: `data` is
// opaque (JSON for JMAP). Each change takes the account's next MODSEQ, so these
// share the one state with mail; a destroyed record stays as a tombstone so that
// /changes can report it.
struct StoredObject {
  std::int64_t id = 0;  // per store, never reused
  std::string data;     // empty for a tombstone
  ModSeq created = 0;   // the MODSEQ that made it
  ModSeq modseq = 0;    // the MODSEQ of its last change
  bool destroyed = false;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Records of `type` ("Identity", "EmailSubmission", ...). put_object creates one
  // (id 0) or replaces one of the account's (NotFound otherwise, or if destroyed);
  // destroy_object leaves a tombstone. list_objects gives the account's live records
  // of the type, and with `since` > 0 also tombstones changed after it, ascending id.
  virtual Result<StoredObject> put_object(AccountId account, std::string_view type, std::int64_t id,
                                          std::string_view data) = 0;
  virtual Result<void> destroy_object(AccountId account, std::string_view type,
                                      std::int64_t id) = 0;
  virtual Result<std::vector<StoredObject>> list_objects(AccountId account, std::string_view type,
                                                         ModSeq since = 0) = 0;
};

}  // namespace rampart::store
