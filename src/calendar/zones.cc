// Time zones: the object's own VTIMEZONEs, libical's builtin ones (the system's tzdata),
// and converting DATE and DATE-TIME values to UTC seconds.
#include <algorithm>
#include <mutex>

#include "base/civil_date.h"
#include "calendar/ical_internal.h"

namespace rampart::calendar {
namespace {

// libical's builtin table is process-wide and its lookup of a zone missing from
// zone.tab appends to it unlocked (icaltimezone.c), so lookups take this lock. It is
// the one global here because the table it guards is one.
std::mutex& builtin_mutex() {
  static std::mutex mutex;
  return mutex;
}

// libical reads zone.tab on the first use of any zone, behind an unlocked test of a
// global pointer; doing it once here, before anything else, keeps that test a read.
void load_zone_table() {
  static std::once_flag once;
  std::call_once(once, [] { icaltimezone_get_utc_timezone(); });
}

// libical opens /usr/share/zoneinfo/ + the name for a name missing from zone.tab,
// "../" and all. tzdata's names are letters, digits, "_", "-" and "+" in parts
// separated by "/" (Etc/GMT+5, America/Port-au-Prince). libical keeps every zone it
// loads for the life of the process; posix/ and right/ (leap seconds) hold copies of
// every zone, and would triple what a client can make it keep.
bool is_zone_file_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (name.starts_with("posix/") || name.starts_with("right/")) return false;
  bool part_empty = true;
  for (char c : name) {
    if (c == '/') {
      if (part_empty) return false;
      part_empty = true;
      continue;
    }
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+';
    if (!allowed) return false;
    part_empty = false;
  }
  return !part_empty;
}

std::size_t entries(const short* values, std::size_t size) {
  std::size_t n = 0;
  while (n < size && values[n] != ICAL_RECURRENCE_ARRAY_MAX) ++n;
  return n;
}

// At most how many transitions a yearly rule makes in a year: the days its BY parts
// allow (at most 366) times the times of day.
std::size_t yearly_transitions(const icalrecurrencetype& rule) {
  const std::size_t months = entries(rule.by_month, ICAL_BY_MONTH_SIZE);
  const std::size_t month_days = entries(rule.by_month_day, ICAL_BY_MONTHDAY_SIZE);
  const std::size_t year_days = entries(rule.by_year_day, ICAL_BY_YEARDAY_SIZE);
  const std::size_t weeks = entries(rule.by_week_no, ICAL_BY_WEEKNO_SIZE);
  std::size_t week_days = 0;
  for (std::size_t i = 0; i < ICAL_BY_DAY_SIZE && rule.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX;
       ++i) {
    // "-1SU" is one day a month (or a year); "SU" up to five a month, 53 a year.
    const bool positional = icalrecurrencetype_day_position(rule.by_day[i]) != 0;
    week_days += positional ? 1 : (months ? 5 : 53);
  }
  std::size_t days;
  if (year_days) {
    days = year_days;
  } else if (month_days) {
    days = std::max<std::size_t>(months, 1) * month_days;
  } else if (week_days) {
    days = std::max<std::size_t>(months, 1) * week_days;
  } else if (weeks) {
    days = weeks * 7;
  } else {
    days = std::max<std::size_t>(months, 1);
  }
  days = std::min<std::size_t>(days, 366);
  const std::size_t times = std::max<std::size_t>(entries(rule.by_hour, ICAL_BY_HOUR_SIZE), 1) *
                            std::max<std::size_t>(entries(rule.by_minute, ICAL_BY_MINUTE_SIZE), 1) *
                            std::max<std::size_t>(entries(rule.by_second, ICAL_BY_SECOND_SIZE), 1);
  return days * times;
}

// Checks one STANDARD or DAYLIGHT observance, moves its yearly rule's start up to
// `first_year`, and returns how many transitions libical will expand it to.
Result<std::size_t> prepare_observance(icalcomponent* observance, int first_year) {
  icalproperty* dtstart = icalcomponent_get_first_property(observance, ICAL_DTSTART_PROPERTY);
  if (!dtstart) return 0;  // libical skips such an observance
  const std::size_t dates = count_properties(observance, ICAL_RDATE_PROPERTY);
  icalproperty* rrule = icalcomponent_get_first_property(observance, ICAL_RRULE_PROPERTY);
  if (!rrule) return 1 + dates;
  if (icalcomponent_get_next_property(observance, ICAL_RRULE_PROPERTY)) {
    return fail(Errc::BadInput, "calendar data: a VTIMEZONE observance has two RRULEs");
  }
  const icalrecurrencetype rule = icalproperty_get_rrule(rrule);
  // Every time zone's rules recur yearly; other frequencies would only cost time.
  if (rule.freq != ICAL_YEARLY_RECURRENCE || rule.rscale || rule.interval < 1) {
    return fail(Errc::BadInput, "calendar data: a VTIMEZONE observance's RRULE is not yearly");
  }
  icaltimetype start = icalproperty_get_dtstart(dtstart);
  const bool until_later = icaltime_is_null_time(rule.until) || rule.until.year >= first_year;
  // Outlook writes DTSTART:16010101T...: libical would walk every year from 1601 on
  // each parse. From `first_year` on the same yearly rule gives the same transitions;
  // the moved DTSTART itself is one more transition, in a year before any time read.
  // A COUNT counts from DTSTART and an INTERVAL steps from it, so those stay.
  if (start.year < first_year && rule.count == 0 && rule.interval == 1 && until_later &&
      !(start.month == 2 && start.day == 29)) {
    start.year = first_year;
    icalproperty_set_dtstart(dtstart, start);
  }
  int last_year = kLastYear;
  if (!icaltime_is_null_time(rule.until)) last_year = std::min(last_year, rule.until.year);
  const std::size_t years =
      last_year < start.year ? 0
                             : static_cast<std::size_t>(last_year - start.year) / rule.interval + 1;
  std::size_t transitions = years * yearly_transitions(rule);
  if (rule.count > 0) transitions = std::min<std::size_t>(transitions, rule.count);
  return 1 + dates + transitions;
}

}  // namespace

