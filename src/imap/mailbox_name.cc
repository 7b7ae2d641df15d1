#include "imap/mailbox_name.h"

#include <cstdint>
#include <vector>

namespace rampart::imap {
namespace {

// RFC 3501 §5.1.3: base64 with ',' in place of '/', no padding.
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xc0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xe0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

// Decodes one UTF-8 sequence at `i` (valid input assumed); advances `i`.
std::uint32_t next_code_point(std::string_view utf8, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(utf8[k]); };
  const unsigned char lead = byte(i);
  int extra = lead < 0x80 ? 0 : lead < 0xe0 ? 1 : lead < 0xf0 ? 2 : 3;
  std::uint32_t code_point = extra == 0   ? lead
                             : extra == 1 ? (lead & 0x1f)
                             : extra == 2 ? (lead & 0x0f)
                                          : (lead & 0x07);
  ++i;
  for (; extra > 0 && i < utf8.size(); --extra, ++i)
    code_point = (code_point << 6) | (byte(i) & 0x3f);
  return code_point;
}

void flush_utf16(std::string& out, std::vector<std::uint16_t>& units) {
  if (units.empty()) return;
  out += '&';
  std::uint32_t bits = 0;
  int count = 0;
  for (std::uint16_t unit : units) {
    bits = (bits << 16) | unit;
    count += 16;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 0x3f];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 0x3f];
  out += '-';
  units.clear();
}

}  // namespace

std::string encode_mutf7(std::string_view utf8) {
  std::string out;
  std::vector<std::uint16_t> units;
  for (std::size_t i = 0; i < utf8.size();) {
    const std::uint32_t code_point = next_code_point(utf8, i);
    if (code_point >= 0x20 && code_point <= 0x7e) {
      flush_utf16(out, units);
      out += code_point == '&' ? "&-" : std::string(1, static_cast<char>(code_point));
    } else if (code_point >= 0x10000) {
      const std::uint32_t offset = code_point - 0x10000;
      units.push_back(static_cast<std::uint16_t>(0xd800 | (offset >> 10)));
      units.push_back(static_cast<std::uint16_t>(0xdc00 | (offset & 0x3ff)));
    } else {
      units.push_back(static_cast<std::uint16_t>(code_point));
    }
  }
  flush_utf16(out, units);
  return out;
}

std::optional<std::string> decode_mutf7(std::string_view mutf7) {
  std::string out;
  bool previous_was_encoded = false;
  for (std::size_t i = 0; i < mutf7.size();) {
    const unsigned char c = static_cast<unsigned char>(mutf7[i]);
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    if (c != '&') {
      out += static_cast<char>(c);
      previous_was_encoded = false;
      ++i;
      continue;
    }
    const std::size_t end = mutf7.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {  // "&-" is '&'
      out += '&';
      previous_was_encoded = false;
      i = end + 1;
      continue;
    }
    if (previous_was_encoded) return std::nullopt;  // "&AOQ-&AOQ-" must be one run
    std::uint32_t bits = 0;
    int count = 0;
    std::uint32_t high_surrogate = 0;
    bool any = false;
    for (std::size_t k = i + 1; k < end; ++k) {
      const int value = value_of(mutf7[k]);
      if (value < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(value);
      count += 6;
      if (count < 16) continue;
      count -= 16;
      const std::uint32_t unit = (bits >> count) & 0xffff;
      bits &= (1u << count) - 1;
      any = true;
      if (high_surrogate) {
        if (unit < 0xdc00 || unit > 0xdfff) return std::nullopt;
        append_utf8(out, 0x10000 + ((high_surrogate - 0xd800) << 10) + (unit - 0xdc00));
        high_surrogate = 0;
      } else if (unit >= 0xd800 && unit <= 0xdbff) {
        high_surrogate = unit;
      } else if ((unit >= 0xdc00 && unit <= 0xdfff) || (unit >= 0x20 && unit <= 0x7e)) {
        return std::nullopt;  // lone low surrogate, or printable ASCII that must be direct
      } else {
        append_utf8(out, unit);
      }
    }
    // Leftover bits must be fewer than 6 and zero.
    if (!any || high_surrogate || count >= 6 || bits != 0) return std::nullopt;
    previous_was_encoded = true;
    i = end + 1;
  }
  return out;
}

}  // namespace rampart::imap
