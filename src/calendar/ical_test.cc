#include "calendar/ical.h"

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "base/civil_date.h"

namespace rampart::calendar {
namespace {

std::int64_t utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
                 int second = 0) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

constexpr std::int64_t kHour = 3600, kDay = 86400;

// A VCALENDAR around `body` (content lines), CRLF-terminated.
std::string calendar(std::initializer_list<std::string_view> body) {
  std::string text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n";
  for (std::string_view line : body) text.append(line).append("\r\n");
  return text + "END:VCALENDAR\r\n";
}

// One VEVENT with UID:e1 and `lines`.
std::string event(std::initializer_list<std::string_view> lines) {
  std::string text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\n"
      "DTSTAMP:20240101T000000Z\r\n";
  for (std::string_view line : lines) text.append(line).append("\r\n");
  return text + "END:VEVENT\r\nEND:VCALENDAR\r\n";
}

std::string todo(std::initializer_list<std::string_view> lines) {
  std::string text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VTODO\r\nUID:t1\r\n"
      "DTSTAMP:20240101T000000Z\r\n";
  for (std::string_view line : lines) text.append(line).append("\r\n");
  return text + "END:VTODO\r\nEND:VCALENDAR\r\n";
}

ParsedCalendar parsed(const std::string& text, const Limits& limits = {},
                      const std::string& default_tzid = {}) {
  auto result = ParsedCalendar::parse(text, limits, default_tzid);
  if (!result) ADD_FAILURE() << result.error().detail << "\n" << text;
  return std::move(*result);
}

// The error parse() gives, as "code: detail".
std::string refusal(const std::string& text, const Limits& limits = {}) {
  auto result = ParsedCalendar::parse(text, limits);
  if (result) return "accepted";
  const Errc code = result.error().code;
  const char* name = code == Errc::BadInput ? "BadInput"
                     : code == Errc::TooBig ? "TooBig"
                                            : "other";
  return std::string(name) + ": " + result.error().detail;
}

std::vector<std::int64_t> starts(const ParsedCalendar& calendar, std::int64_t from,
                                 std::int64_t to) {
  std::vector<std::int64_t> out;
  for (const Instance& instance : calendar.instances(from, to)) out.push_back(instance.start);
  return out;
}

bool matches(const ParsedCalendar& calendar, std::int64_t from, std::int64_t to) {
  return calendar.matches_time_range(from, to, calendar.index().kind);
}

// --- Validation: RFC 4791 section 4.1 and RFC 5545 -------------------------------------

TEST(ParseObject, IndexesAnEvent) {
  const std::string text =
      event({"DTSTART:20240310T100000Z", "DTEND:20240310T110000Z", "SUMMARY:Planning",
             "ORGANIZER;CN=Jo:MAILTO:Jo@Example.COM", "ATTENDEE:mailto:b@example.com",
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:A@example.com", "ATTENDEE:mailto:b@example.com"});
  auto object = parse_object(text);
  ASSERT_TRUE(object) << object.error().detail;
  EXPECT_EQ(object->uid, "e1");
  EXPECT_EQ(object->kind, Component::Event);
  EXPECT_EQ(object->first_start, utc(2024, 3, 10, 10));
  EXPECT_EQ(object->last_end, utc(2024, 3, 10, 11));
  EXPECT_FALSE(object->recurring);
  EXPECT_EQ(object->summary, "Planning");
  EXPECT_EQ(object->organizer, "mailto:jo@example.com");
  EXPECT_EQ(object->attendees,
            (std::vector<std::string>{"mailto:a@example.com", "mailto:b@example.com"}));
  EXPECT_EQ(object->text, text);
}

TEST(ParseObject, KeepsTheTextVerbatim) {
  // LF line ends, lowercase names, a folded line, an unknown property: stored as sent.
  const std::string text =
      "begin:VCALENDAR\nversion:2.0\nprodid:x\nBEGIN:VTODO\nUID:abc\nSUMMARY:long\n  line\n"
      "STRUCTURED-DATA;VALUE=TEXT:kept\nX-APPLE-SORT-ORDER:3\nEND:VTODO\nEND:VCALENDAR\n";
  auto object = parse_object(text);
  ASSERT_TRUE(object) << object.error().detail;
  EXPECT_EQ(object->text, text);
  EXPECT_EQ(object->kind, Component::Todo);
  EXPECT_EQ(object->summary, "long line");
}

TEST(ParseObject, AcceptsEmptyValuesItDoesNotRead) {
  // libical drops them with an error; RFC 5545 allows them, and Google's exports hold them.
  ParsedCalendar c =
      parsed(calendar({"X-WR-CALDESC:", "BEGIN:VEVENT", "UID:1", "DTSTART:20240101T000000Z",
                       "SUMMARY:", "DESCRIPTION:", "END:VEVENT"}));
  EXPECT_EQ(c.index().summary, "");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "DTEND:"})),
            "BadInput: calendar data: No value for DTEND property. Removing entire property:");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "ATTENDEE:"})),
            "BadInput: calendar data: No value for ATTENDEE property. Removing entire property:");
}

TEST(ParseObject, RefusesWhatIsNotOneCalendar) {
  EXPECT_EQ(refusal(""), "BadInput: calendar data: not iCalendar");
  EXPECT_EQ(refusal("hello"), "BadInput: calendar data: a line outside the VCALENDAR");
  EXPECT_EQ(refusal("BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20240101T000000Z\r\nEND:VEVENT\r\n"),
            "BadInput: calendar data: not exactly one VCALENDAR");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z"}) + event({"DTSTART:20240101T000000Z"})),
            "BadInput: calendar data: not exactly one VCALENDAR");
  // libical would close whatever is open at any END, and take what follows.
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "END:VTODO", "BEGIN:VTODO"})),
            "BadInput: calendar data: END does not match BEGIN");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z"}) + "SUMMARY:after\r\n"),
            "BadInput: calendar data: a line outside the VCALENDAR");
  EXPECT_EQ(refusal("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\n"),
            "BadInput: calendar data: BEGIN without END");
  EXPECT_EQ(refusal(std::string("BEGIN:VCALENDAR\r\n\0\r\n", 19)),
            "BadInput: calendar data: a control character");
  EXPECT_EQ(refusal(event({"SUMMARY:\xff\xfe", "DTSTART:20240101T000000Z"})),
            "BadInput: calendar data: not UTF-8");
  EXPECT_EQ(refusal(event({"SUMMARY:bell\x07", "DTSTART:20240101T000000Z"})),
            "BadInput: calendar data: a control character");
}

TEST(ParseObject, RefusesGarbage) {
  const std::string samples[] = {
      "BEGIN:VCALENDAR",
      "BEGIN:VCALENDAR\r\nEND:VEVENT\r\nEND:VCALENDAR\r\nEND:VCALENDAR",
      "END:VCALENDAR\r\nBEGIN:VCALENDAR\r\n",
      ":::\r\n;;;\r\n\r\n \r\n",
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nBEGIN:VALARM\r\nEND:VCALENDAR\r\n",
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nDTSTART;TZID=\"a\r\nEND:"
      "VEVENT\r\nEND:VCALENDAR\r\n",
  };
  for (const std::string& sample : samples) {
    EXPECT_NE(refusal(sample), "accepted") << sample;
  }
  // Any bytes: an answer, never a crash (the fuzz target goes further).
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 7919) % 95 + 32);
  EXPECT_NE(refusal(noise), "accepted");
}

