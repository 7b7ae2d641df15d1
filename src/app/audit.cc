// `rampart audit`: the audit trail, queried and verified.
#include <boost/json.hpp>
#include <charconv>
#include <ctime>
#include <iostream>
#include <optional>

#include "app/commands.h"
#include "app/open.h"
#include "base/civil_date.h"
#include "base/clock.h"
#include "base/log.h"

namespace rampart::app {
namespace {

// "2026-11-23T09:30:00.250Z".
std::string utc_text(std::int64_t time_ms) {
  const std::time_t seconds = time_ms / 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%03dZ", static_cast<int>(time_ms % 1000));
  return text;
}

// Reads the digits of `text` from `at`, exactly `width` of them.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) return std::nullopt;
  int value = 0;
  const char* begin = text.data() + at;
  const auto [end, error] = std::from_chars(begin, begin + width, value);
  if (error != std::errc() || end != begin + width) return std::nullopt;
  return value;
}

// A point in time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]Z" (UTC), or an age before now:
// a number with s, m, h or d ("90m", "7d").
std::optional<std::int64_t> parse_when(std::string_view text) {
  if (text.size() >= 2 && text[0] != '-' && text.find('-') == std::string_view::npos) {
    std::int64_t amount = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size() - 1, amount);
    if (error != std::errc() || end != text.data() + text.size() - 1 || amount > 100'000'000) {
      return std::nullopt;
    }
    const std::int64_t unit_ms = text.back() == 's'   ? 1000
                                 : text.back() == 'm' ? 60'000
                                 : text.back() == 'h' ? 3'600'000
                                 : text.back() == 'd' ? 86'400'000
                                                      : 0;
    if (unit_ms == 0) return std::nullopt;
    return unix_milliseconds() - amount * unit_ms;
  }
  const auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-' || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31) {
    return std::nullopt;
  }
  std::int64_t seconds = days_from_civil(*year, *month, *day) * 86'400;
  if (text.size() > 10) {
    // THH:MMZ or THH:MM:SSZ
    const auto hour = digits(text, 11, 2), minute = digits(text, 14, 2);
    const bool with_seconds = text.size() == 20;
    const auto second = with_seconds ? digits(text, 17, 2) : std::optional<int>(0);
    if ((text.size() != 17 && !with_seconds) || (text[10] != 'T' && text[10] != ' ') || !hour ||
        !minute || !second || text[13] != ':' || (with_seconds && text[16] != ':') ||
        text.back() != 'Z' || *hour > 23 || *minute > 59 || *second > 60) {
      return std::nullopt;
    }
    seconds += *hour * 3600 + *minute * 60 + *second;
  }
  return seconds * 1000;
}

namespace json = boost::json;

// A field for a tab-separated line: control bytes (a tab or newline in an admin's
// argument) escaped as the log escapes them, so each record stays one line.
std::string field(const json::value& record, const char* name) {
  const json::string& text = record.at(name).as_string();
  if (text.empty()) return "-";
  std::string out;
  log::append_escaped(out, std::string_view(text.data(), text.size()));
  return out;
}

void print_text(const json::array& records) {
  for (const auto& record : records) {
    std::cout << utc_text(record.at("time_ms").to_number<std::int64_t>()) << "\t"
              << record.at("seq").to_number<std::int64_t>() << "\t" << field(record, "kind") << "\t"
              << field(record, "account") << "\t" << field(record, "actor") << "\t"
              << field(record, "address") << "\t" << field(record, "protocol") << "\t"
              << field(record, "mailbox") << "\t" << record.at("count").to_number<std::int64_t>()
              << "\t" << field(record, "detail") << "\n";
  }
}

// One record per line, each with its time also in words.
void print_json(const json::array& records) {
  std::string out = "[";
  for (const auto& record : records) {
    json::object with_time = record.as_object();
    with_time["time"] = utc_text(record.at("time_ms").to_number<std::int64_t>());
    out += out.size() > 1 ? ",\n" : "\n";
    out += json::serialize(with_time);
  }
  out += records.empty() ? "]\n" : "\n]\n";
  std::cout << out;
}

}  // namespace

int audit_command(const std::filesystem::path& config_path, const AuditQuery& query) {
  json::object request{{"call", "audit.query"}, {"limit", static_cast<std::int64_t>(query.limit)}};
  for (const auto& [name, value] :
       {std::pair{"account", &query.account}, std::pair{"address", &query.address},
        std::pair{"kind", &query.kind}}) {
    if (!value->empty()) request[name] = *value;
  }
  for (const auto& [text, name, option] : {std::tuple{&query.since, "since_ms", "--since"},
                                           std::tuple{&query.until, "until_ms", "--until"}}) {
    if (text->empty()) continue;
    auto when = parse_when(*text);
    if (!when) {
      std::cerr << "rampart: " << option << " " << *text
                << ": expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or an age such as 90m or 7d\n";
      return kExitUsage;
    }
    request[name] = *when;
  }
  auto records = call_admin(config_path, request, "cannot read the audit trail");
  if (!records) return kExitFailure;
  if (query.json) {
    print_json(records->as_array());
  } else {
    print_text(records->as_array());
  }
  return kExitOk;
}

int audit_verify_command(const std::filesystem::path& config_path) {
  auto verified =
      call_admin(config_path, {{"call", "audit.verify"}}, "cannot verify the audit trail");
  if (!verified) return kExitFailure;
  if (const std::int64_t bad = verified->at("first_bad_seq").to_number<std::int64_t>(); bad != 0) {
    std::cerr << "rampart: the audit trail is broken at record " << bad << ": "
              << std::string(verified->at("problem").as_string()) << "\n";
    return kExitFailure;
  }
  std::cout << "audit trail intact: " << verified->at("records").to_number<std::int64_t>()
            << " records, head " << std::string(verified->at("head").as_string()) << "\n";
  return kExitOk;
}

}  // namespace rampart::app
