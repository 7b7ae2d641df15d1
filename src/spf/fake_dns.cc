#include "spf/fake_dns.h"

#include <arpa/inet.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <stdexcept>

#include "base/ascii.h"

namespace rampart::spf {

namespace asio = boost::asio;

namespace {

std::string key(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return lowercase(name);
}

asio::awaitable<Result<dns::Answer>> respond(Result<dns::Answer> answer) { co_return answer; }

}  // namespace

std::string wire_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out;
  std::size_t start = 0;
  while (!name.empty() && start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    const std::string_view label = name.substr(start, dot - start);
    out += static_cast<char>(label.size());
    out += label;
    start = dot + 1;
  }
  return out + '\0';
}

FakeDns::Node& FakeDns::node(std::string_view name) { return nodes_[key(name)]; }

void FakeDns::add_name(std::string_view name) { node(name); }

void FakeDns::add_txt(std::string_view name, const std::vector<std::string>& strings) {
  std::string rdata;
  for (const std::string& text : strings) {
    std::size_t pos = 0;
    do {
      const std::string piece = text.substr(pos, 255);
      rdata += static_cast<char>(piece.size());
      rdata += piece;
      pos += 255;
    } while (pos < text.size());
  }
  node(name).records[dns::Type::Txt].push_back(rdata);
}

void FakeDns::add_a(std::string_view name, std::string_view address) {
  const std::string text(address);
  unsigned char bytes[16];
  if (::inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    node(name).records[dns::Type::A].emplace_back(reinterpret_cast<char*>(bytes), 4);
  } else if (::inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    node(name).records[dns::Type::Aaaa].emplace_back(reinterpret_cast<char*>(bytes), 16);
  } else {
    throw std::invalid_argument("not an address: " + text);
  }
}

void FakeDns::add_mx(std::string_view name, int preference, std::string_view host) {
  std::string rdata;
  rdata += static_cast<char>(preference >> 8);
  rdata += static_cast<char>(preference & 0xff);
  node(name).records[dns::Type::Mx].push_back(rdata + wire_name(host));
}

void FakeDns::add_ptr(std::string_view name, std::string_view host) {
  node(name).records[dns::Type::Ptr].push_back(wire_name(host));
}

void FakeDns::add_cname(std::string_view name, std::string_view target) {
  node(name).cname = key(target);
}

void FakeDns::time_out(std::string_view name, std::set<dns::Type> except) {
  Node& timing_out = node(name);
  timing_out.times_out = true;
  timing_out.answers_anyway = std::move(except);
}

void FakeDns::serve_failure(std::string_view name) { node(name).servfail = true; }

Result<dns::Answer> FakeDns::answer(std::string name, dns::Type type, int depth) const {
  dns::Answer answer;
  const auto found = nodes_.find(key(name));
  if (found == nodes_.end()) {
    answer.nxdomain = true;
    answer.rcode = 3;
    return answer;
  }
  const Node& node = found->second;
  if (node.servfail || depth > 8) {  // a CNAME loop is a server failure too
    answer.rcode = 2;
    return answer;
  }
  if (node.times_out && !node.answers_anyway.contains(type)) {
    return fail(Errc::TryLater, "DNS: no answer for " + name + " in time");
  }
  if (auto records = node.records.find(type); records != node.records.end()) {
    answer.rdata = records->second;
  } else if (!node.cname.empty()) {
    return this->answer(node.cname, type, depth + 1);
  }
  return answer;
}

SpfLookup FakeDns::lookup() {
  return [this](std::string name, dns::Type type) {
    queries.emplace_back(name, type);
    return respond(answer(name, type));
  };
}

SpfResult run_check_host(FakeDns& dns, const SpfRequest& request) {
  asio::io_context io;
  std::optional<SpfResult> result;
  asio::co_spawn(io, check_host(dns.lookup(), request),
                 [&](std::exception_ptr error, SpfResult done) {
                   if (error) std::rethrow_exception(error);
                   result = std::move(done);
                 });
  io.run();
  return *result;
}

}  // namespace rampart::spf
