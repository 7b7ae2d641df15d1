// SPF records (RFC 7208): telling an SPF record among a name's TXT strings (section
// 4.5) and parsing one into its terms (section 4.6, the ABNF of section 12), with every
// term's syntax checked before any is evaluated (section 4.6: a syntax error anywhere
// is a permerror). Pure and fuzzed: the text comes from anyone's DNS.
//
// Limits (RecordLimits): a record is at most 4096 bytes and 512 terms. Section 3.4 asks
// publishers to fit an answer in 512 octets; a TXT answer can hold up to 64 KiB, so
// these are generous bounds on what a record can make us hold and walk, not on what
// publishers write. A record over either is a permerror (TooBig).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "spf/address.h"

namespace rampart::spf {

struct RecordLimits {
  std::size_t max_bytes = 4096;
  std::size_t max_terms = 512;
};

// Section 4.6.2: what a matching mechanism makes the result.
enum class Qualifier : std::uint8_t { Pass, Fail, SoftFail, Neutral };

enum class Mechanism : std::uint8_t { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists };

struct Directive {
  Qualifier qualifier = Qualifier::Pass;
  Mechanism mechanism = Mechanism::All;
  // A valid domain-spec (macro.h); empty for a, mx and ptr without one (the <domain>).
  std::string domain_spec;
  Address network;   // ip4, ip6
  int cidr4 = 32;    // a, mx, ip4
  int cidr6 = 128;   // a, mx, ip6
  std::string text;  // the term as written, for logs
};

struct Record {
  std::vector<Directive> directives;
  std::optional<std::string> redirect;     // redirect= domain-spec (section 6.1)
  std::optional<std::string> explanation;  // exp= domain-spec (section 6.2)
};

// Whether a TXT string is an SPF record: "v=spf1", in any case, ended by SP or the end
// (section 4.5; "v=spf10" is not one).
bool is_spf_record(std::string_view text);

// The record's terms; BadInput (a permerror) with what was wrong, TooBig past `limits`.
// Unknown modifiers are checked and dropped (section 6); exp= and redirect= at most
// once each (section 6).
Result<Record> parse_record(std::string_view text, const RecordLimits& limits = {});

}  // namespace rampart::spf
