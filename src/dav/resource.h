// Where things live in the DAV namespace, and the hrefs that name them. Pure.
//
//   /dav/principals/ADDRESS               the account's principal (RFC 3744)
//   /dav/calendars/ADDRESS                its calendar home (RFC 4791 section 6.2.1)
//   /dav/calendars/ADDRESS/CALENDAR       a calendar collection
//   /dav/calendars/ADDRESS/CALENDAR/NAME  a calendar object resource
//   /dav/addressbooks/ADDRESS             its address book home (RFC 6352 section 7.1.1)
//   /dav/addressbooks/ADDRESS/BOOK        an address book
//   /dav/addressbooks/ADDRESS/BOOK/NAME   a vCard
//
// A path's depth says what it is, so a trailing slash (which the request-target
// decoder drops, http/target.h) changes nothing; hrefs of collections are written with
// one, as WebDAV clients expect.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::dav {

enum class Kind {
  Root,  // /dav
  Principal,
  CalendarHome,
  Calendar,
  CalendarObject,
  AddressBookHome,
  AddressBook,
  Card,
};

struct Resource {
  Kind kind = Kind::Root;
  std::string owner;       // the account's address (all but Root)
  std::string collection;  // Calendar, AddressBook and the objects in them
  std::string object;      // CalendarObject and Card

  bool is_collection() const { return kind != Kind::CalendarObject && kind != Kind::Card; }
};

// The resource named by a decoded path's segments ({"dav", "calendars", ...}); nullopt
// for a path outside this layout.
std::optional<Resource> resolve(const std::vector<std::string>& segments);

// An href from a request body (multiget, sync): a path or an absolute http(s) URL,
// decoded with the request-target rules; nullopt when it names nothing here.
std::optional<Resource> resolve_href(std::string_view href);

// The href of a resource: each segment percent-encoded, collections with a trailing
// slash.
std::string href(const Resource& resource);
std::string principal_href(std::string_view owner);

// The resource holding `resource` (an object's collection, a collection's home).
Resource parent(const Resource& resource);

}  // namespace rampart::dav
