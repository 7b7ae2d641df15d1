#include "dkim/arc.h"

#include <algorithm>
#include <array>
#include <optional>

#include "base/ascii.h"
#include "base/base64.h"
#include "dkim/canonical.h"
#include "dkim/crypto_internal.h"
#include "dkim/signature.h"

namespace rampart::dkim {

namespace {

constexpr const char* kNames[] = {"ARC-Authentication-Results", "ARC-Message-Signature",
                                  "ARC-Seal"};
enum Part { kResults = 0, kMessage = 1, kSeal = 2 };

// The message's ARC sets: for instance i, the indices into the split fields of its
// three fields. A form error leaves `error` set.
struct Sets {
  std::string error;
  std::vector<std::array<std::size_t, 3>> fields;  // [i - 1][part]
};

bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// ARC-Authentication-Results begins "i=N;" (section 4.1.1).
std::uint32_t results_instance(std::string_view field) {
  std::size_t at = field.find(':') + 1;
  auto skip = [&] {
    while (at < field.size() && is_fws(field[at])) ++at;
  };
  skip();
  if (at >= field.size() || field[at++] != 'i') return 0;
  skip();
  if (at >= field.size() || field[at++] != '=') return 0;
  skip();
  std::uint32_t value = 0;
  std::size_t digits = 0;
  while (at < field.size() && field[at] >= '0' && field[at] <= '9' && digits < 3) {
    value = value * 10 + static_cast<std::uint32_t>(field[at++] - '0');
    ++digits;
  }
  skip();
  if (digits == 0 || at >= field.size() || field[at] != ';') return 0;
  return value;
}

Sets collect(const SplitMessage& split) {
  constexpr std::size_t kNone = SIZE_MAX;
  Sets sets;
  for (std::size_t n = 0; n < split.fields.size(); ++n) {
    int part = -1;
    for (int p = 0; p < 3; ++p) {
      if (field_is(split.fields[n], kNames[p])) part = p;
    }
    if (part < 0) continue;
    std::uint32_t instance = 0;
    if (part == kResults) {
      instance = results_instance(split.fields[n]);
    } else {
      const Signature sig = parse_signature(
          split.fields[n], part == kSeal ? SignatureKind::ArcSeal : SignatureKind::ArcMessage);
      if (sig.error.empty()) instance = sig.instance;
      if (!sig.error.empty() && sets.error.empty()) {
        sets.error = std::string(kNames[part]) + ": " + sig.error;
      }
    }
    if (instance == 0 || instance > kMaxArcSets) {
      if (sets.error.empty()) sets.error = std::string("malformed ") + kNames[part];
      continue;
    }
    if (sets.fields.size() < instance) sets.fields.resize(instance, {kNone, kNone, kNone});
    std::size_t& slot = sets.fields[instance - 1][static_cast<std::size_t>(part)];
    if (slot != kNone && sets.error.empty()) {
      sets.error = "two " + std::string(kNames[part]) + " with i=" + std::to_string(instance);
    }
    slot = n;
  }
  for (std::size_t i = 0; i < sets.fields.size() && sets.error.empty(); ++i) {
    for (std::size_t part = 0; part < 3; ++part) {
      if (sets.fields[i][part] == kNone) {
        sets.error = "no " + std::string(kNames[part]) + " with i=" + std::to_string(i + 1);
        break;
      }
    }
  }
  return sets;
}

// The field without its b= value (what a signature covers of its own field).
std::string without_b(std::string_view field, const Signature& sig) {
  return std::string(field.substr(0, sig.b_begin)) + std::string(field.substr(sig.b_end));
}

// What the seal of set `instance` covers (section 5.1.1): every set up to it, each as
// ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal, relaxed and CRLF-ended,
// the last seal without its b= value and its CRLF.
std::string sealed_data(const Sets& sets, const SplitMessage& split, std::size_t instance,
                        const std::string& last_seal) {
  std::string data;
  for (std::size_t i = 0; i < instance; ++i) {
    data += relaxed_header(split.fields[sets.fields[i][kResults]]) + "\r\n";
    data += relaxed_header(split.fields[sets.fields[i][kMessage]]) + "\r\n";
    if (i + 1 < instance) data += relaxed_header(split.fields[sets.fields[i][kSeal]]) + "\r\n";
  }
  return data + relaxed_header(last_seal);
}

// One signature checked with the records found for its key: the first that passes wins,
// else the first that got furthest.
detail::Outcome check(const Signature& sig,
                      const std::map<ArcKey, std::vector<std::string>>& records,
                      const detail::BodyCheck& body, std::string_view data) {
  const auto found = records.find({std::string(sig.domain), std::string(sig.selector)});
  if (found == records.end() || found->second.empty()) {
    return {Verdict::Result::PermError, "no key", false};
  }
  std::optional<detail::Outcome> best;
  for (std::size_t n = 0; n < found->second.size() && n < kMaxKeyRecords; ++n) {
    detail::Outcome outcome = detail::try_key(sig, found->second[n], body, data);
    const bool better =
        !best || (outcome.result == Verdict::Result::Pass) ||
        (outcome.result == Verdict::Result::Fail && best->result != Verdict::Result::Pass &&
         best->result != Verdict::Result::Fail);
    if (better) best = std::move(outcome);
    if (best->result == Verdict::Result::Pass) break;
  }
  return *best;
}

}  // namespace

std::vector<ArcKey> arc_keys(std::string_view message) {
  const SignedHeader header = read_header(message);
  if (header.over_limit) return {};
  const Sets sets = collect(header.split);
  if (!sets.error.empty() || sets.fields.empty()) return {};
  std::vector<ArcKey> keys;
  auto add = [&](std::size_t field, SignatureKind kind) {
    const Signature sig = parse_signature(header.split.fields[field], kind);
    ArcKey key{std::string(sig.domain), std::string(sig.selector)};
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  add(sets.fields.back()[kMessage], SignatureKind::ArcMessage);
  for (const auto& set : sets.fields) add(set[kSeal], SignatureKind::ArcSeal);
  return keys;
}

ArcVerdict verify_arc(std::string_view message,
                      const std::map<ArcKey, std::vector<std::string>>& records, std::int64_t now) {
  ArcVerdict verdict;
  auto failed = [&](std::string reason) {
    verdict.result = ArcVerdict::Result::Fail;
    verdict.reason = std::move(reason);
    return verdict;
  };
  const SignedHeader header = read_header(message);
  const SplitMessage& split = header.split;
  const Sets sets = collect(split);
  verdict.instances = static_cast<std::uint32_t>(sets.fields.size());
  if (sets.fields.empty() && sets.error.empty()) return verdict;  // no chain: none
  if (header.over_limit) return failed("header too large");
  if (!sets.error.empty()) return failed(sets.error);
  const std::size_t count = sets.fields.size();
  std::vector<Signature> seals;
  for (const auto& set : sets.fields) {
    seals.push_back(parse_signature(split.fields[set[kSeal]], SignatureKind::ArcSeal));
  }
  verdict.sealer = seals.back().domain;
  // Section 5.2 steps 2 and 3: a chain that failed stays failed; then its structure.
  if (seals.back().chain_validation == "fail") {
    return failed("the chain failed before (cv=fail at i=" + std::to_string(count) + ")");
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view wanted = i == 0 ? "none" : "pass";
    if (seals[i].chain_validation != wanted) {
      return failed("ARC-Seal i=" + std::to_string(i + 1) +
                    " has cv=" + std::string(seals[i].chain_validation));
    }
  }
  // Step 4: the newest message signature.
  const std::string_view ams_field = split.fields[sets.fields.back()[kMessage]];
  const Signature ams = parse_signature(ams_field, SignatureKind::ArcMessage);
  if (ams.expiry && now > *ams.expiry) return failed("ARC-Message-Signature expired");
  const detail::BodyCheck body = detail::check_body(ams, split.body);
  const std::string signed_fields = detail::signed_data(ams, split.fields, ams_field);
  const detail::Outcome message_outcome = check(ams, records, body, signed_fields);
  if (message_outcome.result != Verdict::Result::Pass) {
    return failed("ARC-Message-Signature i=" + std::to_string(count) + ": " +
                  message_outcome.reason);
  }
  // Step 6: every seal, newest first.
  const detail::BodyCheck no_body{true, {}, 0, 0};
  for (std::size_t i = count; i-- > 0;) {
    const std::string_view seal_field = split.fields[sets.fields[i][kSeal]];
    const std::string data = sealed_data(sets, split, i + 1, without_b(seal_field, seals[i]));
    const detail::Outcome outcome = check(seals[i], records, no_body, data);
    if (outcome.result != Verdict::Result::Pass) {
      return failed("ARC-Seal i=" + std::to_string(i + 1) + ": " + outcome.reason);
    }
  }
  verdict.result = ArcVerdict::Result::Pass;
  const std::string_view newest = split.fields[sets.fields.back()[kResults]];
  verdict.newest_results = std::string(newest.substr(newest.find(';') + 1));
  return verdict;
}

std::string_view arc_result_name(ArcVerdict::Result result) {
  switch (result) {
    case ArcVerdict::Result::Pass:
      return "pass";
    case ArcVerdict::Result::Fail:
      return "fail";
    case ArcVerdict::Result::None:
      return "none";
  }
  return "none";
}

std::string seal_arc(std::string_view message, std::string_view domain, const Key& key,
                     std::string_view results, ArcVerdict::Result chain, std::int64_t now) {
  const SignedHeader header = read_header(message);
  if (header.over_limit) return {};
  const SplitMessage& split = header.split;
  const Sets sets = collect(split);
  const std::size_t existing = sets.fields.size();
  // Section 5.1.2: a sealer vouches for the chain it saw; a failed or unchecked one is
  // not sealed again, nor one at the limit.
  if (!sets.error.empty() || existing >= kMaxArcSets) return {};
  if (existing > 0 && chain != ArcVerdict::Result::Pass) return {};
  const std::string instance = std::to_string(existing + 1);
  const std::string algorithm = key.algorithm == Algorithm::Rsa ? "rsa-sha256" : "ed25519-sha256";
  const std::string stamp = std::to_string(now);

  const std::string aar = "ARC-Authentication-Results: i=" + instance + "; " + std::string(results);
  const auto [names, fields] = detail::fields_to_sign(split);
  const std::string body_hash = base64_encode(detail::sha256(relaxed_body(split.body)));
  const std::string ams_head = "ARC-Message-Signature: i=" + instance + "; a=" + algorithm +
                               "; c=relaxed/relaxed; d=" + std::string(domain) +
                               "; s=" + key.selector + ";\r\n\tt=" + stamp + "; h=" + names +
                               ";\r\n\tbh=" + body_hash + ";\r\n\tb=";
  auto message_signature = detail::sign_data(key, fields + relaxed_header(ams_head));
  if (!message_signature) return {};
  const std::string ams = ams_head + detail::folded(base64_encode(*message_signature));

  const std::string seal_head = "ARC-Seal: i=" + instance + "; a=" + algorithm + "; t=" + stamp +
                                "; cv=" + (existing == 0 ? "none" : "pass") +
                                ";\r\n\td=" + std::string(domain) + "; s=" + key.selector +
                                ";\r\n\tb=";
  std::string sealed;
  for (const auto& set : sets.fields) {
    for (std::size_t part : set) sealed += relaxed_header(split.fields[part]) + "\r\n";
  }
  sealed += relaxed_header(aar) + "\r\n" + relaxed_header(ams) + "\r\n" + relaxed_header(seal_head);
  auto seal_signature = detail::sign_data(key, sealed);
  if (!seal_signature) return {};
  return seal_head + detail::folded(base64_encode(*seal_signature)) + "\r\n" + ams + "\r\n" + aar +
         "\r\n";
}

}  // namespace rampart::dkim