TEST(ParseObject, RefusesTheVersionPRODIDAndMETHODRules) {
  EXPECT_EQ(refusal("BEGIN:VCALENDAR\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20240101T"
                    "000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
            "BadInput: calendar data: VERSION is not 2.0");
  EXPECT_EQ(refusal("BEGIN:VCALENDAR\r\nVERSION:1.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n"
                    "DTSTART:20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
            "BadInput: calendar data: VERSION is not 2.0");
  EXPECT_EQ(refusal("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:"
                    "20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
            "BadInput: calendar data: not one PRODID");
  EXPECT_EQ(refusal(calendar({"METHOD:REQUEST", "BEGIN:VEVENT", "UID:1", "DTSTART:20240101T000000Z",
                              "END:VEVENT"})),
            "BadInput: calendar object: METHOD in a stored object");
}

TEST(ParseObject, RefusesComponentsThatDoNotBelongTogether) {
  EXPECT_EQ(refusal(calendar({"BEGIN:VEVENT", "UID:1", "DTSTART:20240101T000000Z", "END:VEVENT",
                              "BEGIN:VTODO", "UID:1", "END:VTODO"})),
            "BadInput: calendar object: components of more than one type");
  EXPECT_EQ(
      refusal(calendar({"BEGIN:VFREEBUSY", "UID:1", "DTSTART:20240101T000000Z", "END:VFREEBUSY"})),
      "BadInput: component: VFREEBUSY is not stored");
  EXPECT_EQ(refusal(calendar({"BEGIN:VAVAILABILITY", "UID:1", "END:VAVAILABILITY"})),
            "BadInput: component: VAVAILABILITY is not supported");
  EXPECT_EQ(refusal(calendar({"BEGIN:VTIMEZONE", "TZID:X", "BEGIN:STANDARD",
                              "DTSTART:19700101T000000", "TZOFFSETFROM:+0000", "TZOFFSETTO:+0000",
                              "END:STANDARD", "END:VTIMEZONE"})),
            "BadInput: calendar object: no VEVENT, VTODO or VJOURNAL");
  EXPECT_EQ(refusal(calendar({"BEGIN:VEVENT", "UID:1", "DTSTART:20240101T000000Z", "END:VEVENT",
                              "BEGIN:VEVENT", "UID:2", "DTSTART:20240102T000000Z", "END:VEVENT"})),
            "BadInput: calendar object: components with different UIDs");
  EXPECT_EQ(refusal(calendar({"BEGIN:VEVENT", "DTSTART:20240101T000000Z", "END:VEVENT"})),
            "BadInput: calendar object: a component without UID");
  EXPECT_EQ(refusal(calendar({"BEGIN:VEVENT", "UID:1", "DTSTART:20240101T000000Z", "END:VEVENT",
                              "BEGIN:VEVENT", "UID:1", "DTSTART:20240102T000000Z", "END:VEVENT"})),
            "BadInput: calendar object: two components without RECURRENCE-ID");
  EXPECT_EQ(refusal(calendar(
                {"BEGIN:VEVENT", "UID:1", "DTSTART:20240101T000000Z", "RRULE:FREQ=DAILY",
                 "END:VEVENT", "BEGIN:VEVENT", "UID:1", "RECURRENCE-ID:20240102T000000Z",
                 "DTSTART:20240102T010000Z", "END:VEVENT", "BEGIN:VEVENT", "UID:1",
                 "RECURRENCE-ID:20240102T000000Z", "DTSTART:20240102T020000Z", "END:VEVENT"})),
            "BadInput: calendar object: two components with one RECURRENCE-ID");
}

TEST(ParseObject, RefusesBrokenComponents) {
  EXPECT_EQ(refusal(event({"SUMMARY:no start"})),
            "BadInput: calendar object: a VEVENT without DTSTART");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "DTEND:20240101T010000Z", "DURATION:PT1H"})),
            "BadInput: calendar object: DTEND and DURATION together");
  EXPECT_EQ(refusal(todo({"DTSTART:20240101T000000Z", "DUE:20240101T010000Z", "DURATION:PT1H"})),
            "BadInput: calendar object: DUE and DURATION together");
  EXPECT_EQ(refusal(todo({"DURATION:PT1H"})),
            "BadInput: calendar object: DURATION without DTSTART");
  EXPECT_EQ(refusal(todo({"RRULE:FREQ=DAILY"})),
            "BadInput: calendar object: RRULE or RDATE without DTSTART");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "DTSTART:20240102T000000Z"})),
            "BadInput: calendar object: two DTSTART in a VEVENT");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "DURATION:P99999W"})),
            "BadInput: calendar object: a DURATION longer than a century");
  // libical's X-LIC-ERROR for a value it cannot read.
  EXPECT_EQ(refusal(event({"DTSTART:2024"})).substr(0, 37),
            "BadInput: calendar data: Can't parse ");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=SOMETIMES"})).substr(0, 37),
            "BadInput: calendar data: Can't parse ");
  EXPECT_EQ(refusal(event({"DTSTART:20241345T000000Z"})),
            "BadInput: calendar data: an invalid date or time");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "a line without a colon"})).substr(0, 30),
            "BadInput: calendar data: Got a");
}

TEST(ParseObject, RefusesRulesItDoesNotIterate) {
  const char* expected =
      "BadInput: calendar object: a SECONDLY, MINUTELY or HOURLY RRULE with a limiting BY part";
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=SECONDLY;BYMONTH=2"})),
            expected);
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=MINUTELY;BYHOUR=9"})), expected);
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=HOURLY;BYDAY=MO"})), expected);
  // Parts that only add instances are fine.
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=HOURLY;BYMINUTE=0,30"})),
            "accepted");
  EXPECT_EQ(
      refusal(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=YEARLY;RSCALE=HEBREW;BYMONTH=5L"})),
      "BadInput: calendar object: RSCALE (RFC 7529) in an RRULE");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "EXRULE:FREQ=WEEKLY"})),
            "BadInput: calendar object: EXRULE (removed by RFC 5545)");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=DAILY", "RRULE:FREQ=WEEKLY"})),
            "BadInput: calendar object: two RRULE in a VEVENT");
}

TEST(ParseObject, EnforcesItsLimitsBeforeLibicalReadsTheText) {
  const std::string text = event({"DTSTART:20240101T000000Z", "SUMMARY:x"});
  EXPECT_EQ(refusal(text, {.max_bytes = text.size() - 1}),
            "TooBig: calendar data: more than " + std::to_string(text.size() - 1) + " bytes");
  EXPECT_EQ(refusal(text, {.max_bytes = text.size()}), "accepted");
  EXPECT_EQ(refusal(text, {.max_components = 1}), "TooBig: calendar data: more than 1 components");
  EXPECT_EQ(refusal(text, {.max_properties = 8}), "TooBig: calendar data: more than 8 lines");
  // A list counts its values.
  EXPECT_EQ(refusal(event({"DTSTART:20240101T000000Z",
                           "RDATE:20240102T000000Z,20240103T000000Z,20240104T000000Z,"
                           "20240105T000000Z,20240106T000000Z,20240107T000000Z"}),
                    {.max_properties = 10}),
            "TooBig: calendar data: more than 10 property values");
  std::string deep = "BEGIN:VCALENDAR\r\n";
  for (int i = 0; i < 20; ++i) deep += "BEGIN:X-NEST\r\n";
  EXPECT_EQ(refusal(deep), "BadInput: calendar data: components nested too deep");
  // A name folded in two is still a BEGIN.
  std::string folded = "BEGIN:VCALENDAR\r\n";
  for (int i = 0; i < 20; ++i) folded += "BEG\r\n IN:X-NEST\r\n";
  EXPECT_EQ(refusal(folded), "BadInput: calendar data: components nested too deep");
}

