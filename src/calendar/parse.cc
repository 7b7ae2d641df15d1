// ParsedCalendar::parse: the limits before libical sees the text, libical's parse, the
// rules of a calendar object resource (RFC 4791 section 4.1, RFC 5545 sections 3.6.1 to
// 3.6.3), and the index.
#include <algorithm>
#include <climits>

#include "base/ascii.h"
#include "base/utf8.h"
#include "calendar/ical_internal.h"

namespace rampart::calendar {
namespace {

// VCALENDAR > VEVENT > VALARM is 3; RFC 9074 puts a VLOCATION in a VALARM. libical
// frees, clones and writes components recursively, so nesting stays shallow.
constexpr std::size_t kMaxNesting = 8;

// The start of a content line, unfolded as libical will (a name may be folded too),
// up to 80 bytes: enough for BEGIN and END and the component they name.
std::string_view unfolded_start(std::string_view text, std::size_t at, std::string& scratch) {
  scratch.clear();
  for (;;) {
    const std::size_t eol = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, eol - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    scratch.append(line.substr(0, 80 - scratch.size()));
    if (scratch.size() >= 80 || eol + 1 >= text.size()) break;
    if (text[eol + 1] != ' ' && text[eol + 1] != '\t') break;
    at = eol + 2;
  }
  return scratch;
}

// What can be checked on the bytes, before libical gets them: size, encoding, the
// counts that bound libical's work and recursion, and BEGIN and END in pairs (libical
// closes whatever is open at any END, and says so on stderr).
Result<void> check_text(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    return fail(Errc::TooBig,
                "calendar data: more than " + std::to_string(limits.max_bytes) + " bytes");
  }
  if (!is_valid_utf8(text)) return fail(Errc::BadInput, "calendar data: not UTF-8");
  // RFC 5545 section 3.1: no control characters but HTAB in a line. NUL would also cut
  // the C string libical reads.
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t' && c != '\r' && c != '\n') || byte == 0x7F) {
      return fail(Errc::BadInput, "calendar data: a control character");
    }
  }
  std::size_t lines = 0, components = 0, calendars = 0;
  std::vector<std::string> open;  // the names of the components around this line
  std::string scratch;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t eol = std::min(text.find('\n', at), text.size());
    const bool continuation = text[at] == ' ' || text[at] == '\t';
    const bool empty = eol == at || (eol == at + 1 && text[at] == '\r');
    if (continuation || empty) {
      at = eol + 1;
      continue;
    }
    if (++lines > limits.max_properties) {
      return fail(Errc::TooBig,
                  "calendar data: more than " + std::to_string(limits.max_properties) + " lines");
    }
    const std::string_view line = unfolded_start(text, at, scratch);
    const std::size_t colon = line.find(':');
    const std::string_view name = line.substr(0, line.find_first_of(":;"));
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (iequals(name, "BEGIN")) {
      if (open.empty() && ++calendars > 1) {
        return fail(Errc::BadInput, "calendar data: not exactly one VCALENDAR");
      }
      if (++components > limits.max_components) {
        return fail(Errc::TooBig, "calendar data: more than " +
                                      std::to_string(limits.max_components) + " components");
      }
      if (open.size() >= kMaxNesting) {
        return fail(Errc::BadInput, "calendar data: components nested too deep");
      }
      open.emplace_back(value);
    } else if (open.empty()) {
      return fail(Errc::BadInput, "calendar data: a line outside the VCALENDAR");
    } else if (iequals(name, "END")) {
      if (!iequals(value, open.back())) {
        return fail(Errc::BadInput, "calendar data: END does not match BEGIN");
      }
      open.pop_back();
    }
    at = eol + 1;
  }
  if (!open.empty()) return fail(Errc::BadInput, "calendar data: BEGIN without END");
  return {};
}

