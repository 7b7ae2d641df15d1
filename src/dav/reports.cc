// REPORT: calendar-multiget and calendar-query (RFC 4791 sections 7.8 and 7.9),
// free-busy-query (7.10), addressbook-multiget and addressbook-query (RFC 6352 sections
// 8.7 and 8.6), sync-collection (RFC 6578 section 3).
#include <algorithm>
#include <charconv>
#include <ctime>
#include <variant>

#include "base/ascii.h"
#include "base/log.h"
#include "calendar/ical.h"
#include "contacts/vcard.h"
#include "dav/handler_internal.h"

namespace rampart::dav {

std::string calendar_data(const store::DavObject& object, const DataRequest& data) {
  if (!data.expand && !data.limit_recurrence_set) return object.data;
  auto parsed = calendar::ParsedCalendar::parse(object.data);
  if (!parsed) return object.data;  // stored, so it parsed once: a newer limit refuses it
  if (data.expand) return parsed->expand(data.expand->first, data.expand->second);
  return parsed->limit_recurrence_set(data.limit_recurrence_set->first,
                                      data.limit_recurrence_set->second);
}

namespace {

// One REPORT's answer holds at most this much object text; past it the answer ends
// with a 507 for the request (RFC 4791 section 7.8.1, RFC 6352 section 8.6.1).
constexpr std::size_t kMaxReportBytes = 20 << 20;

struct Range {
  std::int64_t start = INT64_MIN;
  std::int64_t end = INT64_MAX;
};

// A CALDAV:time-range's bounds (either may be absent, not both).
std::optional<Range> time_range(const XmlElement& element) {
  Range range;
  const std::string_view start = element.attribute("start");
  const std::string_view end = element.attribute("end");
  if (start.empty() && end.empty()) return std::nullopt;
  if (!start.empty()) {
    auto parsed = parse_utc(start);
    if (!parsed) return std::nullopt;
    range.start = *parsed;
  }
  if (!end.empty()) {
    auto parsed = parse_utc(end);
    if (!parsed) return std::nullopt;
    range.end = *parsed;
  }
  if (range.end <= range.start) return std::nullopt;
  return range;
}

// What a report's DAV:prop asks, and how calendar data is to be shaped.
struct Asked {
  std::vector<PropName> names;
  DataRequest data;
  bool wants_data = false;
};

std::optional<Asked> asked(const XmlElement& body) {
  Asked out;
  const XmlElement* prop = body.child(kDav, "prop");
  if (!prop) return out;  // RFC 4791 section 7.8: absent means DAV:getetag only? (below)
  out.names = prop_names(*prop);
  if (const XmlElement* data = prop->child(kCalDav, "calendar-data")) {
    out.wants_data = true;
    if (const XmlElement* expand = data->child(kCalDav, "expand")) {
      auto range = time_range(*expand);
      if (!range || range->start == INT64_MIN || range->end == INT64_MAX) return std::nullopt;
      out.data.expand = std::pair(range->start, range->end);
    }
    if (const XmlElement* limit = data->child(kCalDav, "limit-recurrence-set")) {
      auto range = time_range(*limit);
      if (!range || range->start == INT64_MIN || range->end == INT64_MAX) return std::nullopt;
      out.data.limit_recurrence_set = std::pair(range->start, range->end);
    }
  }
  if (prop->child(kCardDav, "address-data")) out.wants_data = true;
  return out;
}

// The unescaped values of `property` on the components named `component` of an
// iCalendar text (lines unfolded; names compared without case). Enough for
// text-match and is-not-defined, which compare values as text.
std::vector<std::string> property_values(std::string_view text, std::string_view component,
                                         std::string_view property) {
  std::vector<std::string> values;
  std::vector<std::string> stack;
  std::string line;
  auto finish_line = [&] {
    const auto colon = line.find(':');
    if (colon == std::string::npos) return;
    std::string_view name = std::string_view(line).substr(0, std::min(colon, line.find(';')));
    const std::string_view value = std::string_view(line).substr(colon + 1);
    if (iequals(name, "BEGIN")) {
      stack.push_back(uppercase(value));
    } else if (iequals(name, "END")) {
      if (!stack.empty()) stack.pop_back();
    } else if (!stack.empty() && iequals(stack.back(), component) && iequals(name, property)) {
      std::string unescaped;
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
          const char next = value[++i];
          unescaped += next == 'n' || next == 'N' ? '\n' : next;
        } else {
          unescaped += value[i];
        }
      }
      values.push_back(std::move(unescaped));
    }
  };
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(at, end - at);
    if (raw.ends_with('\r')) raw.remove_suffix(1);
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) {
      line.append(raw.substr(1));
    } else {
      finish_line();
      line.assign(raw);
    }
    at = end + 1;
  }
  finish_line();
  return values;
}

