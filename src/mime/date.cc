// RFC 5322 §3.3 date-time, with the obsolete forms of §4.3.
#include "base/civil_date.h"
#include "mime/header.h"
#include "mime/parse_internal.h"

namespace rampart::mime {

namespace {

bool read_number(std::string_view token, int& number) {
  if (token.empty() || token.size() > 4) return false;
  number = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
    number = number * 10 + (c - '0');
  }
  return true;
}

int month_of(std::string_view token) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (token.size() < 3) return 0;
  for (int m = 0; m < 12; ++m) {
    if (iequals(token.substr(0, 3), kMonths[m])) return m + 1;
  }
  return 0;
}

bool zone_of(std::string_view token, int& minutes) {
  if ((token[0] == '+' || token[0] == '-') && token.size() == 5) {
    int hhmm;
    if (!read_number(token.substr(1), hhmm) || hhmm % 100 > 59) return false;
    minutes = (hhmm / 100) * 60 + hhmm % 100;
    if (token[0] == '-') minutes = -minutes;
    return true;
  }
  static constexpr std::pair<std::string_view, int> kZones[] = {
      {"ut", 0},        {"utc", 0},       {"gmt", 0},       {"z", 0},
      {"est", -5 * 60}, {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60},
      {"mst", -7 * 60}, {"mdt", -6 * 60}, {"pst", -8 * 60}, {"pdt", -7 * 60}};
  for (const auto& [name, offset] : kZones) {
    if (iequals(token, name)) {
      minutes = offset;
      return true;
    }
  }
  // RFC 5322 §4.3: military zones were given wrongly in RFC 822; read them as -0000.
  if (token.size() == 1 &&
      ((token[0] >= 'a' && token[0] <= 'z') || (token[0] >= 'A' && token[0] <= 'Z'))) {
    minutes = 0;
    return true;
  }
  return false;
}

}  // namespace

std::optional<DateTime> parse_date(std::string_view value) {
  const std::string unfolded = unfold(value);
  std::vector<std::string_view> tokens;
  const std::string_view s = unfolded;
  for (std::size_t i = 0; i < s.size() && tokens.size() < 12;) {
    if (is_space(s[i]) || s[i] == ',') {
      ++i;
    } else if (s[i] == '(') {
      skip_comment(s, i);
    } else {
      const std::size_t begin = i;
      while (i < s.size() && !is_space(s[i]) && s[i] != ',' && s[i] != '(') ++i;
      tokens.push_back(s.substr(begin, i - begin));
    }
  }
  std::size_t t = 0;
  int day = 0;
  // An optional day name.
  if (t < tokens.size() && !read_number(tokens[t], day) && month_of(tokens[t]) == 0) ++t;
  int month = 0, year = 0;
  if (t < tokens.size() && read_number(tokens[t], day)) {
    ++t;
    if (t < tokens.size()) month = month_of(tokens[t++]);
  } else if (t < tokens.size() && (month = month_of(tokens[t])) != 0) {
    // "Jan 5 2020": the month first, as some old mailers write it.
    ++t;
    if (t >= tokens.size() || !read_number(tokens[t++], day)) return std::nullopt;
  }
  if (month == 0 || t >= tokens.size() || !read_number(tokens[t], year)) return std::nullopt;
  const std::size_t year_digits = tokens[t++].size();
  if (year_digits <= 2)
    year += year < 50 ? 2000 : 1900;  // RFC 5322 §4.3
  else if (year_digits == 3)
    year += 1900;
  if (t >= tokens.size()) return std::nullopt;
  int hour = 0, minute = 0, second = 0;
  {
    std::string_view time = tokens[t++];
    const std::size_t c1 = time.find(':');
    if (c1 == std::string_view::npos || !read_number(time.substr(0, c1), hour)) return std::nullopt;
    time.remove_prefix(c1 + 1);
    const std::size_t c2 = time.find(':');
    if (!read_number(time.substr(0, c2), minute)) return std::nullopt;
    if (c2 != std::string_view::npos && !read_number(time.substr(c2 + 1), second)) {
      return std::nullopt;
    }
  }
  int zone = 0;
  if (t < tokens.size() && !zone_of(tokens[t], zone)) zone = 0;  // an unknown zone: -0000
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 || year < 1900) {
    return std::nullopt;
  }
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  DateTime result;
  result.zone_minutes = zone;
  result.unix_seconds = days * 86400 + hour * 3600 + minute * 60 + second - zone * 60;
  return result;
}

}  // namespace rampart::mime