// An empty value is valid iCalendar (DESCRIPTION:, X-WR-CALDESC:, which Google's
// exports hold), but libical drops the property with a VALUE-PARSE-ERROR reading "No
// value for DESCRIPTION property. ...". Empty is harmless where nothing here reads the
// value; these are the properties whose absence would change an answer.
bool is_read_here(std::string_view error) {
  constexpr std::string_view kPrefix = "No value for ";
  if (error.substr(0, kPrefix.size()) != kPrefix) return true;  // not an empty value
  error.remove_prefix(kPrefix.size());
  const std::string_view name = error.substr(0, error.find(' '));
  constexpr std::string_view kRead[] = {
      "DTSTART", "DTEND",  "DUE",           "DURATION",  "RRULE",     "RDATE",
      "EXDATE",  "EXRULE", "RECURRENCE-ID", "UID",       "COMPLETED", "CREATED",
      "STATUS",  "TRANSP", "ORGANIZER",     "ATTENDEE",  "VERSION",   "PRODID",
      "METHOD",  "TZID",   "TZOFFSETFROM",  "TZOFFSETTO"};
  return std::find(std::begin(kRead), std::end(kRead), name) != std::end(kRead);
}

// libical does not fail a parse: it replaces what it cannot read with X-LIC-ERROR
// properties. A value it cannot read (a DTSTART, an RRULE) would be silently missing
// from the index, so those are refused; a property or parameter name it does not know
// is an extension RFC 5545 says to keep, and the text is kept verbatim anyway.
Result<void> check_libical_errors(icalcomponent* component, std::size_t depth,
                                  std::size_t& properties, const Limits& limits) {
  for (icalproperty* p = icalcomponent_get_first_property(component, ICAL_ANY_PROPERTY); p;
       p = icalcomponent_get_next_property(component, ICAL_ANY_PROPERTY)) {
    if (++properties > limits.max_properties) {
      return fail(Errc::TooBig, "calendar data: more than " +
                                    std::to_string(limits.max_properties) + " property values");
    }
    if (icalproperty_isa(p) != ICAL_XLICERROR_PROPERTY) continue;
    icalparameter* type = icalproperty_get_first_parameter(p, ICAL_XLICERRORTYPE_PARAMETER);
    const auto kind = type ? icalparameter_get_xlicerrortype(type) : ICAL_XLICERRORTYPE_NONE;
    if (kind == ICAL_XLICERRORTYPE_PROPERTYPARSEERROR ||
        kind == ICAL_XLICERRORTYPE_PARAMETERNAMEPARSEERROR) {
      continue;
    }
    const char* what = icalproperty_get_xlicerror(p);
    const std::string error = what ? what : "unreadable";
    if (kind == ICAL_XLICERRORTYPE_VALUEPARSEERROR && !is_read_here(error)) continue;
    return fail(Errc::BadInput, "calendar data: " + error.substr(0, 200));
  }
  for (icalcomponent* c = icalcomponent_get_first_component(component, ICAL_ANY_COMPONENT); c;
       c = icalcomponent_get_next_component(component, ICAL_ANY_COMPONENT)) {
    if (depth >= kMaxNesting) {
      return fail(Errc::BadInput, "calendar data: components nested too deep");
    }
    auto checked = check_libical_errors(c, depth + 1, properties, limits);
    if (!checked) return checked;
  }
  return {};
}

const char* tzid_of(icalproperty* property) {
  icalparameter* tzid = icalproperty_get_first_parameter(property, ICAL_TZID_PARAMETER);
  return tzid ? icalparameter_get_tzid(tzid) : nullptr;
}

const char* name_of(Component kind) {
  switch (kind) {
    case Component::Event:
      return "VEVENT";
    case Component::Todo:
      return "VTODO";
    case Component::Journal:
      return "VJOURNAL";
    case Component::FreeBusy:
      return "VFREEBUSY";
  }
  return "";
}