enum class Collation { AsciiCasemap, Octet, UnicodeCasemap };

std::optional<Collation> collation_of(std::string_view name) {
  if (name.empty() || name == "i;ascii-casemap") return Collation::AsciiCasemap;
  if (name == "i;octet") return Collation::Octet;
  if (name == "i;unicode-casemap") return Collation::UnicodeCasemap;
  return std::nullopt;
}

// A text-match (RFC 4791 section 9.7.5): substring, under the collation.
bool contains(std::string_view haystack, std::string_view needle, Collation collation) {
  if (collation == Collation::Octet) return haystack.find(needle) != std::string_view::npos;
  return contains_folded(haystack, needle);
}

struct FilterError {
  std::string_view name;  // the CalDAV precondition: valid-filter, supported-filter, ...
};

// The prop-filters of a calendar comp-filter, against one object's text.
std::variant<bool, FilterError> prop_filters_match(const XmlElement& comp_filter,
                                                   std::string_view component,
                                                   std::string_view text) {
  for (const auto* filter : comp_filter.children_named(kCalDav, "prop-filter")) {
    const std::string_view name = filter->attribute("name");
    if (name.empty()) return FilterError{"valid-filter"};
    const auto values = property_values(text, component, name);
    if (filter->child(kCalDav, "is-not-defined")) {
      if (!values.empty()) return false;
      continue;
    }
    if (filter->child(kCalDav, "time-range") || filter->child(kCalDav, "param-filter")) {
      return FilterError{"supported-filter"};
    }
    const XmlElement* match = filter->child(kCalDav, "text-match");
    if (!match) {
      if (values.empty()) return false;  // defined is enough
      continue;
    }
    const auto collation = collation_of(match->attribute("collation"));
    if (!collation) return FilterError{"supported-collation"};
    const bool negate = match->attribute("negate-condition") == "yes";
    const bool found = std::any_of(values.begin(), values.end(), [&](const std::string& value) {
      return contains(value, match->text, *collation);
    });
    // A negated match needs the property to be there (RFC 4791 section 9.7.5).
    if (values.empty() || found == negate) return false;
  }
  return true;
}

// A calendar-query's filter, narrowed to what the store's span index and the object
// then decide.
struct CalendarFilter {
  std::optional<calendar::Component> component;  // the inner comp-filter's
  bool component_absent = false;                 // is-not-defined on it
  std::optional<Range> range;
  const XmlElement* inner = nullptr;
};