std::size_t count_properties(icalcomponent* component, icalproperty_kind kind) {
  std::size_t n = 0;
  for (icalproperty* p = icalcomponent_get_first_property(component, kind); p;
       p = icalcomponent_get_next_property(component, kind)) {
    ++n;
  }
  return n;
}

icaltimezone* utc_zone() {
  load_zone_table();
  return icaltimezone_get_utc_timezone();
}

icaltimezone* builtin_zone(const std::string& name) {
  load_zone_table();
  if (!is_zone_file_name(name)) return nullptr;
  std::lock_guard lock(builtin_mutex());
  return icaltimezone_get_builtin_timezone(name.c_str());
}

bool is_known_time_zone(const std::string& tzid) { return builtin_zone(tzid) != nullptr; }

Result<ZonePtr> own_zone(icalcomponent* vtimezone, int first_year, std::size_t& budget) {
  ComponentPtr copy(icalcomponent_new_clone(vtimezone));
  std::size_t transitions = 0;
  for (icalcomponent* part = icalcomponent_get_first_component(copy.get(), ICAL_ANY_COMPONENT);
       part; part = icalcomponent_get_next_component(copy.get(), ICAL_ANY_COMPONENT)) {
    const icalcomponent_kind kind = icalcomponent_isa(part);
    if (kind != ICAL_XSTANDARD_COMPONENT && kind != ICAL_XDAYLIGHT_COMPONENT) continue;
    auto count = prepare_observance(part, first_year);
    if (!count) return tl::unexpected(count.error());
    transitions += *count;
    if (transitions > budget) {
      return fail(Errc::TooBig, "calendar data: VTIMEZONEs of more than " + std::to_string(budget) +
                                    " transitions");
    }
  }
  budget -= transitions;
  ZonePtr zone(icaltimezone_new());
  if (!zone || !icaltimezone_set_component(zone.get(), copy.get())) {
    return fail(Errc::BadInput, "calendar data: a VTIMEZONE without TZID");
  }
  copy.release();  // the zone owns it now
  return zone;
}

