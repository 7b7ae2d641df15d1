// What the DAV handler's files share: namespaces, the resources as requests see them,
// property rendering (properties.cc), reports (reports.cc) and answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "dav/handler.h"
#include "dav/xml.h"
#include "store/store.h"

namespace rampart::dav {

inline constexpr std::string_view kDav = "DAV:";
inline constexpr std::string_view kCalDav = "urn:ietf:params:xml:ns:caldav";
inline constexpr std::string_view kCardDav = "urn:ietf:params:xml:ns:carddav";
inline constexpr std::string_view kCalendarServer = "http://calendarserver.org/ns/";
inline constexpr std::string_view kAppleIcal = "http://apple.com/ns/ical/";

// The largest calendar object or vCard accepted (CALDAV:max-resource-size).
inline constexpr std::size_t kMaxResourceSize = 1 << 20;
// Dead properties kept per collection, in bytes of their XML.
inline constexpr std::size_t kMaxDeadProperties = 64 << 10;
// Hrefs in one multiget, responses in one REPORT or PROPFIND.
inline constexpr std::size_t kMaxHrefs = 10000;

// A resource and what the store holds for it.
struct Node {
  Resource resource;
  const store::DavCollection* collection = nullptr;  // collections and their objects
  const store::DavObject* object = nullptr;          // objects (with data in reports)
  std::vector<XmlElement> dead;  // a collection's dead properties, read once per answer
};

struct PropName {
  std::string ns;
  std::string name;
  bool operator==(const PropName&) const = default;
};

// How a report wants CALDAV:calendar-data or CARDDAV:address-data written.
struct DataRequest {
  std::optional<std::pair<std::int64_t, std::int64_t>> expand;
  std::optional<std::pair<std::int64_t, std::int64_t>> limit_recurrence_set;
};

// An object's CALDAV:calendar-data as a report asked for it (reports.cc): its text, or
// its instances expanded, or its recurrence set limited to a range.
std::string calendar_data(const store::DavObject& object, const DataRequest& data);

// Writes the property `name` of `node` into `out` when the node has it, and says so;
// `out` null only asks. CALDAV:calendar-data and CARDDAV:address-data count only when
// `data` is given (reports) and the node's object has its text.
bool property(const Node& node, const PropName& name, Context& context, XmlWriter* out,
              const DataRequest* data = nullptr);
// The properties allprop shows for the node (RFC 4918 section 9.1: the live ones a
// client can use, and the dead ones).
std::vector<PropName> all_properties(const Node& node);
// One DAV:response: the node's href, the properties found (200), and those not (404).
void write_response(XmlWriter& out, const Node& node, const std::vector<PropName>& names,
                    Context& context, const DataRequest* data = nullptr);
// The requested names of a DAV:prop element.
std::vector<PropName> prop_names(const XmlElement& prop);

// The DAV:response that says an answer was cut short at a server limit (RFC 4791
// section 7.8.1, RFC 6352 section 8.6.1): 507 with number-of-matches-within-limits.
void write_truncated(XmlWriter& out, const Resource& request);

XmlWriter new_writer();
Response multistatus(XmlWriter& writer);
// 403 or 409 with a DAV:error body naming the precondition (RFC 4918 section 16).
Response precondition(int status, std::string_view ns, std::string_view name,
                      std::string_view href = {});
Response plain(int status, std::string text);

// "urn:x-rampart:sync:COLLECTION:MODSEQ" (RFC 6578 sync-token, also the ctag).
std::string sync_token(const store::DavCollection& collection);
// The MODSEQ of a token this collection issued; nullopt for any other.
std::optional<store::ModSeq> parse_sync_token(std::string_view token,
                                              const store::DavCollection& collection);

// "20060104T000000Z" (RFC 4791 time-range) as Unix seconds.
std::optional<std::int64_t> parse_utc(std::string_view text);

// The collection a Calendar/AddressBook resource (or an object's) names, of the
// caller's account.
Result<store::DavCollection> find_collection(const Resource& resource, Context& context);
// The caller's default calendar and address book, made on first use.
void ensure_defaults(Context& context);

// PROPFIND (properties.cc), PROPPATCH, MKCALENDAR and extended MKCOL.
Response propfind(const Request& request, Context& context);
Response proppatch(const Request& request, Context& context);
Response make_collection(const Request& request, Context& context);
// REPORT (reports.cc).
Response report(const Request& request, Context& context);

}  // namespace rampart::dav
