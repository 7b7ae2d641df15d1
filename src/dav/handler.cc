// The DAV methods on resources (OPTIONS, GET, HEAD, PUT, DELETE) and what the other
// files share: answers, sync tokens, times, the caller's collections.
#include "dav/handler.h"

#include <algorithm>
#include <charconv>

#include "base/ascii.h"
#include "base/civil_date.h"
#include "base/log.h"
#include "calendar/ical.h"
#include "contacts/vcard.h"
#include "dav/handler_internal.h"

namespace rampart::dav {

XmlWriter new_writer() { return XmlWriter(); }

void write_truncated(XmlWriter& out, const Resource& request) {
  out.open(kDav, "response");
  out.leaf(kDav, "href", href(request));
  out.leaf(kDav, "status", "HTTP/1.1 507 Insufficient Storage");
  out.open(kDav, "error");
  out.empty(kDav, "number-of-matches-within-limits");
  out.close();
  out.close();
}

Response plain(int status, std::string text) {
  return {.status = status,
          .content_type = "text/plain; charset=utf-8",
          .body = std::move(text) + "\n",
          .headers = {}};
}

Response multistatus(XmlWriter& writer) {
  return {.status = 207,
          .content_type = "application/xml; charset=utf-8",
          .body = writer.finish(),
          .headers = {}};
}

Response precondition(int status, std::string_view ns, std::string_view name,
                      std::string_view href) {
  XmlWriter out = new_writer();
  out.open(kDav, "error");
  if (href.empty()) {
    out.empty(ns, name);
  } else {
    out.open(ns, name);
    out.leaf(kDav, "href", href);
    out.close();
  }
  out.close();
  return {.status = status,
          .content_type = "application/xml; charset=utf-8",
          .body = out.finish(),
          .headers = {}};
}

std::string sync_token(const store::DavCollection& collection) {
  return "urn:x-rampart:sync:" + std::to_string(collection.id) + ":" +
         std::to_string(collection.modseq);
}

std::optional<store::ModSeq> parse_sync_token(std::string_view token,
                                              const store::DavCollection& collection) {
  const std::string prefix = "urn:x-rampart:sync:" + std::to_string(collection.id) + ":";
  if (!token.starts_with(prefix)) return std::nullopt;
  token.remove_prefix(prefix.size());
  store::ModSeq modseq = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), modseq);
  if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return modseq;
}

std::optional<std::int64_t> parse_utc(std::string_view text) {
  // YYYYMMDD "T" HHMMSS "Z" (RFC 4791 section 9.9: UTC date with time).
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data() + at, text.data() + at + length, value);
    if (error != std::errc() || end != text.data() + at + length) return std::nullopt;
    return value;
  };
  const auto year = number(0, 4), month = number(4, 2), day = number(6, 2);
  const auto hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  return days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) *
             86400 +
         *hour * 3600 + *minute * 60 + *second;
}

Result<store::DavCollection> find_collection(const Resource& resource, Context& context) {
  const bool calendar = resource.kind == Kind::Calendar || resource.kind == Kind::CalendarObject;
  return context.store.find_collection(
      context.account.id,
      calendar ? store::CollectionKind::Calendar : store::CollectionKind::AddressBook,
      resource.collection);
}

void ensure_defaults(Context& context) {
  for (const auto kind : {store::CollectionKind::Calendar, store::CollectionKind::AddressBook}) {
    auto existing = context.store.list_collections(context.account.id, kind);
    if (!existing || !existing->empty()) continue;
    const bool calendar = kind == store::CollectionKind::Calendar;
    auto made = context.store.create_collection({.account = context.account.id,
                                                 .kind = kind,
                                                 .name = "default",
                                                 .display_name = calendar ? "Calendar" : "Contacts",
                                                 .components = calendar ? "VEVENT,VTODO" : ""});
    // Exists: another request made it first.
    if (!made && made.error().code != Errc::Exists) {
      log::warn("dav: default collection for " + context.account.address + ": " +
                made.error().detail);
    }
  }
}