// The earliest year any time of the components is written in, for own_zone().
int first_year(const std::vector<icalcomponent*>& components) {
  int year = INT_MAX;
  for (icalcomponent* c : components) {
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
      icaltimetype time = icaltime_null_time();
      switch (icalproperty_isa(p)) {
        case ICAL_DTSTART_PROPERTY:
        case ICAL_DTEND_PROPERTY:
        case ICAL_DUE_PROPERTY:
        case ICAL_RECURRENCEID_PROPERTY:
        case ICAL_EXDATE_PROPERTY:
          time = icalvalue_get_datetime(icalproperty_get_value(p));
          break;
        case ICAL_RDATE_PROPERTY: {
          const icaldatetimeperiodtype date = icalproperty_get_rdate(p);
          time = icaltime_is_null_time(date.time) ? date.period.start : date.time;
          break;
        }
        default:
          continue;
      }
      if (!icaltime_is_null_time(time) && time.year > 0) year = std::min(year, time.year);
    }
  }
  return year == INT_MAX ? 1970 : year - 1;
}

Result<std::int64_t> duration_seconds(const icaldurationtype& duration) {
  // Unsigned fields straight from the text: bound them before any arithmetic.
  const std::uint64_t days = std::uint64_t{duration.weeks} * 7 + duration.days;
  const std::uint64_t seconds =
      (days * 24 + duration.hours) * 3600 + std::uint64_t{duration.minutes} * 60 + duration.seconds;
  if (days > 36600 || seconds > 36600ull * kDay) {
    return fail(Errc::BadInput, "calendar object: a DURATION longer than a century");
  }
  return static_cast<std::int64_t>(seconds) * (duration.is_neg ? -1 : 1);
}

