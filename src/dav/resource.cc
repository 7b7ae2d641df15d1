#include "dav/resource.h"

#include "http/target.h"

namespace rampart::dav {

std::optional<Resource> resolve(const std::vector<std::string>& segments) {
  if (segments.empty() || segments[0] != "dav") return std::nullopt;
  if (segments.size() == 1) return Resource{};
  const std::string& area = segments[1];
  const std::size_t depth = segments.size() - 2;  // below the area
  if (depth == 0 || depth > 3) return std::nullopt;
  Resource resource{.kind = Kind::Root, .owner = segments[2], .collection = {}, .object = {}};
  if (depth >= 2) resource.collection = segments[3];
  if (depth == 3) resource.object = segments[4];
  if (area == "principals" && depth == 1) {
    resource.kind = Kind::Principal;
  } else if (area == "calendars") {
    resource.kind = depth == 1   ? Kind::CalendarHome
                    : depth == 2 ? Kind::Calendar
                                 : Kind::CalendarObject;
  } else if (area == "addressbooks") {
    resource.kind = depth == 1   ? Kind::AddressBookHome
                    : depth == 2 ? Kind::AddressBook
                                 : Kind::Card;
  } else {
    return std::nullopt;
  }
  return resource;
}

std::optional<Resource> resolve_href(std::string_view href) {
  // An absolute URL: only its path counts (the host is this server's, whatever the
  // client calls it).
  for (std::string_view scheme : {"https://", "http://"}) {
    if (href.starts_with(scheme)) {
      const auto slash = href.find('/', scheme.size());
      if (slash == std::string_view::npos) return std::nullopt;
      href.remove_prefix(slash);
      break;
    }
  }
  auto target = http::parse_target(href);
  if (!target || !target->query.empty()) return std::nullopt;
  return resolve(target->segments);
}

namespace {

// RFC 3986 unreserved characters and '@' (common in the owner's address) as they are;
// every other byte %-encoded.
std::string encode_segment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("-._~@").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

}  // namespace

std::string principal_href(std::string_view owner) {
  return "/dav/principals/" + encode_segment(owner) + "/";
}

std::string href(const Resource& resource) {
  switch (resource.kind) {
    case Kind::Root:
      return "/dav/";
    case Kind::Principal:
      return principal_href(resource.owner);
    case Kind::CalendarHome:
      return "/dav/calendars/" + encode_segment(resource.owner) + "/";
    case Kind::AddressBookHome:
      return "/dav/addressbooks/" + encode_segment(resource.owner) + "/";
    case Kind::Calendar:
    case Kind::AddressBook:
      return href(parent(resource)) + encode_segment(resource.collection) + "/";
    case Kind::CalendarObject:
    case Kind::Card:
      return href(parent(resource)) + encode_segment(resource.object);
  }
  return "/dav/";
}

Resource parent(const Resource& resource) {
  Resource up = resource;
  switch (resource.kind) {
    case Kind::CalendarObject:
      up.kind = Kind::Calendar;
      up.object.clear();
      break;
    case Kind::Card:
      up.kind = Kind::AddressBook;
      up.object.clear();
      break;
    case Kind::Calendar:
      up.kind = Kind::CalendarHome;
      up.collection.clear();
      break;
    case Kind::AddressBook:
      up.kind = Kind::AddressBookHome;
      up.collection.clear();
      break;
    default:
      up = Resource{};
  }
  return up;
}

}  // namespace rampart::dav
