// The iCalendar layer under CalDAV (RFC 4791) and scheduling. It checks that a client's
// text is a calendar object resource (RFC 4791 section 4.1), indexes it, and answers what
// a calendar REPORT asks of one: does it overlap a time range (section 9.9), which
// instances it has, those instances as components of their own (CALDAV:expand, section
// 9.6.5), the overridden instances that bear on a range (CALDAV:limit-recurrence-set,
// section 9.6.6) and its busy time (free-busy-query, section 7.10). Pure: no clock, store
// or socket. libical 3.0 does the parsing and the recurrence rules; it stays out of this
// header.
//
// Times are UTC seconds since 1970. A time range is [start, end); INT64_MIN as its start
// or INT64_MAX as its end leaves that side open. Floating times (no TZID, no "Z") and
// DATE values are read in the calendar's time zone, `default_tzid`, and in UTC when none
// is given (RFC 4791 section 9.9 says the calendar's zone; CALDAV:calendar-timezone).
//
// The client's text is kept verbatim (CalendarObject::text): nothing here rewrites what
// is stored. Only expand() and limit_recurrence_set() write iCalendar, for responses.
//
// Threads: one ParsedCalendar is used by one thread at a time (libical caches time-zone
// transitions inside it on use, so const calls write too); different objects may be used
// on different threads at once. In Debian's libical (built with HAVE_PTHREAD) the error
// state icalerrno and the temporary-string ring are per thread (pthread keys); errors are
// not fatal (ICAL_ERRORS_ARE_FATAL off; nothing here changes it). libical's builtin time
// zones are one process-wide table: libical locks it while loading zone.tab and a zone,
// but appends a zone missing from zone.tab without its lock, so every lookup here holds
// a process-wide mutex. libical also serialises every time-zone conversion in the
// process on one mutex of its own: a limit on throughput, not on correctness.
//
// Files read at run time, all within the server's Landlock read rules (/usr and
// /etc/localtime, docs/security.md), as strace shows them on calendar_test:
// /usr/share/zoneinfo/zone.tab (once, at the first use of any zone),
// /usr/share/zoneinfo/<Area/City> (once per builtin zone used), /etc/localtime (glibc's
// tzset, as libical converts a tzdata file) and /usr/share/zoneinfo-icu/44/le/*.res,
// which Debian's ICU (libical's recurrence arithmetic) probes for and Debian 12 lacks;
// ICU's own data is in libicudata.so. libical builds the path of a zone missing from
// zone.tab from the TZID as written, "../" included, so only names of letters, digits,
// "_", "-" and "+" in "/"-separated parts, outside posix/ and right/, reach it. libical
// keeps each builtin zone it loads for the life of the process: a client naming all
// 600 costs about 35 MB, once. libical prints some complaints about odd input to
// stderr (an unknown VALUE type); BEGIN/END mismatches, the common one, are refused
// before it sees them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace rampart::calendar {

enum class Component { Event, Todo, Journal, FreeBusy };

// Past a limit parse() fails with Errc::TooBig; every other refusal is Errc::BadInput.
struct Limits {
  std::size_t max_bytes = 1 << 20;    // the text, checked before libical sees it
  std::size_t max_components = 1000;  // BEGIN lines: VTIMEZONEs and VALARMs count
  // Recurrence steps per question (instances before the range and EXDATEs count: the
  // work, not the answer), and the transitions the object's VTIMEZONEs may expand to.
  std::size_t max_instances = 10000;
  // Content lines, and property values once libical splits lists (RDATE:a,b,c is three).
  std::size_t max_properties = 10000;
};

// What the store keeps beside the text to find it. For every range [s, e) that
// matches_time_range() accepts (but for a truncated answer), first_start <= e and
// s <= last_end, so a store may preselect with that test and ask matches_time_range()
// only of what it finds.
struct CalendarObject {
  std::string uid;
  Component kind = Component::Event;
  // Cover every instance. last_end is INT64_MAX when a recurrence has no end (or its
  // COUNT is not reached within max_instances steps); a VTODO with no dates covers everything; a
  // VJOURNAL without DTSTART matches no range, and has first_start > last_end.
  std::int64_t first_start = 0;
  std::int64_t last_end = 0;
  bool recurring = false;  // RRULE or RDATE, or overridden instances (RECURRENCE-ID)
  std::string organizer;   // the cal-address lowercased ("mailto:jo@example.com"), or empty
  std::vector<std::string> attendees;  // lowercased cal-addresses, sorted, each once
  std::string summary;                 // the master's (else the first component's)
  std::string text;                    // the client's text, verbatim
};

// One instance: start and end as RFC 4791 section 9.9 reads them (a VEVENT's DTSTART and
// DTEND, or DTSTART+DURATION, or DTSTART+P1D for an all-day one; a VTODO's DTSTART
// (without one its DUE, else COMPLETED or CREATED) and DUE or DTSTART+DURATION; a VJOURNAL's
// DTSTART and, for a DATE, DTSTART+P1D; a missing end is the start). recurrence_id is the
// instance's original start (its RECURRENCE-ID), 0 when the object does not recur.
struct Instance {
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::int64_t recurrence_id = 0;
};

enum class BusyType { Busy, BusyTentative };

struct BusyPeriod {
  std::int64_t start = 0;
  std::int64_t end = 0;
  BusyType type = BusyType::Busy;
};