std::variant<CalendarFilter, FilterError> calendar_filter(const XmlElement& body) {
  CalendarFilter out;
  const XmlElement* filter = body.child(kCalDav, "filter");
  if (!filter) return FilterError{"valid-filter"};
  const XmlElement* top = filter->child(kCalDav, "comp-filter");
  if (!top || top->attribute("name") != "VCALENDAR") return FilterError{"valid-filter"};
  if (top->child(kCalDav, "time-range") || top->child(kCalDav, "prop-filter")) {
    return FilterError{"supported-filter"};
  }
  const auto inner_filters = top->children_named(kCalDav, "comp-filter");
  if (inner_filters.empty()) return out;
  if (inner_filters.size() > 1) return FilterError{"supported-filter"};
  const XmlElement& inner = *inner_filters.front();
  out.inner = &inner;
  const std::string_view name = inner.attribute("name");
  if (name == "VEVENT") {
    out.component = calendar::Component::Event;
  } else if (name == "VTODO") {
    out.component = calendar::Component::Todo;
  } else if (name == "VJOURNAL") {
    out.component = calendar::Component::Journal;
  } else {
    return FilterError{"supported-filter"};
  }
  out.component_absent = inner.child(kCalDav, "is-not-defined") != nullptr;
  if (const XmlElement* range = inner.child(kCalDav, "time-range")) {
    auto parsed = time_range(*range);
    if (!parsed) return FilterError{"valid-filter"};
    out.range = *parsed;
  }
  // Filters on nested components (VALARM) are not served.
  if (!inner.children_named(kCalDav, "comp-filter").empty()) {
    return FilterError{"supported-filter"};
  }
  return out;
}

// Writes one response per object until the byte budget is spent; then one 507 for
// the request.
class Answer {
 public:
  Answer(const Request& request, Context& context, const Asked& asked)
      : request_(request), context_(context), asked_(asked), out_(new_writer()) {
    out_.open(kDav, "multistatus");
  }

  void object(const Resource& resource, const store::DavCollection& collection,
              const store::DavObject& object) {
    if (truncated_) return;
    if (bytes_ + object.size > kMaxReportBytes || count_ >= kMaxHrefs) {
      truncated_ = true;
      write_truncated(out_, request_.resource);
      return;
    }
    bytes_ += object.size;
    ++count_;
    if (asked_.wants_data) ++read_;
    Resource child = resource;
    child.kind = resource.kind == Kind::Calendar || resource.kind == Kind::CalendarObject
                     ? Kind::CalendarObject
                     : Kind::Card;
    child.object = object.name;
    write_response(out_, {.resource = child, .collection = &collection, .object = &object},
                   asked_.names, context_, &asked_.data);
  }
  void missing(std::string_view href_text) {
    out_.open(kDav, "response");
    out_.leaf(kDav, "href", href_text);
    out_.leaf(kDav, "status", "HTTP/1.1 404 Not Found");
    out_.close();
  }
  XmlWriter& writer() { return out_; }
  Response finish(const store::DavCollection& collection, std::string_view what) {
    out_.close();
    if (read_ > 0) context_.audit("read", collection.name, read_, std::string(what));
    return multistatus(out_);
  }

 private:
  const Request& request_;
  Context& context_;
  const Asked& asked_;
  XmlWriter out_;
  std::size_t bytes_ = 0;
  std::size_t count_ = 0;
  std::int64_t read_ = 0;
  bool truncated_ = false;
};

Response multiget(const Request& request, Context& context, const XmlElement& body,
                  const Asked& asked, const store::DavCollection& collection) {
  const auto hrefs = body.children_named(kDav, "href");
  if (hrefs.size() > kMaxHrefs) return plain(403, "too many hrefs in one multiget");
  std::vector<std::string> names;
  std::vector<std::optional<std::string>> wanted;  // per href: its name here, if any
  for (const auto* element : hrefs) {
    auto resource = resolve_href(element->text);
    const bool here =
        resource && !resource->is_collection() &&
        resource->kind ==
            (request.resource.kind == Kind::Calendar ? Kind::CalendarObject : Kind::Card) &&
        resource->owner == request.resource.owner && resource->collection == collection.name;
    wanted.push_back(here ? std::optional(resource->object) : std::nullopt);
    if (here) names.push_back(resource->object);
  }
  auto objects = context.store.get_dav_objects(collection.id, names, asked.wants_data);
  if (!objects) return plain(503, "try again later");
  Answer answer(request, context, asked);
  for (std::size_t i = 0; i < hrefs.size(); ++i) {
    const auto found =
        wanted[i] ? std::find_if(objects->begin(), objects->end(),
                                 [&](const store::DavObject& o) { return o.name == *wanted[i]; })
                  : objects->end();
    if (found == objects->end()) {
      answer.missing(hrefs[i]->text);
    } else {
      answer.object(request.resource, collection, *found);
    }
  }
  return answer.finish(collection, "multiget");
}

