// Each account's Sieve scripts (RFC 5228), as ManageSieve (RFC 5804) and later JMAP
// Sieve (RFC 9661) manage them and Delivery runs the active one: named scripts kept in
// the object store (one record each, `kSieveScriptType`), at most one of them active
// (a record of its own, `kSieveActiveType`, naming it, so activating is one write).
// Every script is parsed and validated before it is kept. Blocking and thread-safe;
// call it from the blocking pool.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/object_store.h"

namespace rampart::delivery {

inline constexpr char kSieveScriptType[] = "SieveScript";
inline constexpr char kSieveActiveType[] = "SieveActive";

struct SieveScript {
  std::string name;
  std::string content;
  bool active = false;
  store::ModSeq modseq = 0;  // of its last change (or of its activation, when later)
};

class SieveScripts {
 public:
  // What one account may keep (RFC 5804 HAVESPACE answers from these).
  static constexpr std::size_t kMaxScripts = 32;
  static constexpr std::size_t kMaxScriptBytes = 64 * 1024;
  static constexpr std::size_t kMaxNameBytes = 128;

  explicit SieveScripts(store::ObjectStore& store) : store_(store) {}

  Result<std::vector<SieveScript>> list(store::AccountId account);
  // NotFound when there is none of that name.
  Result<SieveScript> get(store::AccountId account, std::string_view name);
  // The active script, or nullopt when none is.
  Result<std::optional<SieveScript>> active(store::AccountId account);

  // Whether a script of `size` bytes named `name` would fit (TooBig: too large or too
  // many scripts) and the name is one (BadInput: empty, too long, control characters).
  Result<void> have_space(store::AccountId account, std::string_view name, std::size_t size);
  // Stores the script (replacing one of the same name) once it parses: BadInput with the
  // parser's "line N: ..." when it does not (its words are about the caller's text), or
  // BadInput for the name and TooBig as have_space.
  Result<void> put(store::AccountId account, std::string_view name, std::string_view content);
  // Makes `name` the active script; an empty name deactivates whichever is.
  Result<void> activate(store::AccountId account, std::string_view name);
  // Exists: the new name is taken. Renaming the active script keeps it active.
  Result<void> rename(store::AccountId account, std::string_view from, std::string_view to);
  // NoPermission for the active script (RFC 5804 section 2.10).
  Result<void> remove(store::AccountId account, std::string_view name);

  // Is `name` one a script may have (RFC 5804 section 1.6: no control characters)?
  static bool valid_name(std::string_view name);

 private:
  struct Stored {
    std::int64_t id = 0;
    SieveScript script;
  };
  Result<std::vector<Stored>> load(store::AccountId account);
  // The id of the record a script of `size` bytes named `name` goes in (0: a new one),
  // or why it cannot (have_space).
  static Result<std::int64_t> slot(const std::vector<Stored>& stored, std::string_view name,
                                   std::size_t size);
  // The active record's id (0: none) and the name it holds.
  Result<std::pair<std::int64_t, std::string>> load_active(store::AccountId account,
                                                           store::ModSeq* modseq = nullptr);

  store::ObjectStore& store_;
};

}  // namespace rampart::delivery