// A calendar object resource parsed and checked, holding libical's tree of it.
//
// Recurrence: DTSTART, then RRULE (one; EXRULE is refused), RDATE (DATE, DATE-TIME or
// PERIOD), minus EXDATE; an overridden instance (RECURRENCE-ID) replaces the master's instance
// at that time wherever it moves, and an object may hold overridden instances without a
// master (RFC 4791 section 4.1). RANGE=THISANDFUTURE is read as a single instance: no
// client in use writes it, and CalDAV servers commonly refuse it. An iteration stops at
// the range's end and after max_instances steps; past that bound an answer is
// incomplete: `truncated` says so, and matches_time_range() answers true (a REPORT
// lists the object rather than losing it). libical looks for a rule's next instance
// one FREQ step at a time, up to the year 2582, so rules it iterates slowly are
// refused at parse(): SECONDLY, MINUTELY and HOURLY rules with a BY part that limits
// (BYMONTH, BYDAY, BYSETPOS...), whose instances can lie years of steps apart; rules
// without an instance within eight years of DTSTART (eight intervals when longer),
// like FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30, which costs half a second to find empty;
// and RSCALE (RFC 7529). Past those, a question's own range bounds each search.
//
// Time zones: a TZID names a VTIMEZONE of the object, else one of libical's builtin
// zones (the system's tzdata); an unknown one is refused. A VTIMEZONE's observances must
// recur yearly, within max_instances transitions up to the year 2582 (libical's last);
// they are read from the year before the object's earliest time on (Outlook's start in
// 1601 would cost a walk through every year on every parse).
class ParsedCalendar {
 public:
  // Errc::TooBig past a limit; Errc::BadInput naming the broken rule, in words the DAV
  // layer maps to its preconditions: "calendar data: ..." (valid-calendar-data: not
  // iCalendar, invalid UTF-8 or control characters, VERSION, PRODID, a value libical
  // cannot read, an unknown TZID), "calendar object: ..." (valid-calendar-object-resource:
  // METHOD, UIDs, DTSTART, DTEND with DURATION, master and overrides, recurrence rules)
  // and "component: ..." (supported-calendar-component: VFREEBUSY, or anything but
  // VEVENT, VTODO, VJOURNAL and VTIMEZONE). `default_tzid` names a builtin zone.
  static Result<ParsedCalendar> parse(std::string_view text, const Limits& limits = {},
                                      const std::string& default_tzid = {});

  ParsedCalendar(ParsedCalendar&&) noexcept;
  ParsedCalendar& operator=(ParsedCalendar&&) noexcept;
  ~ParsedCalendar();

  const CalendarObject& index() const;

  // RFC 4791 section 9.9 over every instance: VEVENT (DTEND, DURATION, neither; a DATE
  // DTSTART lasts a day; a DTEND equal to DTSTART reads as DURATION:PT0S, the same
  // event), VTODO (the table over DTSTART, DURATION, DUE, COMPLETED and CREATED), VJOURNAL
  // (DTSTART, a day for a DATE; none matches nothing). False for another `which`, and for
  // VFREEBUSY, which is never stored. `truncated`, when given, is set as above.
  bool matches_time_range(std::int64_t start, std::int64_t end, Component which,
                          bool* truncated = nullptr) const;

  // The instances that overlap [start, end) by the same rules, by start time.
  std::vector<Instance> instances(std::int64_t start, std::int64_t end,
                                  bool* truncated = nullptr) const;

  // CALDAV:expand: a VCALENDAR (the object's calendar properties) holding each instance
  // above as a component of its own with a RECURRENCE-ID (when the object recurs),
  // times that had a TZID in UTC, DATE and floating values as written, no RRULE, RDATE,
  // EXDATE or VTIMEZONE. A truncated expansion holds the instances found.
  std::string expand(std::int64_t start, std::int64_t end) const;

  // CALDAV:limit-recurrence-set: the object with its VTIMEZONEs and master, and only the
  // overridden instances whose current or original time overlaps [start, end).
  std::string limit_recurrence_set(std::int64_t start, std::int64_t end) const;

  // The busy time a free-busy-query takes from this object (RFC 4791 section 7.10):
  // VEVENT instances without TRANSP:TRANSPARENT or STATUS:CANCELLED, of non-zero length,
  // clipped to [start, end); BusyTentative for STATUS:TENTATIVE. By start time; a
  // truncated expansion gives the busy time it found.
  std::vector<BusyPeriod> busy_periods(std::int64_t start, std::int64_t end) const;

  struct State;  // libical's tree and what was read from it (ical_internal.h)

 private:
  explicit ParsedCalendar(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The index alone, for a PUT.
Result<CalendarObject> parse_object(std::string_view text, const Limits& limits = {},
                                    const std::string& default_tzid = {});

// The free-busy-query answer (RFC 4791 section 7.10): a VCALENDAR with one VFREEBUSY
// whose DTSTART and DTEND are the range and whose FREEBUSY lines are `periods` clipped
// to it, overlapping or touching periods of one type coalesced, one period a line.
// `dtstamp` is the time of the answer (RFC 5545 requires DTSTAMP).
std::string freebusy_calendar(std::int64_t start, std::int64_t end, std::vector<BusyPeriod> periods,
                              std::int64_t dtstamp);

// Whether `tzid` names a builtin zone parse() accepts as `default_tzid`.
bool is_known_time_zone(const std::string& tzid);

}  // namespace rampart::calendar
