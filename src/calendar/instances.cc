// The instances of a calendar object and RFC 4791 section 9.9's time-range conditions:
// matches_time_range(), instances() and busy_periods(), and the index's cover.
#include <algorithm>

#include "calendar/ical_internal.h"

namespace rampart::calendar {
namespace {

bool has(const short* values) { return values[0] != ICAL_RECURRENCE_ARRAY_MAX; }

bool limits_days(const icalrecurrencetype& rule) {
  return has(rule.by_day) || has(rule.by_month_day) || has(rule.by_year_day) ||
         has(rule.by_week_no) || has(rule.by_month) || has(rule.by_set_pos);
}

constexpr std::int64_t kLastUtc = 19313251200;  // 2583-01-01: libical iterates no further

std::int64_t until_utc(const icalrecurrencetype& rule, const Moment& dtstart) {
  return to_utc(rule.until, icaltime_is_utc(rule.until) ? utc_zone() : dtstart.zone);
}

// The rule, ending by `last` (UTC) at the latest. libical tests UNTIL at each step of
// its search for the next instance, so a rule whose next instance is far away stops
// searching where the question does, not in 2582.
icalrecurrencetype until_at_most(icalrecurrencetype rule, const Moment& dtstart,
                                 std::int64_t last) {
  if (last >= kLastUtc) return rule;
  if (!icaltime_is_null_time(rule.until) && until_utc(rule, dtstart) <= last) return rule;
  rule.until = dtstart.is_date ? from_utc(last, dtstart.zone, true) : utc_time(last);
  return rule;
}

// How far apart an accepted rule's instances may lie (check_rule_reach): eight years,
// or eight of its steps when those are longer (FREQ=YEARLY;INTERVAL=10).
std::int64_t horizon(const icalrecurrencetype& rule) {
  std::int64_t unit = 366 * kDay;
  switch (rule.freq) {
    case ICAL_SECONDLY_RECURRENCE:
      unit = 1;
      break;
    case ICAL_MINUTELY_RECURRENCE:
      unit = 60;
      break;
    case ICAL_HOURLY_RECURRENCE:
      unit = 3600;
      break;
    case ICAL_DAILY_RECURRENCE:
      unit = kDay;
      break;
    case ICAL_WEEKLY_RECURRENCE:
      unit = 7 * kDay;
      break;
    case ICAL_MONTHLY_RECURRENCE:
      unit = 31 * kDay;
      break;
    default:
      break;
  }
  return std::max<std::int64_t>(8 * 366 * kDay, 8 * unit * rule.interval);
}

// Days between two dates, for a DATE DTEND (or DUE) read against a DATE DTSTART.
int days_between(const icaltimetype& from, const icaltimetype& to) {
  return static_cast<int>((to_utc(to, nullptr) - to_utc(from, nullptr)) / kDay);
}

// DTSTART + DURATION: weeks and days are nominal (the same wall time days later, RFC
// 5545 section 3.3.6), hours, minutes and seconds exact.
std::int64_t after(const icaltimetype& local, std::int64_t utc, icaltimezone* zone,
                   const icaldurationtype& duration) {
  const int sign = duration.is_neg ? -1 : 1;
  const auto days = static_cast<int>(duration.weeks * 7 + duration.days);  // bounded at parse
  std::int64_t base = utc;
  if (days != 0) {
    icaltimetype shifted = local;
    icaltime_adjust(&shifted, sign * days, 0, 0, 0);
    base = to_utc(shifted, zone);
  }
  const std::int64_t seconds =
      std::int64_t{duration.hours} * 3600 + std::int64_t{duration.minutes} * 60 + duration.seconds;
  return base + sign * seconds;
}

// The instance of `item` starting at `local` (`utc`): its end as section 9.9 reads it.
Occurrence at(const Item& item, const icaltimetype& local, std::int64_t utc,
              std::optional<std::int64_t> period_end = std::nullopt) {
  Occurrence occurrence{.item = &item, .local_start = local, .start = utc, .end = utc};
  const Moment& start = *item.start;
  if (period_end) {
    occurrence.end = *period_end;
  } else if (item.ends == Ends::Duration) {
    occurrence.end = after(local, utc, start.zone, item.duration);
  } else if (item.ends == Ends::End && start.is_date && item.end.is_date) {
    icaltimetype end = local;
    icaltime_adjust(&end, days_between(start.local, item.end.local), 0, 0, 0);
    occurrence.end = to_utc(end, start.zone);
  } else if (item.ends == Ends::End) {
    // RFC 5545 section 3.8.5.3: every instance lasts exactly as long as the first.
    occurrence.end = utc + (item.end.utc - start.utc);
  } else if (start.is_date && item.kind != Component::Todo) {
    // A DATE VEVENT or VJOURNAL lasts the day (sections 3.6.1 and 9.9).
    icaltimetype end = local;
    icaltime_adjust(&end, 1, 0, 0, 0);
    occurrence.end = to_utc(end, start.zone);
  }
  // A VEVENT ending before it starts is read as an instant, not as a negative span.
  if (item.kind == Component::Event) occurrence.end = std::max(occurrence.end, utc);
  return occurrence;
}

// [lowest, highest] such that a range [s, e) this instance overlaps has s <= highest
// and e >= lowest (the index's promise, ical.h); empty (lowest > highest) if none can.
std::pair<std::int64_t, std::int64_t> cover_of(const Occurrence& o) {
  const Item& item = *o.item;
  switch (item.kind) {
    case Component::Event:
      return {o.start, o.end};
    case Component::Journal:
      if (!item.start) return {INT64_MAX, INT64_MIN};
      return {o.start, o.end};
    case Component::Todo:
      if (item.start && item.ends != Ends::None) {
        return {std::min(o.start, o.end), std::max(o.start, o.end)};
      }
      if (item.start) return {o.start, o.start};
      if (item.ends == Ends::End) return {o.end, o.end};
      if (item.completed && item.created) {
        return {std::min(*item.completed, *item.created), std::max(*item.completed, *item.created)};
      }
      if (item.completed) return {*item.completed, *item.completed};
      if (item.created) return {*item.created, INT64_MAX};
      return {INT64_MIN, INT64_MAX};
    case Component::FreeBusy:
      break;
  }
  return {INT64_MAX, INT64_MIN};
}

// The master's instances from its DTSTART, RDATEs and RRULE, minus EXDATEs and the
// overridden ones, that overlap [start, end). `budget` counts the steps.
void expand_master(const ParsedCalendar::State& state, std::int64_t start, std::int64_t end,
                   std::size_t& budget, Occurrences& out) {
  const Item& master = *state.master;
  if (!master.start) {  // a VTODO or VJOURNAL without DTSTART: one instance, no recurrence
    Occurrence only = single(master);
    if (overlaps(only, start, end)) out.list.push_back(only);
    return;
  }
  const Moment& dtstart = *master.start;
  // An instance starting before `from` has ended before `start`; one starting after
  // `to` has not begun by `end` (the reach also covers a VTODO's DUE before DTSTART).
  const std::int64_t from = add(start, -master.reach), to = add(end, master.reach);
  struct Candidate {
    icaltimetype local;
    std::int64_t utc;
    std::optional<std::int64_t> period_end;
  };
  std::vector<Candidate> candidates;
  auto consider = [&](const icaltimetype& local, std::int64_t utc,
                      std::optional<std::int64_t> period_end) {
    if (utc >= from && utc <= to) candidates.push_back({local, utc, period_end});
  };
  consider(dtstart.local, dtstart.utc, std::nullopt);  // RFC 5545: always the first instance
  for (const RecurrenceDate& date : master.rdates) {
    if (budget == 0) {
      out.truncated = true;
      break;
    }
    --budget;
    consider(date.start.local, date.start.utc, date.end);
  }
  if (master.rule) {
    // No instance starts after `to`, nor after the object's last end.
    const icalrecurrencetype rule =
        until_at_most(*master.rule, dtstart, std::min(to, state.index.last_end));
    icalrecur_iterator* iterator = icalrecur_iterator_new(rule, dtstart.local);
    // Skip to the range rather than step from DTSTART: not with COUNT (it counts from
    // DTSTART; libical refuses), nor for an INTERVAL of hours, minutes or seconds
    // (libical 3.0 aligns those to the start's clock fields, not to DTSTART's count).
    const bool sub_daily = rule.freq == ICAL_HOURLY_RECURRENCE ||
                           rule.freq == ICAL_MINUTELY_RECURRENCE ||
                           rule.freq == ICAL_SECONDLY_RECURRENCE;
    if (iterator && rule.count == 0 && (!sub_daily || rule.interval == 1) && from > dtstart.utc) {
      icaltimetype skip = from_utc(from, dtstart.zone, dtstart.is_date);
      if (!icalrecur_iterator_set_start(iterator, skip)) {
        icalrecur_iterator_free(iterator);
        iterator = icalrecur_iterator_new(rule, dtstart.local);
      }
    }
    while (iterator) {
      if (budget == 0) {
        out.truncated = true;
        break;
      }
      --budget;
      icaltimetype next = icalrecur_iterator_next(iterator);
      if (icaltime_is_null_time(next)) break;
      next.zone = dtstart.local.zone;
      const std::int64_t utc = to_utc(next, dtstart.zone);
      if (utc > to) break;
      consider(next, utc, std::nullopt);
    }
    if (iterator) icalrecur_iterator_free(iterator);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.utc < b.utc; });
  const bool recurring = state.index.recurring;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& candidate = candidates[i];
    if (i > 0 && candidates[i - 1].utc == candidate.utc) continue;  // DTSTART and the rule's first
    if (std::binary_search(master.exdates.begin(), master.exdates.end(), candidate.utc) ||
        std::binary_search(state.overridden.begin(), state.overridden.end(), candidate.utc)) {
      continue;
    }
    Occurrence occurrence = at(master, candidate.local, candidate.utc, candidate.period_end);
    occurrence.recurrence_id = recurring ? candidate.utc : 0;
    if (overlaps(occurrence, start, end)) out.list.push_back(occurrence);
  }
}

}  // namespace

