// Calendar arithmetic for dates in mail headers and IMAP SEARCH: no time zone
// database, no locale, just the proleptic Gregorian calendar.
#pragma once

#include <cstdint>

namespace rampart {

// Days since 1970-01-01 of year-month-day (month 1-12, day 1-31), by Howard Hinnant's
// days_from_civil algorithm; negative before 1970.
constexpr std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1, day = 1;
};

// The inverse of days_from_civil (Hinnant's civil_from_days).
constexpr CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const unsigned month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(civil_from_days(11017).year == 2000 && civil_from_days(11017).month == 3);
static_assert(days_from_civil(2000, 3, 1) == 11017);

}  // namespace rampart
