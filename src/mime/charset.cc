// Charsets to UTF-8. us-ascii, utf-8 and the Latin-1 family are converted here
// without iconv (they are most of the mail); everything else goes through glibc iconv.
#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstdint>

#include "base/utf8.h"
#include "mime/body.h"
#include "mime/parse_internal.h"

namespace rampart::mime {
namespace {

// windows-1252 0x80..0x9F; 0 where the byte is undefined (mapped to U+FFFD).
constexpr std::array<std::uint16_t, 32> kWindows1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_code_point(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

void append_windows1252_byte(unsigned char byte, std::string& out) {
  if (byte >= 0x80 && byte < 0xA0) {
    const std::uint16_t cp = kWindows1252High[byte - 0x80];
    if (cp == 0) {
      out.append(kReplacement);
    } else {
      append_code_point(cp, out);
    }
  } else {
    append_code_point(byte, out);
  }
}

enum class Fallback { Windows1252, Replacement };

// Appends UTF-8 input, replacing what is not valid UTF-8.
void append_utf8_checked(std::string_view bytes, Fallback fallback, std::string& out,
                         const Defects& defects) {
  bool reported = false;
  while (!bytes.empty()) {
    // Fast path: runs of ASCII.
    std::size_t ascii = 0;
    while (ascii < bytes.size() && static_cast<unsigned char>(bytes[ascii]) < 0x80) ++ascii;
    out.append(bytes.substr(0, ascii));
    bytes.remove_prefix(ascii);
    if (bytes.empty()) break;
    const std::size_t length = utf8_sequence_length(bytes);
    if (length > 0) {
      out.append(bytes.substr(0, length));
      bytes.remove_prefix(length);
      continue;
    }
    if (!reported) {
      defects.add(fallback == Fallback::Windows1252 ? DefectKind::UndeclaredEightBit
                                                    : DefectKind::InvalidCharsetData);
      reported = true;
    }
    if (fallback == Fallback::Windows1252) {
      append_windows1252_byte(static_cast<unsigned char>(bytes[0]), out);
    } else {
      out.append(kReplacement);
    }
    bytes.remove_prefix(1);
  }
}

enum class Family { Utf8, Ascii, Latin1, Other };

// The charset name as iconv knows it, and whether it is one converted here. Names
// are limited to a safe alphabet: iconv would read "//" suffixes as options.
Family normalize(std::string_view charset, std::string& name) {
  charset = trim(charset);
  if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
    charset = charset.substr(1, charset.size() - 2);
  }
  name.clear();
  for (char c : charset) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == ':';
    if (!safe || name.size() >= 40) {
      name = "?";
      return Family::Other;
    }
    name.push_back(ascii_lower(c));
  }
  if (name.empty() || name == "us-ascii" || name == "ascii" || name == "us_ascii" ||
      name == "ansi_x3.4-1968" || name == "iso646-us" || name == "646") {
    return Family::Ascii;
  }
  if (name == "utf-8" || name == "utf8") return Family::Utf8;
  // WHATWG: ISO-8859-1 and Latin-1 labels mean windows-1252 in practice.
  if (name == "iso-8859-1" || name == "iso8859-1" || name == "iso_8859-1" || name == "latin1" ||
      name == "l1" || name == "windows-1252" || name == "cp1252" || name == "x-cp1252" ||
      name == "iso-8859-1:1987" || name == "iso_8859-1:1987") {
    return Family::Latin1;
  }
  // Labels mail uses that iconv lacks or reads more narrowly.
  static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
      {"ks_c_5601-1987", "cp949"}, {"ks_c_5601", "cp949"},       {"euc-kr", "cp949"},
      {"gb2312", "gb18030"},       {"gbk", "gb18030"},           {"x-gbk", "gb18030"},
      {"shift_jis", "cp932"},      {"x-sjis", "cp932"},          {"sjis", "cp932"},
      {"windows-31j", "cp932"},    {"x-mac-roman", "macintosh"}, {"utf-7", "utf-7"},
  };
  for (const auto& [alias, real] : kAliases) {
    if (name == alias) {
      name = real;
      break;
    }
  }
  return Family::Other;
}

}  // namespace

