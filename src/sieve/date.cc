// RFC 5260 section 4.2: the date parts, computed in the proleptic Gregorian calendar.
#include <cstdio>

#include "sieve/run_internal.h"

namespace rampart::sieve {
namespace {

struct Civil {
  std::int64_t year;
  int month, day;
};

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
Civil civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2), month, day};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::string two(std::int64_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d", static_cast<int>(value % 100));
  return text;
}

std::string zone_text(std::int32_t minutes, bool colon) {
  const char sign = minutes < 0 ? '-' : '+';
  const std::int32_t magnitude = minutes < 0 ? -minutes : minutes;
  return std::string(1, sign) + two(magnitude / 60) + (colon ? ":" : "") + two(magnitude % 60);
}

}  // namespace

std::optional<std::int32_t> parse_zone(std::string_view zone) {
  if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
  for (std::size_t i = 1; i < 5; ++i) {
    if (zone[i] < '0' || zone[i] > '9') return std::nullopt;
  }
  const int hours = (zone[1] - '0') * 10 + (zone[2] - '0');
  const int minutes = (zone[3] - '0') * 10 + (zone[4] - '0');
  if (minutes > 59) return std::nullopt;
  const std::int32_t total = hours * 60 + minutes;
  return zone[0] == '-' ? -total : total;
}

std::string date_part(std::int64_t unix_seconds, std::int32_t zone_minutes, std::string_view part) {
  const std::int64_t local = unix_seconds + std::int64_t{zone_minutes} * 60;
  const std::int64_t days = floor_div(local, 86400);
  const std::int64_t seconds = local - days * 86400;
  const Civil civil = civil_from_days(days);
  if (civil.year < 0 || civil.year > 9999) return {};
  char year[8];
  std::snprintf(year, sizeof year, "%04d", static_cast<int>(civil.year));
  const std::string date = std::string(year) + "-" + two(civil.month) + "-" + two(civil.day);
  const std::string time =
      two(seconds / 3600) + ":" + two(seconds / 60 % 60) + ":" + two(seconds % 60);
  const int weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  if (part == "year") return year;
  if (part == "month") return two(civil.month);
  if (part == "day") return two(civil.day);
  if (part == "date") return date;
  if (part == "julian") return std::to_string(days + 40587);  // Modified Julian Day
  if (part == "hour") return two(seconds / 3600);
  if (part == "minute") return two(seconds / 60 % 60);
  if (part == "second") return two(seconds % 60);
  if (part == "time") return time;
  if (part == "iso8601") return date + "T" + time + zone_text(zone_minutes, true);
  if (part == "std11") {
    static const char* const days_of_week[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return std::string(days_of_week[weekday]) + ", " + two(civil.day) + " " +
           months[civil.month - 1] + " " + year + " " + time + " " + zone_text(zone_minutes, false);
  }
  if (part == "zone") return zone_text(zone_minutes, false);
  if (part == "weekday") return std::to_string(weekday);
  return {};
}

}  // namespace rampart::sieve
