// Shared by the mime module's own files: the defect sink, the charset converter and
// the helpers that report defects.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/ascii.h"
#include "mime/header.h"
#include "mime/message.h"

namespace rampart::mime {

// Where helpers record defects: a list (or nowhere) and the offset to record them at.
class Defects {
 public:
  Defects() = default;
  Defects(std::vector<Defect>* out, std::size_t offset) : out_(out), offset_(offset) {}
  void add(DefectKind kind) const {
    if (out_ != nullptr && out_->size() < kMaxDefects) out_->push_back({kind, offset_});
  }
  Defects at(std::size_t offset) const { return Defects(out_, offset); }

 private:
  std::vector<Defect>* out_ = nullptr;
  std::size_t offset_ = 0;
};

// Converts to UTF-8 through iconv, keeping each opened descriptor for the next call:
// one converter lives for one parse. Not thread-safe; cheap when never used.
class CharsetConverter {
 public:
  CharsetConverter() = default;
  CharsetConverter(const CharsetConverter&) = delete;
  CharsetConverter& operator=(const CharsetConverter&) = delete;
  ~CharsetConverter();

  // Appends `bytes` in `charset` to `out` as UTF-8 (see to_utf8 in body.h).
  void append_utf8(std::string_view bytes, std::string_view charset, std::string& out,
                   const Defects& defects);

 private:
  void* descriptor(const std::string& name);  // iconv_t, or nullptr if unknown
  struct Entry {
    std::string name;
    void* descriptor;
  };
  static constexpr int kMaxOpens = 64;
  std::vector<Entry> cache_;
  int opened_ = 0;
};

// Undeclared header text: UTF-8 kept, other 8-bit bytes read as windows-1252.
void append_undeclared(std::string_view bytes, std::string& out, const Defects& defects);

// Finds the end of the header section that starts at `begin` and collects its fields
// (offsets into `raw`), applying the header limits. header_end is where the blank line
// (or the first line that is not a field) starts, body_begin where the body starts.
struct HeaderScan {
  std::size_t header_end;
  std::size_t body_begin;
};
HeaderScan scan_header(std::string_view raw, std::size_t begin, std::size_t end,
                       const Limits& limits, std::vector<HeaderField>& fields,
                       const Defects& defects, bool top_level);

std::string decode_text(std::string_view value, CharsetConverter& charsets, const Defects& defects);
std::vector<Address> parse_address_list(std::string_view value, CharsetConverter& charsets,
                                        const Defects& defects);
ContentValue parse_content_value(std::string_view value, CharsetConverter& charsets,
                                 const Defects& defects);

// Skips an RFC 5322 comment starting at s[i] == '(' (nested, with quoted pairs).
void skip_comment(std::string_view s, std::size_t& i);

// ASCII helpers.
inline bool is_wsp(char c) { return c == ' ' || c == '\t'; }
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
std::string_view trim(std::string_view text);

}  // namespace rampart::mime
