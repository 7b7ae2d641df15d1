#include "mime/body.h"

#include <array>
#include <cstdint>

#include "mime/parse_internal.h"

namespace rampart::mime {
namespace {

constexpr std::array<std::int8_t, 256> make_base64_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& value : table) value = -1;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}
constexpr auto kBase64 = make_base64_table();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string decode_base64(std::string_view encoded, bool* damaged) {
  std::string out;
  out.reserve(encoded.size() / 4 * 3 + 3);
  std::uint32_t accumulator = 0;
  int bits = 0;
  bool bad = false;
  for (char c : encoded) {
    const std::int8_t value = kBase64[static_cast<unsigned char>(c)];
    if (value < 0) {
      // Line ends and padding are expected; anything else is damage, skipped.
      if (!is_space(c) && c != '=') bad = true;
      continue;
    }
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xFF));
    }
  }
  // A lone sextet at the end carries no whole byte.
  if (bits >= 6) bad = true;
  if (damaged != nullptr) *damaged = bad;
  return out;
}

std::string decode_quoted_printable(std::string_view encoded, bool* damaged, bool header_q) {
  std::string out;
  out.reserve(encoded.size());
  bool bad = false;
  std::size_t i = 0;
  const std::size_t n = encoded.size();
  while (i < n) {
    const char c = encoded[i];
    if (c == '=') {
      if (i + 2 < n && hex_value(encoded[i + 1]) >= 0 && hex_value(encoded[i + 2]) >= 0) {
        out.push_back(
            static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2])));
        i += 3;
        continue;
      }
      // A soft line break: '=', optional trailing whitespace, then the line end.
      std::size_t j = i + 1;
      while (j < n && is_wsp(encoded[j])) ++j;
      if (j < n && encoded[j] == '\r' && j + 1 < n && encoded[j + 1] == '\n') {
        i = j + 2;
        continue;
      }
      if (j < n && encoded[j] == '\n') {
        i = j + 1;
        continue;
      }
      if (j == n) {  // '=' at the very end: a soft break before the end of the body
        i = n;
        continue;
      }
      bad = true;
      out.push_back('=');
      ++i;
      continue;
    }
    if (is_wsp(c) && !header_q) {
      // RFC 2045 §6.7 (3): whitespace at the end of a line was added in transit.
      std::size_t j = i;
      while (j < n && is_wsp(encoded[j])) ++j;
      if (j == n || encoded[j] == '\n' ||
          (encoded[j] == '\r' && j + 1 < n && encoded[j + 1] == '\n')) {
        i = j;
        continue;
      }
      out.append(encoded.substr(i, j - i));
      i = j;
      continue;
    }
    out.push_back(header_q && c == '_' ? ' ' : c);
    ++i;
  }
  if (damaged != nullptr) *damaged = bad;
  return out;
}

std::string decode_body(std::string_view raw, const Part& part, bool* damaged) {
  if (damaged != nullptr) *damaged = false;
  if (part.body_end > raw.size() || part.body_begin > part.body_end) {
    if (damaged != nullptr) *damaged = true;
    return {};
  }
  const std::string_view body = raw.substr(part.body_begin, part.size());
  if (part.transfer_encoding == "base64") return decode_base64(body, damaged);
  if (part.transfer_encoding == "quoted-printable") return decode_quoted_printable(body, damaged);
  return std::string(body);
}

std::string decode_text_body(std::string_view raw, const Part& part, bool* damaged) {
  bool transfer_damaged = false;
  const std::string bytes = decode_body(raw, part, &transfer_damaged);
  bool charset_damaged = false;
  std::string text = to_utf8(bytes, part.charset, &charset_damaged);
  if (damaged != nullptr) *damaged = transfer_damaged || charset_damaged;
  return text;
}

}  // namespace rampart::mime
