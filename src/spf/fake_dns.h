// An in-memory DNS for the SPF tests: records by name and type, names that time out
// or fail, CNAMEs followed as a resolver would; and a way to run check_host() on it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spf/check_host.h"

namespace rampart::spf {

class FakeDns {
 public:
  // Every add_* makes the name exist; a name never added is NXDOMAIN.
  void add_name(std::string_view name);
  void add_txt(std::string_view name, const std::vector<std::string>& strings);
  void add_txt(std::string_view name, const std::string& text) {
    add_txt(name, std::vector<std::string>{text});
  }
  void add_a(std::string_view name, std::string_view address);  // "192.0.2.1" or "2001:db8::1"
  void add_mx(std::string_view name, int preference, std::string_view host);
  void add_ptr(std::string_view name, std::string_view host);
  void add_cname(std::string_view name, std::string_view target);
  // Lookups of `name` fail (TryLater), but of the types in `except`.
  void time_out(std::string_view name, std::set<dns::Type> except = {});
  // Lookups of `name` answer SERVFAIL.
  void serve_failure(std::string_view name);

  SpfLookup lookup();
  Result<dns::Answer> answer(std::string name, dns::Type type, int depth = 0) const;

  // The queries asked, in order.
  std::vector<std::pair<std::string, dns::Type>> queries;

 private:
  struct Node {
    std::map<dns::Type, std::vector<std::string>> records;
    std::string cname;
    bool times_out = false;
    std::set<dns::Type> answers_anyway;
    bool servfail = false;
  };
  Node& node(std::string_view name);
  std::map<std::string, Node> nodes_;
};

// A DNS name in wire format, uncompressed.
std::string wire_name(std::string_view name);

// Runs check_host() to its end on a fresh io_context.
SpfResult run_check_host(FakeDns& dns, const SpfRequest& request);

}  // namespace rampart::spf
