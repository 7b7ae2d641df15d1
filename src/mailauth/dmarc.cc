#include "mailauth/dmarc.h"

#include <charconv>

#include "base/ascii.h"

namespace rampart::mailauth {

namespace {

constexpr std::size_t kMaxRecord = 2048;

std::optional<DmarcRecord::Policy> policy_of(std::string_view value) {
  if (iequals(value, "none")) return DmarcRecord::Policy::None;
  if (iequals(value, "quarantine")) return DmarcRecord::Policy::Quarantine;
  if (iequals(value, "reject")) return DmarcRecord::Policy::Reject;
  return std::nullopt;
}

// Section 3.1: relaxed alignment is the same organizational domain, strict the same
// domain.
bool aligned(bool strict, const std::string& domain, const std::string& organizational,
             const DmarcInput& input) {
  if (domain.empty()) return false;
  return strict ? domain == input.from_domain : organizational == input.from_organizational;
}

}  // namespace

const char* to_string(DmarcRecord::Policy policy) {
  switch (policy) {
    case DmarcRecord::Policy::None:
      return "none";
    case DmarcRecord::Policy::Quarantine:
      return "quarantine";
    case DmarcRecord::Policy::Reject:
      return "reject";
  }
  return "none";
}

const char* to_string(DmarcResult::Outcome outcome) {
  switch (outcome) {
    case DmarcResult::Outcome::None:
      return "none";
    case DmarcResult::Outcome::Pass:
      return "pass";
    case DmarcResult::Outcome::Fail:
      return "fail";
    case DmarcResult::Outcome::TempError:
      return "temperror";
    case DmarcResult::Outcome::PermError:
      return "permerror";
  }
  return "none";
}

std::optional<DmarcRecord> parse_dmarc_record(std::string_view text) {
  if (text.size() > kMaxRecord) return std::nullopt;
  DmarcRecord record;
  bool first = true, has_policy = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = trim_blanks(text.substr(start, end - start));
    start = end + 1;
    if (part.empty()) {
      if (first) return std::nullopt;
      continue;
    }
    const auto equals = part.find('=');
    if (equals == std::string_view::npos) {
      if (first) return std::nullopt;
      continue;  // not a tag: ignored as an unknown one
    }
    const std::string tag = lowercase(trim_blanks(part.substr(0, equals)));
    const std::string_view value = trim_blanks(part.substr(equals + 1));
    if (first) {
      // "v=DMARC1" exactly, first (section 6.3).
      if (tag != "v" || value != "DMARC1") return std::nullopt;
      first = false;
      continue;
    }
    if (tag == "p") {
      if (auto policy = policy_of(value)) {
        record.policy = *policy;
        has_policy = true;
      }
    } else if (tag == "sp") {
      record.subdomain_policy = policy_of(value);
    } else if (tag == "adkim" || tag == "aspf") {
      const bool strict = iequals(value, "s");
      if (strict || iequals(value, "r"))
        (tag == "adkim" ? record.strict_dkim : record.strict_spf) = strict;
    } else if (tag == "pct") {
      int percent = 0;
      const auto [at, error] = std::from_chars(value.data(), value.data() + value.size(), percent);
      if (error == std::errc() && at == value.data() + value.size() && percent >= 0 &&
          percent <= 100) {
        record.percent = percent;
      }
    } else if (tag == "rua") {
      std::size_t from = 0;
      while (from <= value.size()) {
        auto comma = value.find(',', from);
        if (comma == std::string_view::npos) comma = value.size();
        const std::string_view uri = trim_blanks(value.substr(from, comma - from));
        if (!uri.empty()) record.rua.emplace_back(uri);
        from = comma + 1;
      }
    }
  }
  if (first) return std::nullopt;
  if (!has_policy) {
    // Section 6.6.3: no valid p= but a rua= is p=none; neither is no record.
    if (record.rua.empty()) return std::nullopt;
    record.policy = DmarcRecord::Policy::None;
  }
  return record;
}

DmarcResult evaluate_dmarc(const DmarcInput& input) {
  DmarcResult result;
  if (!input.record) return result;  // no policy: none
  const DmarcRecord& record = *input.record;
  result.policy_domain =
      input.record_is_from_domain ? input.from_domain : input.from_organizational;
  result.spf_aligned = input.spf_pass && aligned(record.strict_spf, input.spf_domain,
                                                 input.spf_organizational, input);
  for (const auto& [domain, organizational] : input.dkim_pass) {
    if (aligned(record.strict_dkim, domain, organizational, input)) result.dkim_aligned = true;
  }
  if (result.spf_aligned || result.dkim_aligned) {
    result.outcome = DmarcResult::Outcome::Pass;
    return result;
  }
  result.outcome = DmarcResult::Outcome::Fail;
  // A subdomain's mail under its organizational domain's record: sp= when given.
  DmarcRecord::Policy policy = record.policy;
  if (!input.record_is_from_domain && record.subdomain_policy) policy = *record.subdomain_policy;
  // pct= (section 6.6.4): outside the sample, quarantine becomes none and reject becomes
  // quarantine.
  if (input.sample >= record.percent && policy != DmarcRecord::Policy::None) {
    result.sampled_out = true;
    policy = policy == DmarcRecord::Policy::Reject ? DmarcRecord::Policy::Quarantine
                                                   : DmarcRecord::Policy::None;
  }
  result.disposition = policy;
  return result;
}

}  // namespace rampart::mailauth