Result<void> check_rule(const icalrecurrencetype& rule) {
  if (rule.freq == ICAL_NO_RECURRENCE || rule.interval < 1) {
    return fail(Errc::BadInput, "calendar object: an RRULE without FREQ or INTERVAL");
  }
  if (rule.rscale) return fail(Errc::BadInput, "calendar object: RSCALE (RFC 7529) in an RRULE");
  // libical steps a rule one FREQ unit at a time and tests the BY parts that limit:
  // FREQ=SECONDLY;BYMONTH=2 walks every second of a year between instances, and a rule
  // nothing satisfies walks to 2582. Parts that only add instances cost nothing.
  bool limited = false;
  switch (rule.freq) {
    case ICAL_SECONDLY_RECURRENCE:
      limited =
          has(rule.by_second) || has(rule.by_minute) || has(rule.by_hour) || limits_days(rule);
      break;
    case ICAL_MINUTELY_RECURRENCE:
      limited = has(rule.by_minute) || has(rule.by_hour) || limits_days(rule);
      break;
    case ICAL_HOURLY_RECURRENCE:
      limited = has(rule.by_hour) || limits_days(rule);
      break;
    default:
      break;
  }
  if (limited) {
    return fail(Errc::BadInput,
                "calendar object: a SECONDLY, MINUTELY or HOURLY RRULE with a limiting BY part");
  }
  return {};
}

