// DMARC (RFC 7489): the policy record a domain publishes at _dmarc.DOMAIN, and the
// evaluation of one message against it: is its RFC 5322.From domain aligned with a
// domain that passed SPF or DKIM, and if not, what the domain asks receivers to do.
// Pure: the caller looks the record up (the From domain's, then its organizational
// domain's, section 6.6.3) and passes the SPF and DKIM results in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::mailauth {

struct DmarcRecord {
  enum class Policy { None, Quarantine, Reject };
  Policy policy = Policy::None;            // p= (required)
  std::optional<Policy> subdomain_policy;  // sp=
  bool strict_dkim = false;                // adkim=s
  bool strict_spf = false;                 // aspf=s
  int percent = 100;                       // pct=
  std::vector<std::string> rua;            // aggregate report URIs, as written
};

// Section 6.3: "v=DMARC1" first, then "tag=value" separated by ";" with white space
// allowed around both; tag names are case-insensitive, unknown tags are ignored, and a
// known tag with an invalid value takes its default. A record without a valid p= is
// read as p=none when it has a rua= (section 6.6.3), else it is no record. Nullopt: not
// a DMARC record (or over 2048 bytes).
std::optional<DmarcRecord> parse_dmarc_record(std::string_view text);

const char* to_string(DmarcRecord::Policy policy);

struct DmarcInput {
  std::string from_domain;          // the RFC 5322.From domain, lowercase
  std::string from_organizational;  // its organizational domain (PublicSuffixList)
  // The SPF result for the MAIL FROM domain (or HELO when MAIL FROM was empty), and
  // that domain.
  bool spf_pass = false;
  std::string spf_domain;
  std::string spf_organizational;
  // The d= of every DKIM signature that passed, with its organizational domain.
  std::vector<std::pair<std::string, std::string>> dkim_pass;
  // The record found, and whether it was the From domain's own (false: its
  // organizational domain's, and then sp= applies).
  std::optional<DmarcRecord> record;
  bool record_is_from_domain = true;
  // 0 to 99: this message's draw for pct= (the caller picks it at random).
  int sample = 0;
};

struct DmarcResult {
  enum class Outcome { None, Pass, Fail, TempError, PermError };
  Outcome outcome = Outcome::None;
  // What the policy says to do with a failing message (None when it passes, when there
  // is no policy, or when pct= sampled it out, then `sampled_out`).
  DmarcRecord::Policy disposition = DmarcRecord::Policy::None;
  bool sampled_out = false;
  std::string policy_domain;  // the domain whose record applied
  bool spf_aligned = false, dkim_aligned = false;
};

DmarcResult evaluate_dmarc(const DmarcInput& input);

const char* to_string(DmarcResult::Outcome outcome);

}  // namespace rampart::mailauth