void append_undeclared(std::string_view bytes, std::string& out, const Defects& defects) {
  append_utf8_checked(bytes, Fallback::Windows1252, out, defects);
}

CharsetConverter::~CharsetConverter() {
  for (auto& entry : cache_) {
    if (entry.descriptor != nullptr) iconv_close(static_cast<iconv_t>(entry.descriptor));
  }
}

void* CharsetConverter::descriptor(const std::string& name) {
  for (auto& entry : cache_) {
    if (entry.name == name) return entry.descriptor;
  }
  void* descriptor = nullptr;
  // A header naming thousands of charsets must not cost thousands of iconv_open calls.
  if (name != "?" && opened_++ < kMaxOpens) {
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd != reinterpret_cast<iconv_t>(-1)) descriptor = cd;
  }
  // A message naming many charsets: keep the cache small, closing the oldest.
  if (cache_.size() >= 16) {
    if (cache_.front().descriptor != nullptr) {
      iconv_close(static_cast<iconv_t>(cache_.front().descriptor));
    }
    cache_.erase(cache_.begin());
  }
  cache_.push_back({name, descriptor});
  return descriptor;
}

void CharsetConverter::append_utf8(std::string_view bytes, std::string_view charset,
                                   std::string& out, const Defects& defects) {
  std::string name;
  switch (normalize(charset, name)) {
    case Family::Ascii:
      return append_utf8_checked(bytes, Fallback::Windows1252, out, defects);
    case Family::Utf8:
      return append_utf8_checked(bytes, Fallback::Replacement, out, defects);
    case Family::Latin1:
      for (char c : bytes) append_windows1252_byte(static_cast<unsigned char>(c), out);
      return;
    case Family::Other:
      break;
  }
  void* cd = descriptor(name);
  if (cd == nullptr) {
    defects.add(DefectKind::UnknownCharset);
    out.append(bytes);
    return;
  }
  iconv_t converter = static_cast<iconv_t>(cd);
  iconv(converter, nullptr, nullptr, nullptr, nullptr);  // initial shift state
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  bool reported = false;
  std::array<char, 4096> buffer;
  while (true) {
    char* out_ptr = buffer.data();
    std::size_t out_left = buffer.size();
    const std::size_t result = in_left == 0
                                   ? iconv(converter, nullptr, nullptr, &out_ptr, &out_left)
                                   : iconv(converter, &in, &in_left, &out_ptr, &out_left);
    out.append(buffer.data(), buffer.size() - out_left);
    if (result != static_cast<std::size_t>(-1)) {
      if (in_left == 0) {
        // Flush the shift state once more if input was consumed by this call.
        out_ptr = buffer.data();
        out_left = buffer.size();
        iconv(converter, nullptr, nullptr, &out_ptr, &out_left);
        out.append(buffer.data(), buffer.size() - out_left);
        return;
      }
      continue;
    }
    if (errno == E2BIG) continue;
    // EILSEQ or EINVAL (truncated at the end): replace one byte and go on.
    if (!reported) {
      defects.add(DefectKind::InvalidCharsetData);
      reported = true;
    }
    out.append(kReplacement);
    if (in_left == 0) return;
    ++in;
    --in_left;
    iconv(converter, nullptr, nullptr, nullptr, nullptr);
  }
}

std::string to_utf8(std::string_view bytes, std::string_view charset, bool* damaged, bool* known) {
  std::vector<Defect> found;
  CharsetConverter converter;
  std::string out;
  out.reserve(bytes.size());
  converter.append_utf8(bytes, charset, out, Defects(&found, 0));
  bool unknown = false;
  bool bad = false;
  for (const Defect& defect : found) {
    unknown |= defect.kind == DefectKind::UnknownCharset;
    bad |= defect.kind == DefectKind::InvalidCharsetData ||
           defect.kind == DefectKind::UndeclaredEightBit;
  }
  if (damaged != nullptr) *damaged = bad || unknown;
  if (known != nullptr) *known = !unknown;
  return out;
}

}  // namespace rampart::mime