Result<Moment> read_moment(icaltimetype value, const char* tzid, const Zones& zones) {
  // libical leaves what it parses unchecked; the iterator and the conversions assume
  // real dates.
  const bool valid_date = value.year >= 1 && value.year <= 9999 && value.month >= 1 &&
                          value.month <= 12 && value.day >= 1 &&
                          value.day <= icaltime_days_in_month(value.month, value.year);
  const bool valid_time =
      value.is_date || (value.hour >= 0 && value.hour <= 23 && value.minute >= 0 &&
                        value.minute <= 59 && value.second >= 0 && value.second <= 60);
  if (icaltime_is_null_time(value) || !valid_date || !valid_time) {
    return fail(Errc::BadInput, "calendar data: an invalid date or time");
  }
  Moment moment{.local = value, .is_date = value.is_date != 0};
  if (icaltime_is_utc(value)) {
    moment.zone = utc_zone();
  } else if (tzid && !moment.is_date) {
    moment.has_tzid = true;
    for (const auto& [name, zone] : zones.own) {
      if (name == tzid) moment.zone = zone.get();
    }
    if (!moment.zone) moment.zone = builtin_zone(tzid);
    if (!moment.zone) {
      return fail(Errc::BadInput, std::string("calendar data: unknown TZID ") + tzid);
    }
  } else {
    // RFC 4791 section 9.9: floating times and dates are in the calendar's zone.
    moment.zone = zones.default_zone;
    moment.floating = true;
  }
  moment.local.zone = moment.is_date ? nullptr : moment.zone;
  moment.utc = to_utc(moment.local, moment.zone);
  return moment;
}

// libical expands a zone's transitions up to 2582 and, asked about a later year,
// expands them all again on every call. The Gregorian calendar repeats every 400
// years (146097 days), and so do a zone's yearly rules: a later time is converted 400
// years earlier.
constexpr int kCycleYears = 400;
constexpr std::int64_t kCycleSeconds = 146097 * kDay;

std::int64_t to_utc(icaltimetype local, icaltimezone* zone) {
  local.is_date = 0;
  local.zone = nullptr;
  std::int64_t cycles = 0;
  while (local.year > kLastYear) local.year -= kCycleYears, ++cycles;
  icaltimezone* utc = utc_zone();
  if (zone && zone != utc) icaltimezone_convert_time(&local, zone, utc);
  return days_from_civil(local.year, static_cast<unsigned>(local.month),
                         static_cast<unsigned>(local.day)) *
             kDay +
         local.hour * 3600 + local.minute * 60 + local.second + cycles * kCycleSeconds;
}

icaltimetype from_utc(std::int64_t utc, icaltimezone* zone, bool is_date) {
  // Years 1 to 9999, which is all read_moment() lets in.
  utc = std::clamp<std::int64_t>(utc, -62135596800, 253402300799);
  int cycles = 0;
  while (utc >= days_from_civil(kLastYear, 1, 1) * kDay) utc -= kCycleSeconds, ++cycles;
  std::int64_t days = utc / kDay, seconds = utc % kDay;
  if (seconds < 0) days -= 1, seconds += kDay;
  const CivilDate date = civil_from_days(days);
  icaltimetype time = icaltime_null_time();
  time.year = static_cast<int>(date.year);
  time.month = static_cast<int>(date.month);
  time.day = static_cast<int>(date.day);
  time.hour = static_cast<int>(seconds / 3600);
  time.minute = static_cast<int>(seconds / 60 % 60);
  time.second = static_cast<int>(seconds % 60);
  icaltimezone* utc_time_zone = utc_zone();
  if (zone && zone != utc_time_zone) icaltimezone_convert_time(&time, utc_time_zone, zone);
  time.year += cycles * kCycleYears;
  time.zone = zone;
  if (is_date) {
    time.is_date = 1;
    time.hour = time.minute = time.second = 0;
    time.zone = nullptr;
  }
  return time;
}

icaltimetype utc_time(std::int64_t utc) { return from_utc(utc, utc_zone(), false); }

}  // namespace rampart::calendar
