#include <strings.h>

#include <algorithm>
#include <array>

#include "base/utf8.h"
#include "store/names_internal.h"

namespace rampart::store {
namespace {

constexpr std::array<std::string_view, 5> kSystemFlags = {"\\Answered", "\\Deleted", "\\Draft",
                                                          "\\Flagged", "\\Seen"};

// RFC 3501 §9: atom-char excludes specials, and a keyword may not contain ']' either.
bool is_atom_char(char c) {
  return c > 0x20 && c < 0x7f && std::string_view("(){%*\"\\]").find(c) == std::string_view::npos;
}

}  // namespace

Result<std::string> normalize_mailbox_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMailboxNameBytes) {
    return fail(Errc::BadInput, "mailbox name length");
  }
  if (name.front() == '/' || name.back() == '/' || name.find("//") != std::string_view::npos) {
    return fail(Errc::BadInput, "empty level in mailbox name");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return fail(Errc::BadInput, "control character in mailbox name");
  }
  // "." and ".." levels mean nothing here (names never become paths), but every
  // client and exporter that maps mailboxes onto directories would be misled by them.
  for (std::size_t start = 0; start <= name.size();) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string_view level = name.substr(start, end - start);
    if (level == "." || level == "..") return fail(Errc::BadInput, "dot level in mailbox name");
    start = end + 1;
  }
  if (!is_valid_utf8(name)) return fail(Errc::BadInput, "mailbox name is not UTF-8");
  std::string out(name);
  const std::size_t first_level = std::min(out.find('/'), out.size());
  if (first_level == 5 && ::strncasecmp(out.c_str(), "inbox", 5) == 0) out.replace(0, 5, "INBOX");
  return out;
}

std::vector<std::string> mailbox_parents(std::string_view name) {
  std::vector<std::string> parents;
  for (std::size_t slash = name.find('/'); slash != std::string_view::npos;
       slash = name.find('/', slash + 1)) {
    parents.emplace_back(name.substr(0, slash));
  }
  return parents;
}

Result<Flags> normalize_flags(const Flags& flags) {
  Flags out;
  for (const auto& flag : flags) {
    if (flag.starts_with('\\')) {
      auto system = std::find_if(kSystemFlags.begin(), kSystemFlags.end(), [&](auto known) {
        return known.size() == flag.size() && ::strcasecmp(known.data(), flag.c_str()) == 0;
      });
      if (system == kSystemFlags.end()) return fail(Errc::BadInput, "unknown system flag");
      out.emplace_back(*system);
    } else if (flag.empty() || !std::all_of(flag.begin(), flag.end(), is_atom_char)) {
      return fail(Errc::BadInput, "keyword is not an atom");
    } else {
      out.push_back(flag);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string join_flags(const Flags& flags) {
  std::string joined;
  for (const auto& flag : flags) {
    if (!joined.empty()) joined += ' ';
    joined += flag;
  }
  return joined;
}

Flags split_flags(std::string_view joined) {
  Flags flags;
  while (!joined.empty()) {
    const std::size_t space = std::min(joined.find(' '), joined.size());
    flags.emplace_back(joined.substr(0, space));
    joined.remove_prefix(std::min(space + 1, joined.size()));
  }
  return flags;
}

}  // namespace rampart::store