// The properties of one VEVENT, VTODO or VJOURNAL.
Result<Item> read_item(icalcomponent* component, Component kind, const Zones& zones) {
  Item item{.component = component, .kind = kind};
  const char* name = name_of(kind);
  for (icalproperty_kind once :
       {ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY, ICAL_DUE_PROPERTY, ICAL_DURATION_PROPERTY,
        ICAL_RECURRENCEID_PROPERTY, ICAL_UID_PROPERTY, ICAL_RRULE_PROPERTY}) {
    if (count_properties(component, once) > 1) {
      return fail(Errc::BadInput, std::string("calendar object: two ") +
                                      icalproperty_kind_to_string(once) + " in a " + name);
    }
  }
  auto moment = [&](icalproperty* p, icaltimetype value) {
    return read_moment(value, tzid_of(p), zones);
  };
  if (icalproperty* p = icalcomponent_get_first_property(component, ICAL_DTSTART_PROPERTY)) {
    auto start = moment(p, icalproperty_get_dtstart(p));
    if (!start) return tl::unexpected(start.error());
    item.start = *start;
  } else if (kind == Component::Event) {
    // RFC 5545 section 3.6.1: required without METHOD, which a stored object lacks.
    return fail(Errc::BadInput, "calendar object: a VEVENT without DTSTART");
  }
  const icalproperty_kind end_kind =
      kind == Component::Todo ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY;
  if (kind != Component::Journal) {
    if (icalproperty* p = icalcomponent_get_first_property(component, end_kind)) {
      auto end = moment(p, icalvalue_get_datetime(icalproperty_get_value(p)));
      if (!end) return tl::unexpected(end.error());
      item.ends = Ends::End;
      item.end = *end;
    }
    if (icalproperty* p = icalcomponent_get_first_property(component, ICAL_DURATION_PROPERTY)) {
      if (item.ends == Ends::End) {
        return fail(Errc::BadInput, std::string("calendar object: ") +
                                        icalproperty_kind_to_string(end_kind) +
                                        " and DURATION together");
      }
      if (!item.start) return fail(Errc::BadInput, "calendar object: DURATION without DTSTART");
      item.duration = icalproperty_get_duration(p);
      auto length = duration_seconds(item.duration);
      if (!length) return tl::unexpected(length.error());
      item.ends = Ends::Duration;
    }
  }
  if (kind == Component::Todo) {
    if (icalproperty* p = icalcomponent_get_first_property(component, ICAL_COMPLETED_PROPERTY)) {
      auto completed = moment(p, icalproperty_get_completed(p));
      if (!completed) return tl::unexpected(completed.error());
      item.completed = completed->utc;
    }
    if (icalproperty* p = icalcomponent_get_first_property(component, ICAL_CREATED_PROPERTY)) {
      auto created = moment(p, icalproperty_get_created(p));
      if (!created) return tl::unexpected(created.error());
      item.created = created->utc;
    }
  }
  if (icalproperty* p = icalcomponent_get_first_property(component, ICAL_RECURRENCEID_PROPERTY)) {
    auto id = moment(p, icalproperty_get_recurrenceid(p));
    if (!id) return tl::unexpected(id.error());
    item.recurrence_id = *id;
  }
  if (icalcomponent_get_first_property(component, ICAL_EXRULE_PROPERTY)) {
    return fail(Errc::BadInput, "calendar object: EXRULE (removed by RFC 5545)");
  }
  // An overridden instance is one instance: recurrence properties in it are ignored.
  const bool master = !item.recurrence_id;
  const bool recurs = icalcomponent_get_first_property(component, ICAL_RRULE_PROPERTY) ||
                      icalcomponent_get_first_property(component, ICAL_RDATE_PROPERTY);
  if (master && recurs && !item.start) {
    return fail(Errc::BadInput, "calendar object: RRULE or RDATE without DTSTART");
  }
  if (icalproperty* p =
          master ? icalcomponent_get_first_property(component, ICAL_RRULE_PROPERTY) : nullptr) {
    const icalrecurrencetype rule = icalproperty_get_rrule(p);
    auto checked = check_rule(rule);
    if (!checked) return tl::unexpected(checked.error());
    if (!icaltime_is_null_time(rule.until)) {
      auto until = read_moment(rule.until, nullptr, zones);
      if (!until) return tl::unexpected(until.error());
    }
    auto reaches = check_rule_reach(rule, *item.start);
    if (!reaches) return tl::unexpected(reaches.error());
    item.rule = rule;
  }
  for (icalproperty* p = master ? icalcomponent_get_first_property(component, ICAL_RDATE_PROPERTY)
                                : nullptr;
       p; p = icalcomponent_get_next_property(component, ICAL_RDATE_PROPERTY)) {
    const icaldatetimeperiodtype date = icalproperty_get_rdate(p);
    const bool period = icaltime_is_null_time(date.time);
    auto start = moment(p, period ? date.period.start : date.time);
    if (!start) return tl::unexpected(start.error());
    RecurrenceDate recurrence{.start = *start};
    if (period && !icaltime_is_null_time(date.period.end)) {
      auto end = moment(p, date.period.end);
      if (!end) return tl::unexpected(end.error());
      recurrence.end = std::max(end->utc, start->utc);
    } else if (period) {
      auto length = duration_seconds(date.period.duration);
      if (!length) return tl::unexpected(length.error());
      recurrence.end = start->utc + std::max<std::int64_t>(*length, 0);
    }
    item.rdates.push_back(recurrence);
  }
  for (icalproperty* p = master ? icalcomponent_get_first_property(component, ICAL_EXDATE_PROPERTY)
                                : nullptr;
       p; p = icalcomponent_get_next_property(component, ICAL_EXDATE_PROPERTY)) {
    auto date = moment(p, icalproperty_get_exdate(p));
    if (!date) return tl::unexpected(date.error());
    item.exdates.push_back(date->utc);
  }
  std::sort(item.exdates.begin(), item.exdates.end());
  if (icalproperty* p = icalcomponent_get_first_property(component, ICAL_STATUS_PROPERTY)) {
    const icalproperty_status status = icalproperty_get_status(p);
    item.cancelled = status == ICAL_STATUS_CANCELLED;
    item.tentative = status == ICAL_STATUS_TENTATIVE;
  }
  if (icalproperty* p = icalcomponent_get_first_property(component, ICAL_TRANSP_PROPERTY)) {
    const icalproperty_transp transp = icalproperty_get_transp(p);
    item.transparent =
        transp == ICAL_TRANSP_TRANSPARENT || transp == ICAL_TRANSP_TRANSPARENTNOCONFLICT;
  }
  // How far from an instance's start its condition reaches: its own end, a PERIOD's.
  std::int64_t reach = item.start ? 0 : kDay;
  if (item.start) {
    const Occurrence first = single(item);
    reach = first.end > first.start ? first.end - first.start : first.start - first.end;
    for (const RecurrenceDate& date : item.rdates) {
      if (date.end) reach = std::max(reach, *date.end - date.start.utc);
    }
    // Outside UTC, a nominal day is 23 to 25 hours, a wall time may come twice, and a
    // zone may skip a day (Samoa, 2011): two days more.
    if (item.start->zone != utc_zone()) reach = add(reach, 2 * kDay);
  }
  item.reach = reach;
  return item;
}

