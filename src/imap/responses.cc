#include <algorithm>
#include <ctime>

#include "base/ascii.h"
#include "base/civil_date.h"
#include "imap/responses_internal.h"
#include "store/object_id.h"

namespace rampart::imap {

namespace {
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}

std::string no_for(Errc code, std::string_view text) {
  const char* response = "NO [SERVERBUG] ";
  switch (code) {
    case Errc::BadInput:
      response = "NO [CANNOT] ";
      break;
    case Errc::TooBig:
      response = "NO [TOOBIG] ";
      break;
    case Errc::NotFound:
      response = "NO [NONEXISTENT] ";
      break;
    case Errc::Exists:
      response = "NO [ALREADYEXISTS] ";
      break;
    case Errc::NoPermission:
      response = "NO [NOPERM] ";
      break;
    case Errc::OverQuota:
      response = "NO [OVERQUOTA] ";
      break;
    case Errc::TryLater:
      response = "NO [UNAVAILABLE] ";
      break;
    case Errc::Internal:
      response = "NO [SERVERBUG] ";
      break;
  }
  return response + std::string(text);
}

const char* role_attribute(store::Role role) {
  switch (role) {
    case store::Role::Drafts:
      return "\\Drafts";
    case store::Role::Sent:
      return "\\Sent";
    case store::Role::Trash:
      return "\\Trash";
    case store::Role::Junk:
      return "\\Junk";
    case store::Role::Archive:
      return "\\Archive";
    case store::Role::Inbox:
    case store::Role::None:
      return nullptr;
  }
  return nullptr;
}

bool has_flag(const store::Flags& flags, std::string_view flag) {
  return std::binary_search(flags.begin(), flags.end(), flag);
}

bool is_descendant(std::string_view name, std::string_view of) {
  return name.size() > of.size() + 1 && name.substr(0, of.size()) == of && name[of.size()] == '/';
}

bool has_children(const std::vector<store::Mailbox>& mailboxes, std::string_view name,
                  bool subscribed_only) {
  return std::any_of(mailboxes.begin(), mailboxes.end(), [&](const store::Mailbox& mailbox) {
    return (!subscribed_only || mailbox.subscribed) && is_descendant(mailbox.name, name);
  });
}

std::string mailbox_id(store::MailboxId id) { return store::object_id(store::kMailboxPrefix, id); }

std::string format_flags(const store::Flags& flags, bool recent) {
  std::string out = "(";
  for (const auto& flag : flags) {
    if (out.size() > 1) out += ' ';
    out += flag;
  }
  if (recent) out += out.size() > 1 ? " \\Recent" : "\\Recent";
  out += ')';
  return out;
}

std::string format_date_time(std::int64_t unix_seconds) {
  const std::time_t time = unix_seconds;
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[40];
  std::snprintf(text, sizeof text, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", utc.tm_mday,
                kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text;
}

std::optional<std::int64_t> parse_date_time(std::string_view text) {
  // date-day-fixed "-" date-month "-" date-year SP time SP zone; a day of one digit
  // may come with a leading space.
  std::string padded(text);
  if (padded.size() == 25) padded.insert(0, "0");
  if (padded.size() != 26) return std::nullopt;
  if (padded[0] == ' ') padded[0] = '0';
  auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (padded[i] < '0' || padded[i] > '9') return std::nullopt;
      value = value * 10 + (padded[i] - '0');
    }
    return value;
  };
  const auto day = digits(0, 2), year = digits(7, 4), hour = digits(12, 2), minute = digits(15, 2),
             second = digits(18, 2), zone = digits(22, 4);
  if (!day || !year || !hour || !minute || !second || !zone || padded[2] != '-' ||
      padded[6] != '-' || padded[11] != ' ' || padded[14] != ':' || padded[17] != ':' ||
      padded[20] != ' ' || (padded[21] != '+' && padded[21] != '-')) {
    return std::nullopt;
  }
  int month = 0;
  while (month < 12 && !iequals(std::string_view(padded).substr(3, 3), kMonths[month])) {
    ++month;
  }
  if (month == 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60 ||
      *zone % 100 > 59) {
    return std::nullopt;
  }
  const std::int64_t zone_seconds =
      (*zone / 100 * 3600 + *zone % 100 * 60) * (padded[21] == '-' ? -1 : 1);
  return days_from_civil(*year, month + 1, *day) * 86400 + *hour * 3600 + *minute * 60 + *second -
         zone_seconds;
}

}  // namespace rampart::imap