namespace {

bool is_calendar(const Resource& resource) {
  return resource.kind == Kind::CalendarObject || resource.kind == Kind::Calendar;
}

// A quoted entity tag (or a weak one, or *): the tag the store compares.
std::optional<std::string> entity_tag(std::string_view header) {
  header = trim_blanks(header);
  if (header.empty()) return std::nullopt;
  if (header == "*") return std::string("*");
  // One tag of a list is enough: clients send the one they hold.
  if (const auto comma = header.find(','); comma != std::string_view::npos) {
    header = trim_blanks(header.substr(0, comma));
  }
  if (header.starts_with("W/")) header.remove_prefix(2);
  if (header.size() >= 2 && header.front() == '"' && header.back() == '"') {
    header = header.substr(1, header.size() - 2);
  }
  return std::string(header);
}

std::string etag_header(std::string_view etag) { return "ETag: \"" + std::string(etag) + "\"\r\n"; }

Response options() {
  Response response = plain(200, "");
  response.body.clear();
  response.headers =
      "DAV: 1, 3, calendar-access, addressbook, extended-mkcol\r\nAllow: " + std::string(kMethods) +
      "\r\n";
  return response;
}

Response not_allowed() {
  Response response = plain(405, "method not allowed on this resource");
  response.headers = "Allow: " + std::string(kMethods) + "\r\n";
  return response;
}

Response get(const Request& request, Context& context) {
  const Resource& resource = request.resource;
  if (resource.is_collection()) return not_allowed();
  auto collection = find_collection(resource, context);
  if (!collection) return plain(404, "no such collection");
  auto objects = context.store.get_dav_objects(collection->id, {resource.object}, true);
  if (!objects) return plain(503, "try again later");
  if (objects->empty()) return plain(404, "no such resource");
  const store::DavObject& object = objects->front();
  context.audit("read", collection->name, 1, "get " + object.name);
  return {.status = 200,
          .content_type =
              is_calendar(resource) ? "text/calendar; charset=utf-8" : "text/vcard; charset=utf-8",
          .body = object.data,
          .headers = etag_header(object.etag)};
}

std::string component_name(calendar::Component kind) {
  switch (kind) {
    case calendar::Component::Event:
      return "VEVENT";
    case calendar::Component::Todo:
      return "VTODO";
    case calendar::Component::Journal:
      return "VJOURNAL";
    case calendar::Component::FreeBusy:
      return "VFREEBUSY";
  }
  return {};
}

// The CalDAV precondition a refused calendar text breaks (calendar/ical.h words its
// refusals by the precondition they fall under).
std::string_view calendar_precondition(const Error& error) {
  if (error.code == Errc::TooBig) return "max-resource-size";
  if (error.detail.starts_with("component:")) return "supported-calendar-component";
  if (error.detail.starts_with("calendar object:")) return "valid-calendar-object-resource";
  return "valid-calendar-data";
}

// The media type of a Content-Type value, lowercased, without parameters.
std::string media_type(std::string_view header) {
  if (const auto semicolon = header.find(';'); semicolon != std::string_view::npos) {
    header = header.substr(0, semicolon);
  }
  return lowercase(std::string(trim_blanks(header)));
}

Response put(const Request& request, Context& context) {
  const Resource& resource = request.resource;
  if (resource.is_collection()) return not_allowed();
  const bool calendar = is_calendar(resource);
  const std::string_view ns = calendar ? kCalDav : kCardDav;
  auto collection = find_collection(resource, context);
  if (!collection) return plain(409, "no such collection: create it first");
  if (request.body.size() > kMaxResourceSize) return precondition(403, ns, "max-resource-size");
  const std::string type = media_type(request.content_type);
  if (!type.empty() && type != (calendar ? "text/calendar" : "text/vcard") &&
      !(!calendar && type == "text/x-vcard")) {
    return precondition(403, ns, calendar ? "supported-calendar-data" : "supported-address-data");
  }
  std::string uid;
  store::DavIndex index;
  if (calendar) {
    auto parsed = calendar::parse_object(request.body);
    if (!parsed) {
      log::info("dav: " + context.account.address +
                ": refused calendar data: " + parsed.error().detail);
      return precondition(403, kCalDav, calendar_precondition(parsed.error()));
    }
    const std::string component = component_name(parsed->kind);
    if (!collection->components.empty() &&
        ("," + collection->components + ",").find("," + component + ",") == std::string::npos) {
      return precondition(403, kCalDav, "supported-calendar-component");
    }
    uid = parsed->uid;
    index = {.component = static_cast<int>(parsed->kind) + 1,
             .first_start = parsed->first_start,
             .last_end = parsed->last_end};
  } else {
    auto card = contacts::parse_card(request.body);
    if (!card) {
      log::info("dav: " + context.account.address + ": refused vCard: " + card.error().detail);
      return precondition(403, kCardDav, "valid-address-data");
    }
    // A vCard 3 without a UID (which RFC 6352 requires, but some clients omit) is
    // known by its resource name.
    uid = card->uid.empty() ? resource.object : card->uid;
  }
  store::DavCondition condition{.if_match = entity_tag(request.if_match),
                                .if_none_match = trim_blanks(request.if_none_match) == "*"};
  auto stored = context.store.put_dav_object(collection->id, resource.object, uid, request.body,
                                             index, condition);
  if (!stored) {
    switch (stored.error().code) {
      case Errc::OverQuota:
        return precondition(507, kDav, "quota-not-exceeded");
      case Errc::TooBig:
        return plain(507, "the collection holds as many resources as it may");
      case Errc::NotFound:
        return plain(409, "no such collection");
      default:
        log::error("dav: put: " + stored.error().detail);
        return plain(503, "try again later");
    }
  }
  using Outcome = store::DavPut::Outcome;
  switch (stored->outcome) {
    case Outcome::PreconditionFailed:
      return plain(412, "precondition failed");
    case Outcome::UidConflict: {
      Resource holder = resource;
      holder.object = stored->conflict_name;
      return precondition(403, ns, "no-uid-conflict", href(holder));
    }
    case Outcome::Created:
    case Outcome::Replaced:
      break;
  }
  context.audit("change", collection->name, 1, "put " + std::string(resource.object));
  Response response = plain(stored->outcome == Outcome::Created ? 201 : 204, "");
  response.body.clear();
  response.headers = etag_header(stored->object.etag);
  return response;
}

Response remove(const Request& request, Context& context) {
  const Resource& resource = request.resource;
  if (resource.kind == Kind::Calendar || resource.kind == Kind::AddressBook) {
    auto collection = find_collection(resource, context);
    if (!collection) return plain(404, "no such collection");
    if (auto removed = context.store.delete_collection(collection->id); !removed) {
      log::error("dav: delete collection: " + removed.error().detail);
      return plain(503, "try again later");
    }
    context.audit("change", collection->name, 0, "delete collection");
    return {.status = 204, .content_type = "text/plain; charset=utf-8", .body = {}, .headers = {}};
  }
  if (resource.is_collection()) return plain(403, "this collection cannot be deleted");
  auto collection = find_collection(resource, context);
  if (!collection) return plain(404, "no such collection");
  auto removed = context.store.delete_dav_object(collection->id, resource.object,
                                                 entity_tag(request.if_match));
  if (!removed) {
    if (removed.error().code == Errc::NotFound) return plain(404, "no such resource");
    log::error("dav: delete: " + removed.error().detail);
    return plain(503, "try again later");
  }
  if (!*removed) return plain(412, "precondition failed");
  context.audit("change", collection->name, 1, "delete " + resource.object);
  return {.status = 204, .content_type = "text/plain; charset=utf-8", .body = {}, .headers = {}};
}

}  // namespace

Response handle(const Request& request, Context& context) {
  const Resource& resource = request.resource;
  if (resource.kind != Kind::Root && lowercase(resource.owner) != context.account.address) {
    return plain(404, "not found");
  }
  const std::string_view method = request.method;
  if (method == "OPTIONS") return options();
  if (method == "PROPFIND") return propfind(request, context);
  if (method == "REPORT") return report(request, context);
  if (method == "GET" || method == "HEAD") return get(request, context);
  if (method == "PUT") return put(request, context);
  if (method == "DELETE") return remove(request, context);
  if (method == "PROPPATCH") return proppatch(request, context);
  if (method == "MKCALENDAR" || method == "MKCOL") return make_collection(request, context);
  return not_allowed();
}

}  // namespace rampart::dav