std::string lowercase_or_empty(const char* address) {
  return address ? lowercase(address) : std::string();
}

}  // namespace

ParsedCalendar::ParsedCalendar(std::unique_ptr<State> state) : state_(std::move(state)) {}
ParsedCalendar::ParsedCalendar(ParsedCalendar&&) noexcept = default;
ParsedCalendar& ParsedCalendar::operator=(ParsedCalendar&&) noexcept = default;
ParsedCalendar::~ParsedCalendar() = default;

const CalendarObject& ParsedCalendar::index() const { return state_->index; }

Result<ParsedCalendar> ParsedCalendar::parse(std::string_view text, const Limits& limits,
                                             const std::string& default_tzid) {
  auto checked = check_text(text, limits);
  if (!checked) return tl::unexpected(checked.error());
  auto state = std::make_unique<State>();
  state->limits = limits;
  state->zones.default_zone = utc_zone();
  if (!default_tzid.empty()) {
    state->zones.default_zone = builtin_zone(default_tzid);
    if (!state->zones.default_zone) {
      return fail(Errc::BadInput, "calendar data: unknown default time zone " + default_tzid);
    }
  }
  const std::string terminated(text);  // libical reads a C string
  state->root.reset(icalparser_parse_string(terminated.c_str()));
  icalcomponent* root = state->root.get();
  if (!root) return fail(Errc::BadInput, "calendar data: not iCalendar");
  // Several top-level components come back under an XROOT.
  if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
    return fail(Errc::BadInput, "calendar data: not exactly one VCALENDAR");
  }
  std::size_t properties = 0;
  auto readable = check_libical_errors(root, 1, properties, limits);
  if (!readable) return tl::unexpected(readable.error());

  icalproperty* version = icalcomponent_get_first_property(root, ICAL_VERSION_PROPERTY);
  const char* version_text = version ? icalproperty_get_version(version) : nullptr;
  if (!version_text || std::string_view(version_text) != "2.0" ||
      count_properties(root, ICAL_VERSION_PROPERTY) != 1) {
    return fail(Errc::BadInput, "calendar data: VERSION is not 2.0");
  }
  if (count_properties(root, ICAL_PRODID_PROPERTY) != 1) {
    return fail(Errc::BadInput, "calendar data: not one PRODID");
  }
  if (icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY)) {
    // RFC 4791 section 4.1: METHOD belongs to iTIP messages, not to stored objects.
    return fail(Errc::BadInput, "calendar object: METHOD in a stored object");
  }

  std::vector<icalcomponent*> vtimezones, components;
  Component kind = Component::Event;
  for (icalcomponent* c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT); c;
       c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
    Component this_kind;
    switch (icalcomponent_isa(c)) {
      case ICAL_VTIMEZONE_COMPONENT:
        vtimezones.push_back(c);
        continue;
      case ICAL_VEVENT_COMPONENT:
        this_kind = Component::Event;
        break;
      case ICAL_VTODO_COMPONENT:
        this_kind = Component::Todo;
        break;
      case ICAL_VJOURNAL_COMPONENT:
        this_kind = Component::Journal;
        break;
      case ICAL_VFREEBUSY_COMPONENT:
        return fail(Errc::BadInput, "component: VFREEBUSY is not stored");
      default: {
        const char* name = icalcomponent_kind_to_string(icalcomponent_isa(c));
        return fail(Errc::BadInput,
                    std::string("component: ") + (name ? name : "unknown") + " is not supported");
      }
    }
    if (!components.empty() && this_kind != kind) {
      return fail(Errc::BadInput, "calendar object: components of more than one type");
    }
    kind = this_kind;
    components.push_back(c);
  }
  if (components.empty()) {
    return fail(Errc::BadInput, "calendar object: no VEVENT, VTODO or VJOURNAL");
  }

  std::size_t transitions = limits.max_instances;
  const int zones_from = first_year(components);
  for (icalcomponent* vtimezone : vtimezones) {
    icalproperty* tzid = icalcomponent_get_first_property(vtimezone, ICAL_TZID_PROPERTY);
    const char* name = tzid ? icalproperty_get_tzid(tzid) : nullptr;
    if (!name || !*name) return fail(Errc::BadInput, "calendar data: a VTIMEZONE without TZID");
    for (const auto& [known, zone] : state->zones.own) {
      if (known == name) return fail(Errc::BadInput, "calendar data: two VTIMEZONEs " + known);
    }
    auto zone = own_zone(vtimezone, zones_from, transitions);
    if (!zone) return tl::unexpected(zone.error());
    state->zones.own.emplace_back(name, std::move(*zone));
  }

  CalendarObject& index = state->index;
  index.kind = kind;
  for (icalcomponent* c : components) {
    auto item = read_item(c, kind, state->zones);
    if (!item) return tl::unexpected(item.error());
    const char* uid = icalcomponent_get_uid(c);
    if (!uid || !*uid) return fail(Errc::BadInput, "calendar object: a component without UID");
    if (state->items.empty()) {
      index.uid = uid;
    } else if (index.uid != uid) {
      // RFC 4791 section 4.1: one UID per resource, its master and overrides.
      return fail(Errc::BadInput, "calendar object: components with different UIDs");
    }
    state->items.push_back(std::move(*item));
  }
  for (const Item& item : state->items) {
    if (item.recurrence_id) {
      state->overridden.push_back(item.recurrence_id->utc);
    } else if (state->master) {
      return fail(Errc::BadInput, "calendar object: two components without RECURRENCE-ID");
    } else {
      state->master = &item;
    }
  }
  std::sort(state->overridden.begin(), state->overridden.end());
  if (std::adjacent_find(state->overridden.begin(), state->overridden.end()) !=
      state->overridden.end()) {
    return fail(Errc::BadInput, "calendar object: two components with one RECURRENCE-ID");
  }

  const Item& main = state->master ? *state->master : state->items.front();
  index.recurring = !state->overridden.empty() ||
                    (state->master && (state->master->rule || !state->master->rdates.empty()));
  if (icalproperty* p = icalcomponent_get_first_property(main.component, ICAL_ORGANIZER_PROPERTY)) {
    index.organizer = lowercase_or_empty(icalproperty_get_organizer(p));
  }
  for (const Item& item : state->items) {
    for (icalproperty* p = icalcomponent_get_first_property(item.component, ICAL_ATTENDEE_PROPERTY);
         p; p = icalcomponent_get_next_property(item.component, ICAL_ATTENDEE_PROPERTY)) {
      index.attendees.push_back(lowercase_or_empty(icalproperty_get_attendee(p)));
    }
  }
  std::sort(index.attendees.begin(), index.attendees.end());
  index.attendees.erase(std::unique(index.attendees.begin(), index.attendees.end()),
                        index.attendees.end());
  if (const char* summary = icalcomponent_get_summary(main.component)) index.summary = summary;
  index.text = std::string(text);
  std::tie(index.first_start, index.last_end) = cover(*state);
  return ParsedCalendar(std::move(state));
}

Result<CalendarObject> parse_object(std::string_view text, const Limits& limits,
                                    const std::string& default_tzid) {
  auto parsed = ParsedCalendar::parse(text, limits, default_tzid);
  if (!parsed) return tl::unexpected(parsed.error());
  return parsed->index();
}

}  // namespace rampart::calendar
