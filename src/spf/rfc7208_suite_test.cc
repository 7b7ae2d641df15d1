// The OpenSPF test suite for RFC 7208 (testdata/rfc7208-tests.yml, release 2014.04 with
// the 2019.08 additions, as pyspf distributes it under the BSD-style licence in
// testdata/rfc7208-tests.LICENSE), run through check_host() on a FakeDns built from
// each scenario's zone data, read as pyspf's own driver (test/testspf.py) reads it:
// SPF-type records serve as TXT where a name has no TXT, "TXT: NONE" is a name without
// TXT records, TIMEOUT makes every lookup of the name time out but of the types listed
// before it, and a name absent from the zone is NXDOMAIN. A case passes when the result
// is one the case allows and, where it gives one, the explanation is the same ("DEFAULT"
// is the default explanation).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "spf/fake_dns.h"

namespace rampart::spf {
namespace {

// Where this implementation and the suite part, and why.
const std::map<std::string, std::string> kDeviations = {
    {"v-macro-ip6",
     "the suite expects %{i} of an IPv6 address in uppercase nibbles (pyspf's spelling); "
     "RFC 7208 section 7.4 spells them in lowercase, as this implementation does"},
};

std::vector<std::string> strings_of(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::vector<std::string> out;
    for (const YAML::Node& item : node) out.push_back(item.as<std::string>());
    return out;
  }
  return {node.as<std::string>()};
}

void load_name(FakeDns& dns, const std::string& name, const YAML::Node& entries) {
  dns.add_name(name);
  bool has_txt = false;
  for (const YAML::Node& entry : entries) {
    if (entry.IsMap() && entry["TXT"]) has_txt = true;
  }
  std::set<dns::Type> seen;
  std::vector<std::vector<std::string>> spf_records;
  for (const YAML::Node& entry : entries) {
    if (entry.IsScalar() && entry.as<std::string>() == "TIMEOUT") {
      dns.time_out(name, seen);
      continue;
    }
    for (const auto& field : entry) {
      const std::string type = field.first.as<std::string>();
      const YAML::Node& value = field.second;
      if (type == "SPF") {
        spf_records.push_back(strings_of(value));  // served as TXT after the others
      } else if (type == "TXT") {
        if (value.IsScalar() && value.as<std::string>() == "NONE") continue;
        dns.add_txt(name, strings_of(value));
        seen.insert(dns::Type::Txt);
      } else if (type == "A" || type == "AAAA") {
        dns.add_a(name, value.as<std::string>());
        seen.insert(type == "A" ? dns::Type::A : dns::Type::Aaaa);
      } else if (type == "MX") {
        dns.add_mx(name, value[0].as<int>(), value[1].as<std::string>());
        seen.insert(dns::Type::Mx);
      } else if (type == "PTR") {
        dns.add_ptr(name, value.as<std::string>());
        seen.insert(dns::Type::Ptr);
      } else if (type == "CNAME") {
        dns.add_cname(name, value.as<std::string>());
      } else {
        ADD_FAILURE() << "unknown record type " << type << " at " << name;
      }
    }
  }
  if (!has_txt) {
    for (const auto& strings : spf_records) dns.add_txt(name, strings);
  }
}

struct Case {
  std::string id;
  std::string scenario;
  std::string outcome;  // empty when it passed
};

TEST(Rfc7208Suite, PassesTheOpenSpfTestSuite) {
  const std::vector<YAML::Node> scenarios =
      YAML::LoadAllFromFile(std::string(RAMPART_SPF_TESTDATA) + "/rfc7208-tests.yml");
  std::vector<Case> cases;
  for (const YAML::Node& scenario : scenarios) {
    const std::string title = scenario["description"].as<std::string>();
    for (const auto& test : scenario["tests"]) {
      FakeDns dns;
      for (const auto& zone : scenario["zonedata"]) {
        load_name(dns, zone.first.as<std::string>(), zone.second);
      }
      const YAML::Node& spec = test.second;
      SpfRequest request{.client_ip = spec["host"].as<std::string>(),
                         .mail_from = spec["mailfrom"].as<std::string>(),
                         .helo = spec["helo"].as<std::string>(),
                         .receiver = spec["receiver"] ? spec["receiver"].as<std::string>() : "",
                         .default_explanation = "DEFAULT"};
      const SpfResult result = run_check_host(dns, request);
      const std::string verdict = verdict_name(result.verdict);
      const std::vector<std::string> allowed = strings_of(spec["result"]);
      Case done{.id = test.first.as<std::string>(), .scenario = title, .outcome = {}};
      if (std::find(allowed.begin(), allowed.end(), verdict) == allowed.end()) {
        done.outcome = verdict + " (" + result.reason + "), expected " + allowed.front();
      } else if (spec["explanation"] &&
                 spec["explanation"].as<std::string>() != result.explanation) {
        done.outcome = "explanation \"" + result.explanation + "\", expected \"" +
                       spec["explanation"].as<std::string>() + "\"";
      }
      cases.push_back(std::move(done));
    }
  }
  int passed = 0;
  for (const Case& one : cases) {
    if (one.outcome.empty()) {
      ++passed;
      continue;
    }
    if (auto deviation = kDeviations.find(one.id); deviation != kDeviations.end()) {
      std::cout << "known deviation: " << one.id << ": " << one.outcome << "\n  because "
                << deviation->second << "\n";
      continue;
    }
    ADD_FAILURE() << one.id << " (" << one.scenario << "): " << one.outcome;
  }
  std::cout << "OpenSPF RFC 7208 suite: " << passed << " of " << cases.size() << " cases pass\n";
  EXPECT_GE(passed + static_cast<int>(kDeviations.size()), static_cast<int>(cases.size()));
}

}  // namespace
}  // namespace rampart::spf
