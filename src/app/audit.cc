// `rampart audit`: the audit trail, queried and verified.
#include <charconv>
#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>

#include "app/commands.h"
#include "app/open.h"
#include "base/civil_date.h"
#include "base/json.h"

namespace rampart::app {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
    return now_ms() - amount * unit_ms;
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

std::string or_dash(const std::string& text) { return text.empty() ? "-" : text; }

void print_text(const std::vector<store::AuditRecord>& records) {
  for (const auto& record : records) {
    std::cout << utc_text(record.time_ms) << "\t" << record.seq << "\t" << record.kind << "\t"
              << or_dash(record.account) << "\t" << or_dash(record.actor) << "\t"
              << or_dash(record.address) << "\t" << or_dash(record.protocol) << "\t"
              << or_dash(record.mailbox) << "\t" << record.count << "\t" << or_dash(record.detail)
              << "\n";
  }
}

void print_json(const std::vector<store::AuditRecord>& records) {
  std::string out = "[";
  for (const auto& record : records) {
    if (out.size() > 1) out += ",";
    out += "\n{\"seq\":" + std::to_string(record.seq) + ",\"time\":\"" + utc_text(record.time_ms) +
           "\",\"time_ms\":" + std::to_string(record.time_ms);
    for (const auto& [name, value] : {std::pair{"kind", &record.kind},
                                      {"account", &record.account},
                                      {"actor", &record.actor},
                                      {"address", &record.address},
                                      {"protocol", &record.protocol},
                                      {"mailbox", &record.mailbox},
                                      {"detail", &record.detail},
                                      {"hash", &record.hash}}) {
      out += ",\"";
      out += name;
      out += "\":";
      append_json_string(out, *value);
    }
    out += ",\"count\":" + std::to_string(record.count) + "}";
  }
  out += records.empty() ? "]\n" : "\n]\n";
  std::cout << out;
}

}  // namespace

int audit_command(const std::filesystem::path& config_path, const AuditQuery& query) {
  store::AuditFilter filter{.account = query.account,
                            .address = query.address,
                            .kind = query.kind,
                            .limit = query.limit,
                            .newest = true};
  for (const auto& [text, target, name] : {std::tuple{&query.since, &filter.since_ms, "--since"},
                                           std::tuple{&query.until, &filter.until_ms, "--until"}}) {
    if (text->empty()) continue;
    auto when = parse_when(*text);
    if (!when) {
      std::cerr << "rampart: " << name << " " << *text
                << ": expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or an age such as 90m or 7d\n";
      return kExitUsage;
    }
    *target = *when;
  }
  auto opened = open_admin(config_path, "audit query", query.account);
  if (!opened) return kExitFailure;
  auto records = opened->audit->query(filter);
  if (!records) {
    std::cerr << "rampart: cannot read the audit trail: " << records.error().detail << "\n";
    return kExitFailure;
  }
  if (query.json) {
    print_json(*records);
  } else {
    print_text(*records);
  }
  return kExitOk;
}

int audit_verify_command(const std::filesystem::path& config_path) {
  auto opened = open_admin(config_path, "audit verify");
  if (!opened) return kExitFailure;
  auto verified = opened->audit->verify();
  if (!verified) {
    std::cerr << "rampart: cannot read the audit trail: " << verified.error().detail << "\n";
    return kExitFailure;
  }
  if (verified->first_bad_seq != 0) {
    std::cerr << "rampart: the audit trail is broken at record " << verified->first_bad_seq << ": "
              << verified->problem << "\n";
    return kExitFailure;
  }
  std::cout << "audit trail intact: " << verified->records << " records, head " << verified->head
            << "\n";
  return kExitOk;
}

}  // namespace rampart::app
