// The iCalendar this module writes, all for REPORT responses: CALDAV:expand,
// CALDAV:limit-recurrence-set and the free-busy-query answer.
#include <algorithm>
#include <cstdio>

#include "base/civil_date.h"
#include "calendar/ical_internal.h"

namespace rampart::calendar {
namespace {

std::string serialize(icalcomponent* component) {
  IcalString text(icalcomponent_as_ical_string_r(component));
  return text ? std::string(text.get()) : std::string();
}

void remove_all(icalcomponent* component, icalproperty_kind kind) {
  while (icalproperty* p = icalcomponent_get_first_property(component, kind)) {
    icalcomponent_remove_property(component, p);
    icalproperty_free(p);
  }
}

// A time of an instance, written as RFC 4791 section 9.6.5 asks: a time that had a
// TZID in UTC; a DATE, a floating or a UTC time as the original was.
icaltimetype written(const Moment& original, std::int64_t utc) {
  if (original.is_date) return from_utc(utc, original.zone, true);
  if (!original.floating) return utc_time(utc);
  icaltimetype floating = from_utc(utc, original.zone, false);
  floating.zone = nullptr;
  return floating;
}

void set_time(icalcomponent* component, icalproperty_kind kind, const icaltimetype& value) {
  icalproperty* p = icalcomponent_get_first_property(component, kind);
  if (!p) {
    p = icalproperty_new(kind);
    icalcomponent_add_property(component, p);
  }
  icalproperty_remove_parameter_by_kind(p, ICAL_TZID_PARAMETER);
  icalproperty_remove_parameter_by_kind(p, ICAL_RANGE_PARAMETER);
  icalproperty_remove_parameter_by_kind(p, ICAL_VALUE_PARAMETER);
  if (value.is_date) {
    icalproperty_set_value(p, icalvalue_new_date(value));
    icalproperty_set_parameter(p, icalparameter_new_value(ICAL_VALUE_DATE));
  } else {
    icalproperty_set_value(p, icalvalue_new_datetime(value));
  }
}

// One instance as a component of its own, for CALDAV:expand.
icalcomponent* instance_component(const ParsedCalendar::State& state, const Occurrence& o) {
  const Item& item = *o.item;
  icalcomponent* component = icalcomponent_new_clone(item.component);
  for (icalproperty_kind kind : {ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY,
                                 ICAL_EXRULE_PROPERTY, ICAL_XLICERROR_PROPERTY}) {
    remove_all(component, kind);
  }
  if (item.start) set_time(component, ICAL_DTSTART_PROPERTY, written(*item.start, o.start));
  if (item.ends == Ends::End) {
    set_time(component, item.kind == Component::Todo ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY,
             written(item.end, o.end));
  }
  if (item.recurrence_id) {
    set_time(component, ICAL_RECURRENCEID_PROPERTY, written(*item.recurrence_id, o.recurrence_id));
  } else if (state.index.recurring && item.start) {
    set_time(component, ICAL_RECURRENCEID_PROPERTY, written(*item.start, o.recurrence_id));
  }
  return component;
}

// The object's calendar properties (VERSION, PRODID, CALSCALE, X-WR-...).
ComponentPtr calendar_shell(icalcomponent* root) {
  ComponentPtr out(icalcomponent_new(ICAL_VCALENDAR_COMPONENT));
  for (icalproperty* p = icalcomponent_get_first_property(root, ICAL_ANY_PROPERTY); p;
       p = icalcomponent_get_next_property(root, ICAL_ANY_PROPERTY)) {
    if (icalproperty_isa(p) == ICAL_XLICERROR_PROPERTY) continue;
    icalcomponent_add_property(out.get(), icalproperty_new_clone(p));
  }
  return out;
}

std::string format_utc(std::int64_t utc) {
  utc = std::clamp<std::int64_t>(utc, -62135596800, 253402300799);  // years 1 to 9999
  std::int64_t days = utc / kDay, seconds = utc % kDay;
  if (seconds < 0) days -= 1, seconds += kDay;
  const CivilDate date = civil_from_days(days);
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year),
                date.month, date.day, static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60));
  return text;
}

}  // namespace

std::string ParsedCalendar::expand(std::int64_t start, std::int64_t end) const {
  ComponentPtr out = calendar_shell(state_->root.get());
  for (const Occurrence& o : occurrences(*state_, start, end).list) {
    icalcomponent_add_component(out.get(), instance_component(*state_, o));
  }
  return serialize(out.get());
}

std::string ParsedCalendar::limit_recurrence_set(std::int64_t start, std::int64_t end) const {
  icalcomponent* root = state_->root.get();
  ComponentPtr copy(icalcomponent_new_clone(root));
  // The copy's components are the original's, in order.
  std::vector<icalcomponent*> dropped;
  for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT),
                     *d = icalcomponent_get_first_component(copy.get(), ICAL_ANY_COMPONENT);
       c && d; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT),
                     d = icalcomponent_get_next_component(copy.get(), ICAL_ANY_COMPONENT)) {
    const auto item = std::find_if(state_->items.begin(), state_->items.end(),
                                   [&](const Item& i) { return i.component == c; });
    if (item == state_->items.end() || !item->recurrence_id) continue;
    // Section 9.6.6: an override matters if it overlaps the range now or did before.
    if (!overlaps(single(*item), start, end) && !overlaps(original(*state_, *item), start, end)) {
      dropped.push_back(d);
    }
  }
  for (icalcomponent* d : dropped) {
    icalcomponent_remove_component(copy.get(), d);
    icalcomponent_free(d);
  }
  return serialize(copy.get());
}

std::string freebusy_calendar(std::int64_t start, std::int64_t end, std::vector<BusyPeriod> periods,
                              std::int64_t dtstamp) {
  // Clip, then coalesce overlapping or touching periods of one type (section 7.10:
  // periods of different types may overlap).
  std::vector<BusyPeriod> clipped;
  for (BusyPeriod& period : periods) {
    period.start = std::max(period.start, start);
    period.end = std::min(period.end, end);
    if (period.start < period.end) clipped.push_back(period);
  }
  std::sort(clipped.begin(), clipped.end(), [](const BusyPeriod& a, const BusyPeriod& b) {
    return a.type != b.type ? a.type < b.type : a.start < b.start;
  });
  std::vector<BusyPeriod> merged;
  for (const BusyPeriod& period : clipped) {
    if (!merged.empty() && merged.back().type == period.type && period.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, period.end);
    } else {
      merged.push_back(period);
    }
  }
  std::stable_sort(merged.begin(), merged.end(),
                   [](const BusyPeriod& a, const BusyPeriod& b) { return a.start < b.start; });
  std::string out =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rampart//CalDAV//EN\r\n"
      "BEGIN:VFREEBUSY\r\nDTSTAMP:" +
      format_utc(dtstamp) + "\r\nDTSTART:" + format_utc(start) + "\r\nDTEND:" + format_utc(end) +
      "\r\n";
  for (const BusyPeriod& period : merged) {
    // BUSY is FBTYPE's default (RFC 5545 section 3.2.9).
    out += period.type == BusyType::BusyTentative ? "FREEBUSY;FBTYPE=BUSY-TENTATIVE:" : "FREEBUSY:";
    out += format_utc(period.start) + "/" + format_utc(period.end) + "\r\n";
  }
  out += "END:VFREEBUSY\r\nEND:VCALENDAR\r\n";
  return out;
}

}  // namespace rampart::calendar
