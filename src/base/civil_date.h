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

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);

}  // namespace rampart