Response calendar_query(const Request& request, Context& context, const XmlElement& body,
                        const Asked& asked, const store::DavCollection& collection) {
  auto filter = calendar_filter(body);
  if (auto* error = std::get_if<FilterError>(&filter)) {
    return precondition(403, kCalDav, error->name);
  }
  const CalendarFilter& f = std::get<CalendarFilter>(filter);
  auto candidates =
      f.range && !f.component_absent
          ? context.store.dav_objects_in_range(collection.id, f.range->start, f.range->end)
          : context.store.get_dav_objects(collection.id, {}, true);
  if (!candidates) return plain(503, "try again later");
  Answer answer(request, context, asked);
  for (const auto& object : *candidates) {
    if (f.component) {
      const bool is_kind = object.index.component == static_cast<int>(*f.component) + 1;
      if (f.component_absent) {
        if (is_kind) continue;
        answer.object(request.resource, collection, object);
        continue;
      }
      if (!is_kind) continue;
    }
    if (f.range) {
      auto parsed = calendar::ParsedCalendar::parse(object.data);
      if (!parsed || !parsed->matches_time_range(f.range->start, f.range->end, *f.component)) {
        continue;
      }
    }
    if (f.inner) {
      auto matched = prop_filters_match(*f.inner, f.inner->attribute("name"), object.data);
      if (auto* error = std::get_if<FilterError>(&matched)) {
        return precondition(403, kCalDav, error->name);
      }
      if (!std::get<bool>(matched)) continue;
    }
    answer.object(request.resource, collection, object);
  }
  return answer.finish(collection, "calendar-query");
}

std::optional<contacts::MatchType> match_type(std::string_view name) {
  if (name.empty() || name == "contains") return contacts::MatchType::Contains;
  if (name == "equals") return contacts::MatchType::Equals;
  if (name == "starts-with") return contacts::MatchType::StartsWith;
  if (name == "ends-with") return contacts::MatchType::EndsWith;
  return std::nullopt;
}

// One CARDDAV:prop-filter against a card (RFC 6352 section 10.5).
std::variant<bool, FilterError> card_prop_filter(const XmlElement& filter,
                                                 const contacts::Card& card) {
  const std::string_view name = filter.attribute("name");
  if (name.empty()) return FilterError{"valid-filter"};
  if (filter.child(kCardDav, "is-not-defined")) return !contacts::has_property(card, name);
  const auto matches = filter.children_named(kCardDav, "text-match");
  const auto params = filter.children_named(kCardDav, "param-filter");
  if (matches.empty() && params.empty()) return contacts::has_property(card, name);
  const bool all = filter.attribute("test") == "allof";
  // Each text-match and param-filter is one test, combined by the prop-filter's `test`.
  std::vector<bool> results;
  for (const auto* match : matches) {
    const auto type = match_type(match->attribute("match-type"));
    if (!type) return FilterError{"valid-filter"};
    if (!collation_of(match->attribute("collation"))) return FilterError{"supported-collation"};
    const bool negate = match->attribute("negate-condition") == "yes";
    results.push_back(contacts::text_match(card, name, match->text, *type, negate));
  }
  for (const auto* param : params) {
    const std::string_view parameter = param->attribute("name");
    if (parameter.empty()) return FilterError{"valid-filter"};
    if (param->child(kCardDav, "is-not-defined")) {
      results.push_back(std::none_of(
          card.properties.begin(), card.properties.end(), [&](const contacts::Property& property) {
            return iequals(property.name, name) && contacts::has_parameter(property, parameter);
          }));
      continue;
    }
    const XmlElement* match = param->child(kCardDav, "text-match");
    if (!match) {
      results.push_back(std::any_of(
          card.properties.begin(), card.properties.end(), [&](const contacts::Property& property) {
            return iequals(property.name, name) && contacts::has_parameter(property, parameter);
          }));
      continue;
    }
    const auto type = match_type(match->attribute("match-type"));
    if (!type) return FilterError{"valid-filter"};
    if (!collation_of(match->attribute("collation"))) return FilterError{"supported-collation"};
    const bool negate = match->attribute("negate-condition") == "yes";
    results.push_back(
        contacts::param_text_match(card, name, parameter, match->text, *type, negate));
  }
  return all ? std::all_of(results.begin(), results.end(), [](bool r) { return r; })
             : std::any_of(results.begin(), results.end(), [](bool r) { return r; });
}