TEST(ParseObject, ReadsTheLargestObjectQuickly) {
  // Near 1 MiB and 10,000 lines: 998 overridden instances and 3900 RDATEs.
  std::string text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:big\r\n"
      "DTSTART:20240101T000000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=HOURLY\r\n";
  for (int i = 0; i < 3900; ++i) {
    text +=
        "RDATE:" + std::to_string(2025 + i / 365) + "0101T0" + std::to_string(i % 10) + "0000Z\r\n";
  }
  text += "END:VEVENT\r\n";
  for (int i = 1; i < 999; ++i) {
    const std::string at = "2024" + std::string(i / 24 / 28 < 9 ? "0" : "") +
                           std::to_string(i / 24 / 28 + 1) + (i / 24 % 28 + 1 < 10 ? "0" : "") +
                           std::to_string(i / 24 % 28 + 1) + "T" + (i % 24 < 10 ? "0" : "") +
                           std::to_string(i % 24) + "0000Z";
    text += "BEGIN:VEVENT\r\nUID:big\r\nRECURRENCE-ID:" + at + "\r\nDTSTART:" + at +
            "\r\nSUMMARY:moved " + std::string(600, 'x') + "\r\nEND:VEVENT\r\n";
  }
  text += "END:VCALENDAR\r\n";
  ASSERT_LT(text.size(), std::size_t{1} << 20);
  const auto began = std::chrono::steady_clock::now();
  ParsedCalendar c = parsed(text);
  bool truncated = false;
  EXPECT_FALSE(c.instances(utc(2024, 1, 1), utc(2025, 6, 1), &truncated).empty());
  EXPECT_TRUE(truncated);  // 12,400 hours and 3900 RDATEs: past 10,000 steps
  EXPECT_FALSE(c.expand(utc(2024, 2, 1), utc(2024, 2, 2)).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(3));
}

TEST(ParseObject, AcceptsOverriddenInstancesWithoutTheirMaster) {
  // RFC 4791 section 4.1: an attendee invited to one instance only.
  ParsedCalendar c = parsed(calendar({"BEGIN:VEVENT", "UID:1", "RECURRENCE-ID:20240102T100000Z",
                                      "DTSTART:20240102T120000Z", "DURATION:PT1H", "END:VEVENT",
                                      "BEGIN:VEVENT", "UID:1", "RECURRENCE-ID:20240109T100000Z",
                                      "DTSTART:20240109T100000Z", "DURATION:PT1H", "END:VEVENT"}));
  EXPECT_TRUE(c.index().recurring);
  EXPECT_EQ(c.index().first_start, utc(2024, 1, 2, 12));
  EXPECT_EQ(c.index().last_end, utc(2024, 1, 9, 11));
  const auto all = c.instances(INT64_MIN, INT64_MAX);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].recurrence_id, utc(2024, 1, 2, 10));
  EXPECT_EQ(all[0].start, utc(2024, 1, 2, 12));
}

// --- Time zones, dates, floating times -------------------------------------------------

TEST(Times, AllDayEventsLastTheirDays) {
  ParsedCalendar one = parsed(event({"DTSTART;VALUE=DATE:20240310"}));
  EXPECT_EQ(one.index().first_start, utc(2024, 3, 10));
  EXPECT_EQ(one.index().last_end, utc(2024, 3, 11));
  EXPECT_TRUE(matches(one, utc(2024, 3, 10, 12), utc(2024, 3, 10, 13)));
  EXPECT_TRUE(matches(one, utc(2024, 3, 10, 23, 59), utc(2024, 3, 12)));
  EXPECT_FALSE(matches(one, utc(2024, 3, 11), utc(2024, 3, 12)));
  EXPECT_FALSE(matches(one, utc(2024, 3, 9), utc(2024, 3, 10)));

  ParsedCalendar three =
      parsed(event({"DTSTART;VALUE=DATE:20240310", "DTEND;VALUE=DATE:20240313"}));
  EXPECT_EQ(three.index().last_end, utc(2024, 3, 13));
  EXPECT_TRUE(matches(three, utc(2024, 3, 12, 22), utc(2024, 3, 12, 23)));

  // In the calendar's zone: New York's midnight, across the DST change of 10 March.
  ParsedCalendar local = parsed(event({"DTSTART;VALUE=DATE:20240310", "DTEND;VALUE=DATE:20240311"}),
                                {}, "America/New_York");
  EXPECT_EQ(local.index().first_start, utc(2024, 3, 10, 5));
  EXPECT_EQ(local.index().last_end, utc(2024, 3, 11, 4));
}

TEST(Times, FloatingTimesAreReadInTheCalendarsZone) {
  const std::string text = event({"DTSTART:20240701T090000", "DTEND:20240701T100000"});
  EXPECT_EQ(parsed(text).index().first_start, utc(2024, 7, 1, 9));
  ParsedCalendar berlin = parsed(text, {}, "Europe/Berlin");
  EXPECT_EQ(berlin.index().first_start, utc(2024, 7, 1, 7));
  EXPECT_EQ(berlin.index().last_end, utc(2024, 7, 1, 8));
  EXPECT_FALSE(ParsedCalendar::parse(text, {}, "Mars/Olympus_Mons"));
  EXPECT_TRUE(is_known_time_zone("Europe/Berlin"));
  EXPECT_TRUE(is_known_time_zone("Etc/GMT+5"));
  EXPECT_FALSE(is_known_time_zone("Mars/Olympus_Mons"));
}

TEST(Times, ReadsBuiltinZones) {
  ParsedCalendar winter = parsed(event({"DTSTART;TZID=Europe/Berlin:20240115T090000"}));
  EXPECT_EQ(winter.index().first_start, utc(2024, 1, 15, 8));
  ParsedCalendar summer = parsed(event({"DTSTART;TZID=Europe/Berlin:20240715T090000"}));
  EXPECT_EQ(summer.index().first_start, utc(2024, 7, 15, 7));
  ParsedCalendar sydney = parsed(event({"DTSTART;TZID=Australia/Sydney:20240115T090000"}));
  EXPECT_EQ(sydney.index().first_start, utc(2024, 1, 14, 22));
  // Past 2582, libical's last year of transitions: the rules go on.
  ParsedCalendar far = parsed(event({"DTSTART;TZID=Europe/Berlin:30000715T090000"}));
  EXPECT_EQ(far.index().first_start, utc(3000, 7, 15, 7));
}