Result<void> check_rule_reach(const icalrecurrencetype& rule, const Moment& dtstart) {
  // libical iterates nothing from past 2582, and says so at once.
  if (rule.count == 1 || dtstart.local.year > kLastYear) return {};
  const std::string refusal =
      "calendar object: an RRULE with no instance within eight years of DTSTART";
  const std::int64_t limit = add(dtstart.utc, horizon(rule));
  icalrecur_iterator* iterator =
      icalrecur_iterator_new(until_at_most(rule, dtstart, limit), dtstart.local);
  // No iterator: libical found no first instance by the year 20000, after a search as
  // long as a bad rule's next one.
  if (!iterator) return fail(Errc::BadInput, refusal);
  bool found = false;
  for (int i = 0; i < 2 && !found; ++i) {
    icaltimetype next = icalrecur_iterator_next(iterator);
    if (icaltime_is_null_time(next)) break;
    next.zone = dtstart.local.zone;
    found = to_utc(next, dtstart.zone) > dtstart.utc;
  }
  icalrecur_iterator_free(iterator);
  // A rule its own UNTIL (or 2582) ends by then costs no more than that.
  if (found || limit >= kLastUtc ||
      (!icaltime_is_null_time(rule.until) && until_utc(rule, dtstart) <= limit)) {
    return {};
  }
  return fail(Errc::BadInput, refusal);
}

