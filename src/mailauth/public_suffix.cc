#include "mailauth/public_suffix.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "base/ascii.h"

namespace rampart::mailauth {

namespace {

std::vector<std::string_view> labels_of(std::string_view domain) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const auto dot = domain.find('.', start);
    const auto end = dot == std::string_view::npos ? domain.size() : dot;
    labels.push_back(domain.substr(start, end - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels;
}

// The last `count` labels of `labels`, joined.
std::string suffix(const std::vector<std::string_view>& labels, std::size_t count) {
  std::string out;
  for (std::size_t i = labels.size() - count; i < labels.size(); ++i) {
    if (!out.empty()) out += '.';
    out += labels[i];
  }
  return out;
}

}  // namespace

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
  PublicSuffixList list;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    // A rule is the line up to its first white space.
    const auto space = line.find_first_of(" \t\r");
    if (space != std::string_view::npos) line = line.substr(0, space);
    if (line.empty() || line.starts_with("//")) continue;
    if (line.starts_with("!")) {
      list.exceptions_.insert(lowercase(line.substr(1)));
    } else if (line.starts_with("*.")) {
      list.wildcards_.insert(lowercase(line.substr(2)));
    } else {
      list.rules_.insert(lowercase(line));
    }
  }
  return list;
}

PublicSuffixList PublicSuffixList::load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  const std::string name = lowercase(domain);
  const std::vector<std::string_view> labels = labels_of(name);
  if (labels.size() <= 1) return name;
  // The number of labels of the public suffix: the longest rule that matches.
  std::size_t public_labels = 1;  // "*": an unlisted top-level domain is one
  for (std::size_t count = labels.size(); count >= 1; --count) {
    const std::string candidate = suffix(labels, count);
    if (exceptions_.contains(candidate)) {
      public_labels = count - 1;  // an exception: its parent is the suffix
      break;
    }
    if (rules_.contains(candidate)) {
      public_labels = std::max(public_labels, count);
      break;
    }
    if (count >= 2 && wildcards_.contains(suffix(labels, count - 1))) {
      public_labels = std::max(public_labels, count);
      break;
    }
  }
  if (public_labels >= labels.size()) return name;  // a public suffix itself
  return suffix(labels, public_labels + 1);
}

}  // namespace rampart::mailauth
