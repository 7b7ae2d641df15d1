// SMTP replies from a hostile server: any bytes give replies, refusals or NeedMore;
// every call makes progress, every reply keeps within the limits and the grammar, and
// the steps are the same however the bytes are split (whole, one byte at a time, and
// cut where the first byte says). Each reply also goes through parse_ehlo.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/utf8.h"
#include "smtp/reply_parser.h"

namespace {

using rampart::smtp::BadReply;
using rampart::smtp::NeedMore;
using rampart::smtp::Reply;
using rampart::smtp::ReplyLimits;
using rampart::smtp::ReplyParser;
using rampart::smtp::ReplyStep;

using Outcome = std::variant<Reply, BadReply>;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "c.s.d" with 1 to 3 digits each and c the reply's class.
bool is_enhanced_code(std::string_view code, int reply_code) {
  if (code.size() < 5 || code[0] != '0' + reply_code / 100 || code[1] != '.') return false;
  int dots = 0;
  std::size_t digits = 0;
  for (char c : code.substr(2)) {
    if (c == '.') {
      if (digits == 0 || ++dots > 1) return false;
      digits = 0;
    } else if (!is_digit(c) || ++digits > 3) {
      return false;
    }
  }
  return dots == 1 && digits > 0;
}

void check_reply(const Reply& reply, const ReplyLimits& limits) {
  check(reply.code >= 200 && reply.code <= 599);
  check(reply.positive() + reply.intermediate() + reply.transient() + reply.permanent() == 1);
  check(!reply.lines.empty() && reply.lines.size() <= limits.max_lines);
  check(reply.enhanced.empty() ||
        (reply.code / 100 != 3 && is_enhanced_code(reply.enhanced, reply.code)));
  for (const std::string& line : reply.lines) {
    check(line.size() + 4 < limits.max_line);  // "250 " and a line end around it
    check(rampart::is_valid_utf8(line));
    check(std::none_of(line.begin(), line.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return (byte < 0x20 && c != '\t') || byte == 0x7f;
    }));
  }
  const auto capabilities = rampart::smtp::parse_ehlo(reply);
  check(capabilities.size || capabilities.max_size == 0);
  const auto& mechanisms = capabilities.auth_mechanisms;
  for (std::size_t i = 0; i < mechanisms.size(); ++i) {
    check(!mechanisms[i].empty() && mechanisms[i].size() <= 20);
    check(std::find(mechanisms.begin() + static_cast<std::ptrdiff_t>(i) + 1, mechanisms.end(),
                    mechanisms[i]) == mechanisms.end());
  }
}

// The bytes of a reply that followed another one: its lines, one entry each, every one
// with the reply's code, '-' after it on all but the last.
void check_reply_bytes(const Reply& reply, std::string_view bytes) {
  const std::string code = std::to_string(reply.code);
  std::size_t count = 0;
  while (!bytes.empty()) {
    const std::size_t end = bytes.find('\n');
    check(end != std::string_view::npos);
    const std::string_view line = bytes.substr(0, end);
    bytes.remove_prefix(end + 1);
    check(line.substr(0, 3) == code);
    const char separator = line.size() > 3 ? line[3] : '\r';
    check(bytes.empty() ? separator == ' ' || separator == '\r' : separator == '-');
    check(count < reply.lines.size() && reply.lines[count].size() + 3 <= line.size());
    ++count;
  }
  check(count == reply.lines.size());
}

// Feeds `chunks`, consecutive pieces of `bytes`, to one parser.
std::vector<Outcome> run(const ReplyLimits& limits, std::string_view bytes,
                         const std::vector<std::string_view>& chunks) {
  ReplyParser parser(limits);
  std::vector<Outcome> outcomes;
  std::size_t consumed = 0;
  std::size_t reply_start = 0;  // where the bytes of the next reply start
  bool after_reply = true;      // no refusal since: the parser starts at a line
  for (std::string_view input : chunks) {
    while (!input.empty()) {
      const std::size_t before = input.size();
      ReplyStep step = parser.feed(input);
      consumed += before - input.size();
      if (std::holds_alternative<NeedMore>(step)) {
        check(input.empty());  // NeedMore means it took every byte
        continue;
      }
      check(input.size() < before);  // no progress: would hang the client
      if (auto* reply = std::get_if<Reply>(&step)) {
        check(bytes[consumed - 1] == '\n');  // a reply ends a line
        check_reply(*reply, limits);
        if (after_reply)
          check_reply_bytes(*reply, bytes.substr(reply_start, consumed - reply_start));
        after_reply = true;
        outcomes.push_back(std::move(*reply));
      } else {
        after_reply = false;
        outcomes.push_back(std::get<BadReply>(std::move(step)));
      }
      reply_start = consumed;
    }
  }
  return outcomes;
}

void check_splits(const ReplyLimits& limits, std::string_view bytes, std::size_t cut) {
  const std::vector<Outcome> whole = run(limits, bytes, {bytes});
  check(run(limits, bytes, {bytes.substr(0, cut), bytes.substr(cut)}) == whole);
  std::vector<std::string_view> single_bytes;
  for (std::size_t i = 0; i < bytes.size(); ++i) single_bytes.push_back(bytes.substr(i, 1));
  check(run(limits, bytes, single_bytes) == whole);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = size == 0 ? 0 : data[0] * size / 256;
  check_splits({.max_line = 64, .max_lines = 6}, bytes, cut);
  check_splits({}, bytes, cut);
  return 0;
}