Response addressbook_query(const Request& request, Context& context, const XmlElement& body,
                           const Asked& asked, const store::DavCollection& collection) {
  const XmlElement* filter = body.child(kCardDav, "filter");
  if (!filter) return precondition(403, kCardDav, "valid-filter");
  const bool all = filter->attribute("test") == "allof";
  const auto prop_filters = filter->children_named(kCardDav, "prop-filter");
  std::size_t limit = SIZE_MAX;
  if (const XmlElement* limit_element = body.child(kCardDav, "limit")) {
    const XmlElement* nresults = limit_element->child(kCardDav, "nresults");
    std::size_t value = 0;
    const std::string_view text = nresults ? trim_blanks(nresults->text) : std::string_view();
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!nresults || error != std::errc() || end != text.data() + text.size()) {
      return plain(400, "bad CARDDAV:limit");
    }
    limit = value;
  }
  auto candidates = context.store.get_dav_objects(collection.id, {}, true);
  if (!candidates) return plain(503, "try again later");
  Answer answer(request, context, asked);
  std::size_t given = 0;
  for (const auto& object : *candidates) {
    auto card = contacts::parse_card(object.data);
    if (!card) continue;
    bool keep = all || prop_filters.empty();
    for (const auto* prop_filter : prop_filters) {
      auto matched = card_prop_filter(*prop_filter, *card);
      if (auto* error = std::get_if<FilterError>(&matched)) {
        return precondition(403, kCardDav, error->name);
      }
      const bool result = std::get<bool>(matched);
      if (all && !result) {
        keep = false;
        break;
      }
      if (!all && result) {
        keep = true;
        break;
      }
    }
    if (!keep) continue;
    if (given == limit) {
      // RFC 6352 section 8.6.1: the answer says it was cut short.
      write_truncated(answer.writer(), request.resource);
      break;
    }
    ++given;
    answer.object(request.resource, collection, object);
  }
  return answer.finish(collection, "addressbook-query");
}

Response sync_collection(const Request& request, Context& context, const XmlElement& body,
                         const Asked& asked, const store::DavCollection& collection) {
  // RFC 6578 section 3.2 asks for Depth: 0, but clients send 1 (python-caldav): a
  // collection here holds no collections, so both mean the same and both are served.
  const XmlElement* token_element = body.child(kDav, "sync-token");
  const std::string_view token = token_element ? trim_blanks(token_element->text) : "";
  store::ModSeq since = 0;
  if (!token.empty()) {
    auto parsed = parse_sync_token(token, collection);
    if (!parsed) return precondition(403, kDav, "valid-sync-token");
    since = *parsed;
  }
  if (const XmlElement* level = body.child(kDav, "sync-level");
      level && trim_blanks(level->text) != "1" && trim_blanks(level->text) != "infinite") {
    return plain(400, "bad DAV:sync-level");
  }
  auto changes = context.store.dav_changes(collection.id, since);
  if (!changes) {
    if (changes.error().code == Errc::TooBig || changes.error().code == Errc::BadInput) {
      return precondition(403, kDav, "valid-sync-token");
    }
    return plain(503, "try again later");
  }
  if (const XmlElement* limit = body.child(kDav, "limit")) {
    const XmlElement* nresults = limit->child(kDav, "nresults");
    std::size_t value = 0;
    const std::string_view text = nresults ? trim_blanks(nresults->text) : std::string_view();
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!nresults || error != std::errc()) return plain(400, "bad DAV:limit");
    // The changes cannot be split across tokens: too many for the limit is refused
    // (RFC 6578 section 3.7).
    if (changes->changed.size() + changes->removed.size() > value) {
      return precondition(507, kDav, "number-of-matches-within-limits");
    }
  }
  std::vector<store::DavObject> objects = std::move(changes->changed);
  if (asked.wants_data && !objects.empty()) {
    std::vector<std::string> names;
    for (const auto& object : objects) names.push_back(object.name);
    auto read = context.store.get_dav_objects(collection.id, names, true);
    if (!read) return plain(503, "try again later");
    objects = std::move(*read);
  }
  Answer answer(request, context, asked);
  for (const auto& object : objects) answer.object(request.resource, collection, object);
  for (const auto& name : changes->removed) {
    Resource gone = request.resource;
    gone.kind = request.resource.kind == Kind::Calendar ? Kind::CalendarObject : Kind::Card;
    gone.object = name;
    answer.missing(href(gone));
  }
  store::DavCollection now = collection;
  now.modseq = changes->modseq;
  answer.writer().leaf(kDav, "sync-token", sync_token(now));
  return answer.finish(collection, "sync-collection");
}