TEST(Times, RefusesUnknownAndPathLikeZones) {
  EXPECT_EQ(refusal(event({"DTSTART;TZID=Nowhere/Special:20240101T090000"})),
            "BadInput: calendar data: unknown TZID Nowhere/Special");
  // libical would open /usr/share/zoneinfo/../../../etc/passwd.
  EXPECT_EQ(refusal(event({"DTSTART;TZID=../../../etc/passwd:20240101T090000"})),
            "BadInput: calendar data: unknown TZID ../../../etc/passwd");
  EXPECT_EQ(refusal(event({"DTSTART;TZID=/etc/localtime:20240101T090000"})),
            "BadInput: calendar data: unknown TZID /etc/localtime");
  // Copies of every zone, which libical would keep too.
  EXPECT_EQ(refusal(event({"DTSTART;TZID=posix/Europe/Berlin:20240101T090000"})),
            "BadInput: calendar data: unknown TZID posix/Europe/Berlin");
}

// Outlook's VTIMEZONE for Berlin: rules from 1601.
constexpr std::string_view kOutlookBerlin[] = {"BEGIN:VTIMEZONE",
                                               "TZID:W. Europe Standard Time",
                                               "BEGIN:STANDARD",
                                               "DTSTART:16010101T030000",
                                               "TZOFFSETFROM:+0200",
                                               "TZOFFSETTO:+0100",
                                               "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
                                               "END:STANDARD",
                                               "BEGIN:DAYLIGHT",
                                               "DTSTART:16010101T020000",
                                               "TZOFFSETFROM:+0100",
                                               "TZOFFSETTO:+0200",
                                               "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
                                               "END:DAYLIGHT",
                                               "END:VTIMEZONE"};

std::string outlook_event(std::string_view start) {
  std::string text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Outlook\r\n";
  for (std::string_view line : kOutlookBerlin) text.append(line).append("\r\n");
  text += "BEGIN:VEVENT\r\nUID:o1\r\nDTSTART;TZID=W. Europe Standard Time:";
  text.append(start).append("\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  return text;
}

TEST(Times, HonoursTheObjectsVTIMEZONE) {
  // Its own zone wins over a builtin of the same name.
  ParsedCalendar own = parsed(calendar(
      {"BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19700101T000000",
       "TZOFFSETFROM:+0300", "TZOFFSETTO:+0300", "END:STANDARD", "END:VTIMEZONE", "BEGIN:VEVENT",
       "UID:1", "DTSTART;TZID=Europe/Berlin:20240715T090000", "END:VEVENT"}));
  EXPECT_EQ(own.index().first_start, utc(2024, 7, 15, 6));
  // Outlook's 1601 rules, on both sides of both changes, and long before and after.
  const struct {
    const char* local;
    std::int64_t expected;
  } cases[] = {
      {"20240331T013000", utc(2024, 3, 31, 0, 30)},   {"20240331T033000", utc(2024, 3, 31, 1, 30)},
      {"20241027T013000", utc(2024, 10, 26, 23, 30)}, {"20241027T033000", utc(2024, 10, 27, 2, 30)},
      {"19990704T120000", utc(1999, 7, 4, 10)},       {"21000115T120000", utc(2100, 1, 15, 11)},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parsed(outlook_event(c.local)).index().first_start, c.expected) << c.local;
  }
}

TEST(Times, ParsesOutlooksZoneQuickly) {
  // libical would walk each year from 1601 on every parse; from the object's year it
  // walks a few.
  const std::string text = outlook_event("20240715T090000");
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(ParsedCalendar::parse(text));
  const auto spent = std::chrono::steady_clock::now() - began;
  EXPECT_LT(spent, std::chrono::milliseconds(250)) << "50 parses";
}

TEST(Times, BoundsTheTransitionsOfVTIMEZONEs) {
  // A thousand yearly observances from 1970 would expand to 600,000 transitions.
  std::string text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Big\r\n";
  for (int i = 0; i < 900; ++i) {
    text +=
        "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\n"
        "TZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=1\r\nEND:STANDARD\r\n";
  }
  text +=
      "END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=Big:20240101T000000\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  EXPECT_EQ(refusal(text), "TooBig: calendar data: VTIMEZONEs of more than 10000 transitions");
  // A zone's whole history, one observance per change (tzurl.org's "full" zones): fine.
  std::string history =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Long\r\n";
  for (int year = 1900; year < 2380; ++year) {
    const std::string y = std::to_string(year);
    history += "BEGIN:DAYLIGHT\r\nDTSTART:" + y + "0330T020000\r\nRDATE:" + y +
               "0330T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
               "BEGIN:STANDARD\r\nDTSTART:" +
               y +
               "1026T030000\r\nTZOFFSETFROM:+0200\r\n"
               "TZOFFSETTO:+0100\r\nEND:STANDARD\r\n";
  }
  history +=
      "END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=Long:20240701T120000\r\n"
      "RRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  const auto began = std::chrono::steady_clock::now();
  ParsedCalendar c = parsed(history);
  EXPECT_EQ(c.index().first_start, utc(2024, 7, 1, 10));
  EXPECT_EQ(starts(c, utc(2370, 1, 1), utc(2371, 1, 1)),
            (std::vector<std::int64_t>{utc(2370, 7, 1, 10)}));
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(2));
  EXPECT_EQ(
      refusal(calendar({"BEGIN:VTIMEZONE", "TZID:Odd", "BEGIN:STANDARD", "DTSTART:19700101T000000",
                        "TZOFFSETFROM:+0000", "TZOFFSETTO:+0100", "RRULE:FREQ=SECONDLY",
                        "END:STANDARD", "END:VTIMEZONE", "BEGIN:VEVENT", "UID:1",
                        "DTSTART;TZID=Odd:20240101T000000", "END:VEVENT"})),
      "BadInput: calendar data: a VTIMEZONE observance's RRULE is not yearly");
  EXPECT_EQ(
      refusal(calendar({"BEGIN:VTIMEZONE", "BEGIN:STANDARD", "DTSTART:19700101T000000",
                        "TZOFFSETFROM:+0000", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE",
                        "BEGIN:VEVENT", "UID:1", "DTSTART:20240101T000000Z", "END:VEVENT"})),
      "BadInput: calendar data: a VTIMEZONE without TZID");
}