Occurrence single(const Item& item) {
  if (item.start) return at(item, item.start->local, item.start->utc);
  Occurrence occurrence{.item = &item};
  if (item.ends == Ends::End) occurrence.start = occurrence.end = item.end.utc;
  return occurrence;
}

Occurrence original(const ParsedCalendar::State& state, const Item& override) {
  const Moment& id = *override.recurrence_id;
  if (state.master && state.master->start) {
    const Moment& start = *state.master->start;
    return at(*state.master, from_utc(id.utc, start.zone, start.is_date), id.utc);
  }
  Occurrence moved = single(override);
  moved.end = add(id.utc, moved.end - moved.start);
  moved.start = id.utc;
  return moved;
}

bool overlaps(const Occurrence& o, std::int64_t start, std::int64_t end) {
  if (start >= end) return false;
  const Item& item = *o.item;
  switch (item.kind) {
    case Component::Event:
      if (o.end > o.start) return start < o.end && end > o.start;
      return start <= o.start && end > o.start;  // DURATION:PT0S, or no end
    case Component::Journal:
      if (!item.start) return false;
      if (item.start->is_date) return start < o.end && end > o.start;
      return start <= o.start && end > o.start;
    case Component::Todo:
      // RFC 4791 section 9.9's table, row by row.
      if (item.start && item.ends == Ends::Duration) {
        return start <= o.end && (end > o.start || end >= o.end);
      }
      if (item.start && item.ends == Ends::End) {
        return (start < o.end || start <= o.start) && (end > o.start || end >= o.end);
      }
      if (item.start) return start <= o.start && end > o.start;
      if (item.ends == Ends::End) return start < o.end && end >= o.end;
      if (item.completed && item.created) {
        return (start <= *item.created || start <= *item.completed) &&
               (end >= *item.created || end >= *item.completed);
      }
      if (item.completed) return start <= *item.completed && end >= *item.completed;
      if (item.created) return end > *item.created;
      return true;
    case Component::FreeBusy:
      break;
  }
  return false;
}

Occurrences occurrences(const ParsedCalendar::State& state, std::int64_t start, std::int64_t end) {
  Occurrences out;
  if (start >= end) return out;
  std::size_t budget = state.limits.max_instances;
  if (state.master) expand_master(state, start, end, budget, out);
  for (const Item& item : state.items) {
    if (!item.recurrence_id) continue;
    Occurrence occurrence = single(item);
    occurrence.recurrence_id = item.recurrence_id->utc;
    if (overlaps(occurrence, start, end)) out.list.push_back(occurrence);
  }
  std::sort(out.list.begin(), out.list.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.start != b.start ? a.start < b.start : a.recurrence_id < b.recurrence_id;
  });
  return out;
}

