// Calendar object resources from clients (CalDAV PUT): parse() takes any bytes and
// refuses with one of its three kinds of reason; an object that parses answers every
// question over a fixed window within its limits, its index covers every match, and
// its expansion reads back as the same instances.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "calendar/ical.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace calendar = rampart::calendar;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const calendar::Limits limits{
      .max_bytes = 64 << 10, .max_components = 64, .max_instances = 500, .max_properties = 1000};
  // Floating times and dates in UTC, or in a zone with DST for odd sizes.
  const std::string zone = size % 2 ? "Europe/Berlin" : "";
  auto parsed = calendar::ParsedCalendar::parse(text, limits, zone);
  if (!parsed) {
    const std::string& why = parsed.error().detail;
    check(starts_with(why, "calendar data: ") || starts_with(why, "calendar object: ") ||
          starts_with(why, "component: "));
    return 0;
  }
  const calendar::CalendarObject& index = parsed->index();
  // 2024-01-01 to 2024-03-01, and an open-ended range.
  const std::int64_t start = 1704067200, end = 1709251200;
  for (const auto& [from, to] : {std::pair{start, end}, std::pair{end, INT64_MAX}}) {
    bool truncated = false;
    const auto instances = parsed->instances(from, to, &truncated);
    check(instances.size() <= limits.max_instances + limits.max_components);
    bool matched_truncated = false;
    const bool matched = parsed->matches_time_range(from, to, index.kind, &matched_truncated);
    check(matched_truncated == truncated);
    check(matched == (!instances.empty() || truncated));
    if (matched && !truncated) check(index.first_start <= to && index.last_end >= from);
    for (const calendar::BusyPeriod& busy : parsed->busy_periods(from, to)) {
      check(busy.start >= from && busy.end <= to && busy.start < busy.end);
    }
    parsed->limit_recurrence_set(from, to);
  }
  bool truncated = false;
  const auto instances = parsed->instances(start, end, &truncated);
  const std::string expanded = parsed->expand(start, end);
  auto back = calendar::ParsedCalendar::parse(expanded, limits, zone);
  if (!instances.empty() && !truncated && back) {
    check(back->instances(start, end).size() == instances.size());
  }
  return 0;
}