TEST(Times, ParsesOnManyThreadsAtOnce) {
  // libical's builtin zones are shared: names missing from zone.tab (US/Eastern, GB) are
  // appended to its table as they are first used.
  const std::vector<std::string> zones = {"US/Eastern", "GB",         "Etc/GMT-3",
                                          "Asia/Tokyo", "US/Pacific", "Europe/Lisbon",
                                          "Japan",      "Cuba",       "Etc/GMT+11"};
  auto answer = [&](const std::string& zone) {
    const std::string line = "DTSTART;TZID=" + zone + ":20240704T090000";
    ParsedCalendar c = parsed(event({line, "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=60"}));
    std::int64_t sum = 0;
    for (const Instance& i : c.instances(INT64_MIN, INT64_MAX)) sum += i.start % 86400;
    return sum;
  };
  std::vector<std::vector<std::int64_t>> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (std::size_t z = 0; z < zones.size(); ++z) {
          results[t].push_back(answer(zones[(z + t) % zones.size()]));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (std::size_t t = 0; t < results.size(); ++t) {
    for (std::size_t i = 0; i < results[t].size(); ++i) {
      EXPECT_EQ(results[t][i], answer(zones[(i % zones.size() + t) % zones.size()]));
    }
  }
}

// --- Recurrence -----------------------------------------------------------------------

TEST(Recurrence, DailyWithCount) {
  ParsedCalendar c =
      parsed(event({"DTSTART:20240101T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=5"}));
  EXPECT_TRUE(c.index().recurring);
  EXPECT_EQ(c.index().first_start, utc(2024, 1, 1, 10));
  EXPECT_EQ(c.index().last_end, utc(2024, 1, 5, 11));
  const auto all = c.instances(INT64_MIN, INT64_MAX);
  ASSERT_EQ(all.size(), 5u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].start, utc(2024, 1, 1, 10) + static_cast<std::int64_t>(i) * kDay);
    EXPECT_EQ(all[i].end, all[i].start + kHour);
    EXPECT_EQ(all[i].recurrence_id, all[i].start);
  }
  EXPECT_EQ(starts(c, utc(2024, 1, 3), utc(2024, 1, 4)),
            (std::vector<std::int64_t>{utc(2024, 1, 3, 10)}));
  EXPECT_FALSE(matches(c, utc(2024, 1, 6), utc(2024, 2, 1)));
}

TEST(Recurrence, WeeklyUntilInTheObjectsZone) {
  // 09:00 Berlin every Monday through the DST change of 31 March: 08:00Z, then 07:00Z.
  ParsedCalendar c = parsed(event({"DTSTART;TZID=Europe/Berlin:20240318T090000",
                                   "DTEND;TZID=Europe/Berlin:20240318T093000",
                                   "RRULE:FREQ=WEEKLY;UNTIL=20240408T070000Z"}));
  EXPECT_EQ(starts(c, INT64_MIN, INT64_MAX),
            (std::vector<std::int64_t>{utc(2024, 3, 18, 8), utc(2024, 3, 25, 8), utc(2024, 4, 1, 7),
                                       utc(2024, 4, 8, 7)}));
  EXPECT_GE(c.index().last_end, utc(2024, 4, 8, 7, 30));
  EXPECT_LT(c.index().last_end, utc(2024, 4, 12));
}

TEST(Recurrence, UnboundedRulesReachEveryYear) {
  ParsedCalendar c =
      parsed(event({"DTSTART:19900105T080000Z", "DTEND:19900105T083000Z", "RRULE:FREQ=DAILY"}));
  EXPECT_EQ(c.index().last_end, INT64_MAX);
  // 34 years of days before the range: skipped, not stepped through.
  bool truncated = true;
  EXPECT_EQ(c.instances(utc(2024, 6, 1), utc(2024, 6, 3), &truncated).size(), 2u);
  EXPECT_FALSE(truncated);
  EXPECT_EQ(starts(c, utc(2400, 2, 29), utc(2400, 3, 1)),
            (std::vector<std::int64_t>{utc(2400, 2, 29, 8)}));
}

TEST(Recurrence, SkippingAheadFindsWhatSteppingFinds) {
  const char* rules[] = {"FREQ=DAILY;INTERVAL=3",
                         "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
                         "FREQ=MONTHLY;BYDAY=-1FR",
                         "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31",
                         "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
                         "FREQ=YEARLY;INTERVAL=2;BYWEEKNO=1,20;BYDAY=WE",
                         "FREQ=HOURLY",
                         "FREQ=HOURLY;INTERVAL=7",
                         "FREQ=MINUTELY;INTERVAL=45;BYSECOND=0,30"};
  for (const char* rule : rules) {
    const std::string line = std::string("RRULE:") + rule;
    ParsedCalendar c =
        parsed(event({"DTSTART;TZID=America/New_York:20200131T093000", "DURATION:PT10M", line}),
               {.max_instances = 100000});
    // Stepping from DTSTART (the range starts before it) against skipping (it starts after).
    const std::int64_t from = utc(2023, 3, 1), to = utc(2023, 3, 20);
    std::vector<std::int64_t> stepped;
    for (std::int64_t s : starts(c, utc(2020, 1, 1), to)) {
      if (s + 600 > from) stepped.push_back(s);
    }
    EXPECT_EQ(starts(c, from, to), stepped) << rule;
  }
}

TEST(Recurrence, ExdatesRemoveAndRdatesAddInstances) {
  ParsedCalendar c = parsed(event(
      {"DTSTART;TZID=Europe/Berlin:20240101T100000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=4",
       "EXDATE;TZID=Europe/Berlin:20240102T100000,20240104T100000", "RDATE:20240110T150000Z",
       "RDATE;VALUE=PERIOD:20240112T150000Z/20240112T190000Z"}));
  const auto all = c.instances(INT64_MIN, INT64_MAX);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].start, utc(2024, 1, 1, 9));
  EXPECT_EQ(all[1].start, utc(2024, 1, 3, 9));
  EXPECT_EQ(all[2].start, utc(2024, 1, 10, 15));
  EXPECT_EQ(all[2].end, utc(2024, 1, 10, 16));
  EXPECT_EQ(all[3].end, utc(2024, 1, 12, 19));  // the PERIOD's own end
  EXPECT_EQ(c.index().last_end, utc(2024, 1, 12, 19));
  EXPECT_FALSE(matches(c, utc(2024, 1, 2), utc(2024, 1, 3)));
  // EXDATE may remove DTSTART itself.
  ParsedCalendar gone = parsed(
      event({"DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;COUNT=2", "EXDATE:20240101T100000Z"}));
  EXPECT_EQ(starts(gone, INT64_MIN, INT64_MAX), (std::vector<std::int64_t>{utc(2024, 1, 2, 10)}));
}

TEST(Recurrence, OverriddenInstancesMoveInAndOutOfRanges) {
  // Weekly on Mondays; the 8 January instance moved to Friday 12 January, the 15th to
  // 1 March.
  ParsedCalendar c = parsed(calendar({"BEGIN:VEVENT",
                                      "UID:w",
                                      "DTSTART:20240101T100000Z",
                                      "DURATION:PT1H",
                                      "RRULE:FREQ=WEEKLY;COUNT=4",
                                      "SUMMARY:weekly",
                                      "END:VEVENT",
                                      "BEGIN:VEVENT",
                                      "UID:w",
                                      "RECURRENCE-ID:20240108T100000Z",
                                      "DTSTART:20240112T140000Z",
                                      "DURATION:PT2H",
                                      "SUMMARY:moved",
                                      "END:VEVENT",
                                      "BEGIN:VEVENT",
                                      "UID:w",
                                      "RECURRENCE-ID:20240115T100000Z",
                                      "DTSTART:20240301T100000Z",
                                      "DURATION:PT1H",
                                      "END:VEVENT"}));
  EXPECT_EQ(c.index().summary, "weekly");
  EXPECT_EQ(c.index().last_end, utc(2024, 3, 1, 11));
  // The week of 8 January holds the moved instance, on Friday, not Monday's.
  const auto week = c.instances(utc(2024, 1, 8), utc(2024, 1, 15));
  ASSERT_EQ(week.size(), 1u);
  EXPECT_EQ(week[0].start, utc(2024, 1, 12, 14));
  EXPECT_EQ(week[0].end, utc(2024, 1, 12, 16));
  EXPECT_EQ(week[0].recurrence_id, utc(2024, 1, 8, 10));
  // Moved out: nothing on 15 January; moved in: 1 March, far past the rule's end.
  EXPECT_FALSE(matches(c, utc(2024, 1, 15), utc(2024, 1, 16)));
  EXPECT_EQ(starts(c, utc(2024, 2, 20), utc(2024, 3, 20)),
            (std::vector<std::int64_t>{utc(2024, 3, 1, 10)}));
  EXPECT_EQ(c.instances(INT64_MIN, INT64_MAX).size(), 4u);
}