std::pair<std::int64_t, std::int64_t> cover(const ParsedCalendar::State& state) {
  std::int64_t lowest = INT64_MAX, highest = INT64_MIN;
  auto take = [&](const Occurrence& occurrence) {
    const auto [low, high] = cover_of(occurrence);
    lowest = std::min(lowest, low);
    highest = std::max(highest, high);
  };
  for (const Item& item : state.items) {
    if (item.recurrence_id) take(single(item));
  }
  if (!state.master) return {lowest, highest};
  const Item& master = *state.master;
  take(single(master));
  if (!master.start) return {lowest, highest};
  for (const RecurrenceDate& date : master.rdates) {
    take(at(master, date.start.local, date.start.utc, date.end));
  }
  if (!master.rule) return {lowest, highest};
  const icalrecurrencetype& rule = *master.rule;
  if (rule.count == 0 && icaltime_is_null_time(rule.until)) return {lowest, INT64_MAX};
  if (rule.count == 0) {
    // No instance starts after UNTIL (checked at parse); the reach covers its length.
    const icaltimetype until = rule.until;
    icaltimezone* zone = icaltime_is_utc(until) ? utc_zone() : master.start->zone;
    return {lowest, std::max(highest, add(to_utc(until, zone), master.reach))};
  }
  // COUNT: step to the last instance, within the same budget as a question and a
  // horizon per instance; short of COUNT instances, the end is unknown.
  const std::int64_t steps = std::min<std::int64_t>(rule.count, state.limits.max_instances);
  std::int64_t limit;
  if (__builtin_mul_overflow(steps, horizon(rule), &limit)) limit = INT64_MAX;
  const icalrecurrencetype bounded =
      until_at_most(rule, *master.start, add(master.start->utc, limit));
  icalrecur_iterator* iterator = icalrecur_iterator_new(bounded, master.start->local);
  int produced = 0;
  while (iterator && produced < rule.count) {
    if (produced == steps) break;
    icaltimetype next = icalrecur_iterator_next(iterator);
    if (icaltime_is_null_time(next)) break;
    ++produced;
    next.zone = master.start->local.zone;
    take(at(master, next, to_utc(next, master.start->zone)));
  }
  if (iterator) icalrecur_iterator_free(iterator);
  if (produced < rule.count) highest = INT64_MAX;
  return {lowest, highest};
}

bool ParsedCalendar::matches_time_range(std::int64_t start, std::int64_t end, Component which,
                                        bool* truncated) const {
  if (truncated) *truncated = false;
  if (which != state_->index.kind || which == Component::FreeBusy) return false;
  const Occurrences found = occurrences(*state_, start, end);
  if (truncated) *truncated = found.truncated;
  // Past the bound the answer is unknown: a REPORT lists the object rather than lose it.
  return !found.list.empty() || found.truncated;
}

std::vector<Instance> ParsedCalendar::instances(std::int64_t start, std::int64_t end,
                                                bool* truncated) const {
  const Occurrences found = occurrences(*state_, start, end);
  if (truncated) *truncated = found.truncated;
  std::vector<Instance> out;
  out.reserve(found.list.size());
  for (const Occurrence& o : found.list) {
    const Item& item = *o.item;
    Instance instance{.start = o.start, .end = o.end, .recurrence_id = o.recurrence_id};
    if (item.kind == Component::Todo && !item.start) {
      // No DTSTART: the instance is its DUE, else when it was completed or created.
      const std::int64_t when = item.ends == Ends::End ? item.end.utc
                                : item.completed       ? *item.completed
                                                       : item.created.value_or(0);
      instance.start = instance.end = when;
    } else if (item.kind == Component::Todo && item.ends == Ends::None) {
      instance.end = instance.start;
    }
    out.push_back(instance);
  }
  return out;
}

std::vector<BusyPeriod> ParsedCalendar::busy_periods(std::int64_t start, std::int64_t end) const {
  std::vector<BusyPeriod> out;
  if (state_->index.kind != Component::Event) return out;
  for (const Occurrence& o : occurrences(*state_, start, end).list) {
    // RFC 4791 section 7.10: TRANSPARENT or CANCELLED is free; TENTATIVE is tentative.
    if (o.item->transparent || o.item->cancelled) continue;
    const std::int64_t from = std::max(o.start, start), to = std::min(o.end, end);
    if (from >= to) continue;
    out.push_back({from, to, o.item->tentative ? BusyType::BusyTentative : BusyType::Busy});
  }
  return out;
}

}  // namespace rampart::calendar