Response free_busy(const Request& request, Context& context, const XmlElement& body,
                   const store::DavCollection& collection) {
  const XmlElement* element = body.child(kCalDav, "time-range");
  auto range = element ? time_range(*element) : std::nullopt;
  if (!range || range->start == INT64_MIN || range->end == INT64_MAX) {
    return precondition(403, kCalDav, "valid-filter");
  }
  auto objects = context.store.dav_objects_in_range(collection.id, range->start, range->end);
  if (!objects) return plain(503, "try again later");
  std::vector<calendar::BusyPeriod> busy;
  for (const auto& object : *objects) {
    auto parsed = calendar::ParsedCalendar::parse(object.data);
    if (!parsed) continue;
    auto periods = parsed->busy_periods(range->start, range->end);
    busy.insert(busy.end(), periods.begin(), periods.end());
  }
  (void)request;
  context.audit("read", collection.name, 0, "free-busy-query");
  return {.status = 200,
          .content_type = "text/calendar; charset=utf-8",
          .body = calendar::freebusy_calendar(range->start, range->end, std::move(busy),
                                              static_cast<std::int64_t>(std::time(nullptr))),
          .headers = {}};
}

}  // namespace

Response report(const Request& request, Context& context) {
  auto body = parse_xml(request.body);
  if (!body) return plain(400, "bad XML: " + body.error().detail);
  const Resource& resource = request.resource;
  const bool calendar_report = body->ns == kCalDav;
  const bool card_report = body->ns == kCardDav;
  const bool sync = body->ns == kDav && body->name == "sync-collection";
  if (!calendar_report && !card_report && !sync) return precondition(403, kDav, "supported-report");
  const bool on_calendar = resource.kind == Kind::Calendar;
  const bool on_book = resource.kind == Kind::AddressBook;
  if ((calendar_report && !on_calendar) || (card_report && !on_book) ||
      (sync && !on_calendar && !on_book)) {
    return precondition(403, kDav, "supported-report");
  }
  auto collection = find_collection(resource, context);
  if (!collection) return plain(404, "not found");
  auto what = asked(*body);
  if (!what) return precondition(403, kCalDav, "valid-filter");
  // With no DAV:prop, the ETag alone.
  if (!body->child(kDav, "prop")) what->names = {{std::string(kDav), "getetag"}};
  const std::string_view name = body->name;
  if (sync) return sync_collection(request, context, *body, *what, *collection);
  if (calendar_report) {
    if (name == "calendar-multiget") return multiget(request, context, *body, *what, *collection);
    if (name == "calendar-query")
      return calendar_query(request, context, *body, *what, *collection);
    if (name == "free-busy-query") return free_busy(request, context, *body, *collection);
  } else {
    if (name == "addressbook-multiget") {
      return multiget(request, context, *body, *what, *collection);
    }
    if (name == "addressbook-query") {
      return addressbook_query(request, context, *body, *what, *collection);
    }
  }
  return precondition(403, kDav, "supported-report");
}

}  // namespace rampart::dav