TEST(Recurrence, StopsAtMaxInstances) {
  // Every second, forever: a bounded amount of work, and a conservative answer.
  ParsedCalendar c =
      parsed(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=SECONDLY"}), {.max_instances = 1000});
  const auto began = std::chrono::steady_clock::now();
  bool truncated = false;
  const auto some = c.instances(utc(2024, 1, 1), utc(2025, 1, 1), &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(some.size(), 1000u);
  EXPECT_TRUE(
      c.matches_time_range(utc(2024, 6, 1), utc(2024, 6, 1, 0, 10), Component::Event, &truncated));
  EXPECT_FALSE(truncated);  // skipped ahead: the range itself holds few enough
  // With COUNT it cannot skip: past the bound the answer is "maybe", so yes.
  ParsedCalendar counted =
      parsed(event({"DTSTART:20240101T000000Z", "RRULE:FREQ=SECONDLY;COUNT=100000000"}),
             {.max_instances = 1000});
  EXPECT_EQ(counted.index().last_end, INT64_MAX);
  EXPECT_TRUE(
      counted.matches_time_range(utc(2025, 6, 1), utc(2025, 6, 2), Component::Event, &truncated));
  EXPECT_TRUE(truncated);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(2));
}

TEST(Recurrence, RefusesRulesWithoutAnInstanceInEightYears) {
  // libical would search every day to 2582 for the next instance, on every question.
  const char* expected =
      "BadInput: calendar object: an RRULE with no instance within eight years of DTSTART";
  const auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(
      refusal(event({"DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"})),
      expected);
  EXPECT_EQ(refusal(event(
                {"DTSTART:20240101T100000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5"})),
            expected);
  EXPECT_EQ(refusal(event({"DTSTART:20240102T100000Z", "RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=MO"})),
            expected);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(1));
  // Sparse but real: leap days, every 4 years (8 around 2100); one that ends first.
  ParsedCalendar leap =
      parsed(event({"DTSTART:20240229T100000Z", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29"}));
  EXPECT_EQ(starts(leap, utc(2096, 1, 1), utc(2105, 1, 1)),
            (std::vector<std::int64_t>{utc(2096, 2, 29, 10), utc(2104, 2, 29, 10)}));
  EXPECT_EQ(refusal(event({"DTSTART:20240102T100000Z",
                           "RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=MO;UNTIL=20240301T000000Z"})),
            "accepted");
  EXPECT_EQ(refusal(event({"DTSTART:20240101T100000Z", "RRULE:FREQ=YEARLY;INTERVAL=20"})),
            "accepted");
}

// --- RFC 4791 section 9.9 --------------------------------------------------------------

TEST(TimeRange, VEVENTTable) {
  const std::int64_t t = utc(2024, 5, 1, 10);
  // DTEND: (start < DTEND AND end > DTSTART).
  ParsedCalendar with_end = parsed(event({"DTSTART:20240501T100000Z", "DTEND:20240501T110000Z"}));
  EXPECT_TRUE(matches(with_end, t + kHour - 1, t + 2 * kHour));
  EXPECT_FALSE(matches(with_end, t + kHour, t + 2 * kHour));
  EXPECT_TRUE(matches(with_end, t - kHour, t + 1));
  EXPECT_FALSE(matches(with_end, t - kHour, t));
  // DURATION > 0: the same with DTSTART+DURATION.
  ParsedCalendar with_duration = parsed(event({"DTSTART:20240501T100000Z", "DURATION:PT1H"}));
  EXPECT_TRUE(matches(with_duration, t + kHour - 1, t + 2 * kHour));
  EXPECT_FALSE(matches(with_duration, t + kHour, t + 2 * kHour));
  // DURATION = 0: (start <= DTSTART AND end > DTSTART).
  ParsedCalendar zero = parsed(event({"DTSTART:20240501T100000Z", "DURATION:PT0S"}));
  EXPECT_TRUE(matches(zero, t, t + 1));
  EXPECT_FALSE(matches(zero, t - 1, t));
  EXPECT_FALSE(matches(zero, t + 1, t + 2));
  // No DTEND or DURATION, a DATE-TIME: the same as DURATION = 0.
  ParsedCalendar instant = parsed(event({"DTSTART:20240501T100000Z"}));
  EXPECT_TRUE(matches(instant, t, t + 1));
  EXPECT_FALSE(matches(instant, t - 1, t));
  // DTEND equal to DTSTART reads as DURATION:PT0S.
  ParsedCalendar same = parsed(event({"DTSTART:20240501T100000Z", "DTEND:20240501T100000Z"}));
  EXPECT_TRUE(matches(same, t, t + 1));
  // Open ranges.
  EXPECT_TRUE(matches(with_end, INT64_MIN, t + 1));
  EXPECT_TRUE(matches(with_end, t, INT64_MAX));
  EXPECT_FALSE(matches(with_end, t + kHour, INT64_MAX));
  // An empty or inverted range matches nothing; another component type neither.
  EXPECT_FALSE(matches(with_end, t, t));
  EXPECT_FALSE(with_end.matches_time_range(t, t + 1, Component::Todo));
  EXPECT_FALSE(with_end.matches_time_range(t, t + 1, Component::FreeBusy));
}

TEST(TimeRange, VTODOTable) {
  const std::int64_t t = utc(2024, 5, 1, 10);
  // Y Y N: (start <= DTSTART+DURATION) AND ((end > DTSTART) OR (end >= DTSTART+DURATION)).
  ParsedCalendar start_duration = parsed(todo({"DTSTART:20240501T100000Z", "DURATION:PT1H"}));
  EXPECT_TRUE(matches(start_duration, t + kHour, t + 2 * kHour));
  EXPECT_FALSE(matches(start_duration, t + kHour + 1, t + 2 * kHour));
  EXPECT_TRUE(matches(start_duration, t - kHour, t + 1));
  EXPECT_FALSE(matches(start_duration, t - kHour, t));
  // Y N Y: ((start < DUE) OR (start <= DTSTART)) AND ((end > DTSTART) OR (end >= DUE)).
  ParsedCalendar start_due = parsed(todo({"DTSTART:20240501T100000Z", "DUE:20240501T120000Z"}));
  EXPECT_TRUE(matches(start_due, t + 2 * kHour - 1, t + 3 * kHour));
  EXPECT_FALSE(matches(start_due, t + 2 * kHour, t + 3 * kHour));
  EXPECT_FALSE(matches(start_due, t - kHour, t));
  // Y N N: (start <= DTSTART) AND (end > DTSTART).
  ParsedCalendar start_only = parsed(todo({"DTSTART:20240501T100000Z"}));
  EXPECT_TRUE(matches(start_only, t, t + 1));
  EXPECT_FALSE(matches(start_only, t + 1, t + 2));
  // N N Y: (start < DUE) AND (end >= DUE).
  ParsedCalendar due_only = parsed(todo({"DUE:20240501T100000Z"}));
  EXPECT_TRUE(matches(due_only, t - 1, t));
  EXPECT_FALSE(matches(due_only, t, t + 1));
  EXPECT_EQ(due_only.index().first_start, t);
  EXPECT_EQ(due_only.index().last_end, t);
  // N N N Y Y: ((start <= CREATED) OR (start <= COMPLETED)) AND
  //            ((end >= CREATED) OR (end >= COMPLETED)).
  ParsedCalendar both = parsed(todo({"CREATED:20240501T100000Z", "COMPLETED:20240503T100000Z"}));
  EXPECT_TRUE(matches(both, t + kDay, t + kDay + 1));
  EXPECT_TRUE(matches(both, t + 2 * kDay, t + 3 * kDay));
  EXPECT_FALSE(matches(both, t + 2 * kDay + 1, t + 3 * kDay));
  EXPECT_FALSE(matches(both, t - kDay, t - 1));
  // N N N Y N: (start <= COMPLETED) AND (end >= COMPLETED).
  ParsedCalendar completed = parsed(todo({"COMPLETED:20240501T100000Z"}));
  EXPECT_TRUE(matches(completed, t - 1, t));
  EXPECT_TRUE(matches(completed, t, t + 1));
  EXPECT_FALSE(matches(completed, t + 1, t + 2));
  // N N N N Y: (end > CREATED).
  ParsedCalendar created = parsed(todo({"CREATED:20240501T100000Z"}));
  EXPECT_TRUE(matches(created, t + kDay * 365, t + kDay * 366));
  EXPECT_FALSE(matches(created, t - 1, t));
  EXPECT_EQ(created.index().last_end, INT64_MAX);
  // N N N N N: TRUE.
  ParsedCalendar nothing = parsed(todo({"SUMMARY:someday"}));
  EXPECT_TRUE(matches(nothing, 0, 1));
  EXPECT_EQ(nothing.index().first_start, INT64_MIN);
  EXPECT_EQ(nothing.index().last_end, INT64_MAX);
}

TEST(TimeRange, VJOURNALTable) {
  const std::string head =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VJOURNAL\r\nUID:j\r\n";
  const std::string tail = "END:VJOURNAL\r\nEND:VCALENDAR\r\n";
  const std::int64_t t = utc(2024, 5, 1, 10);
  ParsedCalendar timed = parsed(head + "DTSTART:20240501T100000Z\r\n" + tail);
  EXPECT_TRUE(matches(timed, t, t + 1));
  EXPECT_FALSE(matches(timed, t + 1, t + 2));
  ParsedCalendar dated = parsed(head + "DTSTART;VALUE=DATE:20240501\r\n" + tail);
  EXPECT_TRUE(matches(dated, utc(2024, 5, 1, 23), utc(2024, 5, 2, 1)));
  EXPECT_FALSE(matches(dated, utc(2024, 5, 2), utc(2024, 5, 3)));
  ParsedCalendar undated = parsed(head + "SUMMARY:notes\r\n" + tail);
  EXPECT_FALSE(matches(undated, INT64_MIN, INT64_MAX));
  EXPECT_GT(undated.index().first_start, undated.index().last_end);
}

TEST(TimeRange, TheIndexCoversEveryMatch) {
  const std::string samples[] = {
      event({"DTSTART:20240501T100000Z", "DTEND:20240501T110000Z"}),
      event({"DTSTART;VALUE=DATE:20240501", "RRULE:FREQ=WEEKLY;COUNT=3"}),
      event({"DTSTART;TZID=Europe/Berlin:20240501T100000", "RRULE:FREQ=DAILY;UNTIL=20240510"}),
      todo({"DTSTART:20240501T100000Z", "DUE:20240501T080000Z"}),
      todo({"CREATED:20240501T100000Z", "COMPLETED:20240502T100000Z"}),
  };
  for (const std::string& text : samples) {
    ParsedCalendar c = parsed(text);
    for (std::int64_t s = utc(2024, 4, 29); s < utc(2024, 5, 14); s += 5 * kHour) {
      for (std::int64_t length : {std::int64_t{1}, kHour, kDay}) {
        if (!matches(c, s, s + length)) continue;
        EXPECT_LE(c.index().first_start, s + length) << text;
        EXPECT_GE(c.index().last_end, s) << text;
      }
    }
  }
}

// --- CALDAV:expand and limit-recurrence-set -------------------------------------------

TEST(Expand, WritesEachInstanceInUTC) {
  std::string text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Outlook\r\nX-WR-CALNAME:Work\r\n";
  for (std::string_view line : kOutlookBerlin) text.append(line).append("\r\n");
  text +=
      "BEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=W. Europe Standard Time:20240101T100000\r\n"
      "DTEND;TZID=W. Europe Standard Time:20240101T110000\r\nRRULE:FREQ=DAILY;COUNT=5\r\n"
      "EXDATE;TZID=W. Europe Standard Time:20240103T100000\r\nSUMMARY:daily\r\n"
      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:x\r\nRECURRENCE-ID;TZID=W. Europe Standard Time:20240102T100000\r\n"
      "DTSTART;TZID=W. Europe Standard Time:20240102T150000\r\n"
      "DTEND;TZID=W. Europe Standard Time:20240102T160000\r\nSUMMARY:later\r\nEND:VEVENT\r\n"
      "END:VCALENDAR\r\n";
  ParsedCalendar c = parsed(text);
  const std::string expanded = c.expand(utc(2024, 1, 1), utc(2024, 1, 4));
  EXPECT_EQ(expanded.find("VTIMEZONE"), std::string::npos) << expanded;
  EXPECT_EQ(expanded.find("RRULE"), std::string::npos) << expanded;
  EXPECT_EQ(expanded.find("EXDATE"), std::string::npos) << expanded;
  EXPECT_EQ(expanded.find("TZID"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("X-WR-CALNAME:Work"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("DTSTART:20240101T090000Z"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("RECURRENCE-ID:20240101T090000Z"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("DTSTART:20240102T140000Z"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("RECURRENCE-ID:20240102T090000Z"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("TRIGGER:-PT5M"), std::string::npos) << expanded;
  // The result is a calendar object of its own: two instances, each on its own.
  ParsedCalendar back = parsed(expanded);
  EXPECT_FALSE(back.index().recurring == false);
  const auto instances = back.instances(INT64_MIN, INT64_MAX);
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(instances[0].start, utc(2024, 1, 1, 9));
  EXPECT_EQ(instances[0].end, utc(2024, 1, 1, 10));
  EXPECT_EQ(instances[1].start, utc(2024, 1, 2, 14));
  EXPECT_EQ(instances[1].recurrence_id, utc(2024, 1, 2, 9));
}

TEST(Expand, KeepsDatesAndFloatingTimesAsWritten) {
  ParsedCalendar dates = parsed(
      event({"DTSTART;VALUE=DATE:20240101", "DTEND;VALUE=DATE:20240102", "RRULE:FREQ=YEARLY"}));
  const std::string expanded = dates.expand(utc(2030, 1, 1), utc(2030, 12, 31));
  EXPECT_NE(expanded.find("DTSTART;VALUE=DATE:20300101"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("DTEND;VALUE=DATE:20300102"), std::string::npos) << expanded;
  EXPECT_NE(expanded.find("RECURRENCE-ID;VALUE=DATE:20300101"), std::string::npos) << expanded;
  ParsedCalendar floating =
      parsed(event({"DTSTART:20240101T090000", "RRULE:FREQ=DAILY"}), {}, "Europe/Berlin");
  const std::string local = floating.expand(utc(2024, 7, 1), utc(2024, 7, 2));
  EXPECT_NE(local.find("DTSTART:20240701T090000\r\n"), std::string::npos) << local;
  // Nothing in the range: a calendar without components.
  const std::string none = dates.expand(utc(2020, 1, 1), utc(2020, 2, 1));
  EXPECT_EQ(none.find("VEVENT"), std::string::npos);
  EXPECT_NE(none.find("BEGIN:VCALENDAR"), std::string::npos);
}

TEST(LimitRecurrenceSet, KeepsTheMasterAndTheOverridesThatMatter) {
  ParsedCalendar c = parsed(calendar({"BEGIN:VEVENT",
                                      "UID:w",
                                      "DTSTART:20240101T100000Z",
                                      "DURATION:PT1H",
                                      "RRULE:FREQ=WEEKLY",
                                      "END:VEVENT",
                                      "BEGIN:VEVENT",
                                      "UID:w",
                                      "RECURRENCE-ID:20240108T100000Z",
                                      "DTSTART:20240108T140000Z",
                                      "DURATION:PT1H",
                                      "SUMMARY:same day",
                                      "END:VEVENT",
                                      "BEGIN:VEVENT",
                                      "UID:w",
                                      "RECURRENCE-ID:20240115T100000Z",
                                      "DTSTART:20240301T100000Z",
                                      "DURATION:PT1H",
                                      "SUMMARY:moved away",
                                      "END:VEVENT"}));
  const std::string january = c.limit_recurrence_set(utc(2024, 1, 8), utc(2024, 1, 9));
  EXPECT_NE(january.find("RRULE:FREQ=WEEKLY"), std::string::npos);
  EXPECT_NE(january.find("same day"), std::string::npos);
  EXPECT_EQ(january.find("moved away"), std::string::npos);
  // Its original time (15 January) and its new one (1 March) both bring it in.
  EXPECT_NE(c.limit_recurrence_set(utc(2024, 1, 15), utc(2024, 1, 16)).find("moved away"),
            std::string::npos);
  EXPECT_NE(c.limit_recurrence_set(utc(2024, 3, 1), utc(2024, 3, 2)).find("moved away"),
            std::string::npos);
  EXPECT_EQ(c.limit_recurrence_set(utc(2024, 3, 1), utc(2024, 3, 2)).find("same day"),
            std::string::npos);
}

// --- Free-busy ------------------------------------------------------------------------

TEST(FreeBusy, CountsOpaqueEventsThatTakePlace) {
  const std::int64_t day = utc(2024, 5, 1);
  auto busy = [&](std::initializer_list<std::string_view> lines) {
    return parsed(event(lines)).busy_periods(day, day + kDay);
  };
  auto opaque = busy({"DTSTART:20240501T100000Z", "DTEND:20240501T110000Z"});
  ASSERT_EQ(opaque.size(), 1u);
  EXPECT_EQ(opaque[0].start, day + 10 * kHour);
  EXPECT_EQ(opaque[0].type, BusyType::Busy);
  EXPECT_TRUE(
      busy({"DTSTART:20240501T100000Z", "DTEND:20240501T110000Z", "TRANSP:TRANSPARENT"}).empty());
  EXPECT_TRUE(
      busy({"DTSTART:20240501T100000Z", "DTEND:20240501T110000Z", "STATUS:CANCELLED"}).empty());
  auto tentative = busy({"DTSTART:20240501T100000Z", "DTEND:20240501T110000Z", "STATUS:TENTATIVE"});
  ASSERT_EQ(tentative.size(), 1u);
  EXPECT_EQ(tentative[0].type, BusyType::BusyTentative);
  EXPECT_TRUE(busy({"DTSTART:20240501T100000Z"}).empty());  // no length, no busy time
  // Clipped to the range; an all-day event is busy all day.
  auto clipped = busy({"DTSTART:20240430T220000Z", "DTEND:20240501T020000Z"});
  ASSERT_EQ(clipped.size(), 1u);
  EXPECT_EQ(clipped[0].start, day);
  EXPECT_EQ(clipped[0].end, day + 2 * kHour);
  auto all_day = busy({"DTSTART;VALUE=DATE:20240501"});
  ASSERT_EQ(all_day.size(), 1u);
  EXPECT_EQ(all_day[0].end, day + kDay);
  // A cancelled instance of a recurring event is free, the others busy.
  ParsedCalendar series =
      parsed(calendar({"BEGIN:VEVENT", "UID:s", "DTSTART:20240501T090000Z", "DURATION:PT1H",
                       "RRULE:FREQ=HOURLY;COUNT=3", "END:VEVENT", "BEGIN:VEVENT", "UID:s",
                       "RECURRENCE-ID:20240501T100000Z", "DTSTART:20240501T100000Z",
                       "DURATION:PT1H", "STATUS:CANCELLED", "END:VEVENT"}));
  EXPECT_EQ(series.busy_periods(day, day + kDay).size(), 2u);
}

TEST(FreeBusy, WritesOneVFREEBUSY) {
  const std::int64_t day = utc(2006, 1, 4);
  const std::string text =
      freebusy_calendar(day, day + kDay,
                        {{day + 14 * kHour, day + 15 * kHour, BusyType::Busy},
                         {day + 10 * kHour, day + 12 * kHour, BusyType::BusyTentative},
                         {day + 14 * kHour + 1800, day + 16 * kHour, BusyType::Busy},
                         {day + 16 * kHour, day + 17 * kHour, BusyType::Busy},
                         {day - kHour, day + kHour, BusyType::Busy},
                         {day + 2 * kDay, day + 3 * kDay, BusyType::Busy}},
                        utc(2006, 1, 2, 12));
  EXPECT_EQ(text,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rampart//CalDAV//EN\r\n"
            "BEGIN:VFREEBUSY\r\nDTSTAMP:20060102T120000Z\r\nDTSTART:20060104T000000Z\r\n"
            "DTEND:20060105T000000Z\r\n"
            "FREEBUSY:20060104T000000Z/20060104T010000Z\r\n"
            "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060104T100000Z/20060104T120000Z\r\n"
            "FREEBUSY:20060104T140000Z/20060104T170000Z\r\n"
            "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
  // libical reads it back.
  EXPECT_EQ(refusal(text), "BadInput: component: VFREEBUSY is not stored");
}

}  // namespace
}  // namespace rampart::calendar
