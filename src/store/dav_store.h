// The DAV role of the store: an account's calendars and address books (collections)
// and the iCalendar and vCard objects in them, for CalDAV and CardDAV (and later JMAP
// for calendars and contacts). Blocking and thread-safe (src/store/store.h).
//
// An object is kept as the client's own text, with the fields queries need (UID, the
// time span of every instance, the component type) beside it; its ETag is the SHA-256
// of the text, so the same bytes always have the same ETag. Every change takes the
// account's next MODSEQ, like mail: a collection's `modseq` is its last change or its
// members' (the CalendarServer ctag and the RFC 6578 sync token), and a deleted
// object stays as a tombstone so that sync-collection can report it. Tombstones past
// kDavTombstones per collection are pruned oldest first, raising the collection's
// `sync_floor`: a sync token older than that is no longer valid.
//
// The text counts against the account's quota like mail. Bounds: kDavCollections per
// account, kDavObjects per collection (TooBig past them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/types.h"

namespace rampart::store {

using CollectionId = std::int64_t;

enum class CollectionKind { Calendar = 1, AddressBook = 2 };

inline constexpr std::size_t kDavCollections = 1000;
inline constexpr std::size_t kDavObjects = 100000;
inline constexpr std::size_t kDavTombstones = 10000;

struct DavCollection {
  CollectionId id = 0;
  AccountId account = 0;
  CollectionKind kind = CollectionKind::Calendar;
  std::string name;  // the URL segment, unique per account and kind
  std::string display_name;
  std::string description;
  std::string color;       // Apple's calendar-color, "#RRGGBB" or "#RRGGBBAA"
  std::string components;  // calendars: the component types allowed, "VEVENT,VTODO"
  std::string timezone;    // calendars: CALDAV:calendar-timezone, a VCALENDAR text
  std::string properties;  // dead properties, in the DAV layer's own form
  ModSeq modseq = 0;       // its last change, or its members'
  ModSeq sync_floor = 0;   // sync tokens below this are no longer valid
};

// What queries need of an object, read from its text by the DAV layer.
struct DavIndex {
  int component = 0;             // calendar::Component + 1; 0 for a vCard
  std::int64_t first_start = 0;  // calendars: every instance lies in [first_start, last_end)
  std::int64_t last_end = 0;
};

struct DavObject {
  std::int64_t id = 0;
  CollectionId collection = 0;
  std::string name;  // the resource's URL segment, unique in its collection
  std::string uid;   // iCalendar or vCard UID, unique in its collection
  std::string etag;  // SHA-256 of `data`, hex
  std::string data;  // empty when not asked for, and for a tombstone
  std::uint64_t size = 0;
  DavIndex index;
  ModSeq modseq = 0;
  bool destroyed = false;
};

// Conditions of a write (RFC 7232): If-Match with the ETag the client holds, or
// If-None-Match: * (create only).
struct DavCondition {
  std::optional<std::string> if_match;
  bool if_none_match = false;
};

struct DavPut {
  enum class Outcome { Created, Replaced, PreconditionFailed, UidConflict };
  Outcome outcome = Outcome::Created;
  DavObject object;           // as stored (Created, Replaced)
  std::string conflict_name;  // UidConflict: the resource that holds the UID
};

struct DavChanges {
  std::vector<DavObject> changed;    // live objects changed after the token, without data
  std::vector<std::string> removed;  // names destroyed after it
  ModSeq modseq = 0;                 // the collection's, the next token
};

class DavStore {
 public:
  virtual ~DavStore() = default;

  virtual Result<std::vector<DavCollection>> list_collections(AccountId account,
                                                              CollectionKind kind) = 0;
  virtual Result<DavCollection> find_collection(AccountId account, CollectionKind kind,
                                                std::string_view name) = 0;
  // Exists when the name is taken, TooBig past kDavCollections.
  virtual Result<DavCollection> create_collection(const DavCollection& collection) = 0;
  // Writes the descriptive fields (names, colour, components, time zone, properties).
  virtual Result<DavCollection> update_collection(const DavCollection& collection) = 0;
  // With every object in it.
  virtual Result<void> delete_collection(CollectionId id) = 0;

  // Creates or replaces the object `name`. OverQuota, TooBig past kDavObjects.
  virtual Result<DavPut> put_dav_object(CollectionId collection, std::string_view name,
                                        std::string_view uid, std::string_view data,
                                        const DavIndex& index, const DavCondition& condition) = 0;
  // NotFound when absent; false when If-Match names another ETag.
  virtual Result<bool> delete_dav_object(CollectionId collection, std::string_view name,
                                         const std::optional<std::string>& if_match) = 0;
  // The live objects with these names (all of them when `names` is empty), by name;
  // with their text when `with_data`.
  virtual Result<std::vector<DavObject>> get_dav_objects(CollectionId collection,
                                                         const std::vector<std::string>& names,
                                                         bool with_data) = 0;
  // Calendars: the live objects, with their text, whose span meets [start, end).
  virtual Result<std::vector<DavObject>> dav_objects_in_range(CollectionId collection,
                                                              std::int64_t start,
                                                              std::int64_t end) = 0;
  // The live object with this UID in any of the account's collections of `kind`.
  virtual Result<std::optional<DavObject>> find_dav_uid(AccountId account, CollectionKind kind,
                                                        std::string_view uid) = 0;
  // What changed after `since` (0: every live object). TooBig when `since` is below
  // the collection's sync_floor, BadInput when it is ahead of the collection.
  virtual Result<DavChanges> dav_changes(CollectionId collection, ModSeq since) = 0;
};

}  // namespace rampart::store
