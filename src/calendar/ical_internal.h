// What the files of the calendar module share: a parsed object's state over libical's
// tree, time-zone helpers (zones.cc) and the instance expansion (instances.cc).
#pragma once

#include <libical/ical.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calendar/ical.h"

namespace rampart::calendar {

struct ComponentFree {
  void operator()(icalcomponent* component) const { icalcomponent_free(component); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentFree>;

struct ZoneFree {
  void operator()(icaltimezone* zone) const { icaltimezone_free(zone, 1); }
};
using ZonePtr = std::unique_ptr<icaltimezone, ZoneFree>;

struct StringFree {
  void operator()(char* text) const { icalmemory_free_buffer(text); }
};
using IcalString = std::unique_ptr<char, StringFree>;

constexpr std::int64_t kDay = 86400;
// libical iterates recurrences and expands zones up to this year, no further.
constexpr int kLastYear = 2582;

// Saturating arithmetic: open ranges are INT64_MIN and INT64_MAX.
inline std::int64_t add(std::int64_t a, std::int64_t b) {
  std::int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? INT64_MAX : INT64_MIN;
  return sum;
}

// A DATE or DATE-TIME as written, with the zone it is read in.
struct Moment {
  icaltimetype local{};          // the value as written; local.zone is `zone`
  icaltimezone* zone = nullptr;  // never null: the TZID's, UTC's ("Z"), or the default zone
  bool is_date = false;
  bool has_tzid = false;  // expand() writes it in UTC
  bool floating = false;  // neither TZID nor "Z": expand() writes it as written
  std::int64_t utc = 0;
};

// The zones a time may be read in.
struct Zones {
  icaltimezone* default_zone = nullptr;              // UTC's unless the caller named one
  std::vector<std::pair<std::string, ZonePtr>> own;  // the object's VTIMEZONEs, by TZID
};

// A VEVENT's DTEND or a VTODO's DUE, or DURATION.
enum class Ends { None, End, Duration };

struct RecurrenceDate {
  Moment start;
  std::optional<std::int64_t> end;  // a PERIOD's
};

// One VEVENT, VTODO or VJOURNAL.
struct Item {
  icalcomponent* component = nullptr;  // in State::root
  Component kind = Component::Event;
  std::optional<Moment> start;
  Ends ends = Ends::None;
  Moment end;  // DTEND or DUE
  icaldurationtype duration{};
  std::optional<std::int64_t> completed, created;
  std::optional<icalrecurrencetype> rule;
  std::vector<RecurrenceDate> rdates;
  std::vector<std::int64_t> exdates;  // sorted
  std::optional<Moment> recurrence_id;
  bool transparent = false, cancelled = false, tentative = false;
  // At least the largest distance between an instance's start and any time its
  // section 9.9 condition reads (end, DUE), plus two days outside UTC for zone shifts.
  std::int64_t reach = 0;
};

// One instance, as section 9.9 reads it.
struct Occurrence {
  const Item* item = nullptr;      // the master, or the overridden instance
  icaltimetype local_start{};      // DTSTART in its zone (the iterator's time)
  std::int64_t start = 0;          // DTSTART (UTC); a VTODO without one: 0
  std::int64_t end = 0;            // VEVENT: its end; VTODO: DUE or DTSTART+DURATION; VJOURNAL
  std::int64_t recurrence_id = 0;  // 0 when the object does not recur
};

struct Occurrences {
  std::vector<Occurrence> list;  // by start
  bool truncated = false;
};

struct ParsedCalendar::State {
  ComponentPtr root;
  CalendarObject index;
  Limits limits;
  Zones zones;
  std::vector<Item> items;               // in the order of the text
  const Item* master = nullptr;          // the one without RECURRENCE-ID, if any
  std::vector<std::int64_t> overridden;  // the overrides' RECURRENCE-IDs, sorted
};

// zones.cc

// How many properties of `kind` the component holds.
std::size_t count_properties(icalcomponent* component, icalproperty_kind kind);
icaltimezone* utc_zone();
// A builtin zone by name (under the process-wide lock), or nullptr; names that could
// leave /usr/share/zoneinfo are refused first.
icaltimezone* builtin_zone(const std::string& name);
// The VTIMEZONE as a zone of its own. Its observances' yearly rules that start before
// `first_year` start then instead (the same transitions from that year on, without
// libical walking centuries of them); `budget` is what remains of max_instances.
Result<ZonePtr> own_zone(icalcomponent* vtimezone, int first_year, std::size_t& budget);
// A value's zone: its TZID's (the object's VTIMEZONE, else a builtin), UTC's for "Z",
// the default zone for a floating one.
Result<Moment> read_moment(icaltimetype value, const char* tzid, const Zones& zones);
std::int64_t to_utc(icaltimetype local, icaltimezone* zone);
// The wall time in `zone` of a UTC time (a DATE when `is_date`).
icaltimetype from_utc(std::int64_t utc, icaltimezone* zone, bool is_date);
// For writing: the UTC time as a DATE-TIME with "Z".
icaltimetype utc_time(std::int64_t utc);

// instances.cc

// Whether the rule is one this module iterates (see ical.h); the error says why not.
Result<void> check_rule(const icalrecurrencetype& rule);
// Whether the rule has an instance after DTSTART within eight years (eight intervals
// when longer), or ends first. libical searches for the next instance one FREQ step at
// a time until 2582: FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 takes half a second to find
// none, on every question; past this check, a question's own range bounds the search.
Result<void> check_rule_reach(const icalrecurrencetype& rule, const Moment& dtstart);
// The instances of the object that overlap [start, end) by section 9.9, overridden
// instances in their place; stops at the range's end and after max_instances steps.
Occurrences occurrences(const ParsedCalendar::State& state, std::int64_t start, std::int64_t end);
// Section 9.9's condition for one instance.
bool overlaps(const Occurrence& occurrence, std::int64_t start, std::int64_t end);
// first_start and last_end of the index.
std::pair<std::int64_t, std::int64_t> cover(const ParsedCalendar::State& state);
// The instance of an item at its own DTSTART (a non-recurring one, or an override).
Occurrence single(const Item& item);
// The instance an override replaces, where it was before (the master's at the
// RECURRENCE-ID; without a master, the override's own length from there).
Occurrence original(const ParsedCalendar::State& state, const Item& override);

}  // namespace rampart::calendar
