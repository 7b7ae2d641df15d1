// RFC 2047 encoded words in unstructured text and phrases.
#include <optional>

#include "mime/body.h"
#include "mime/parse_internal.h"

namespace rampart::mime {
namespace {

struct EncodedWord {
  std::string_view charset;  // without an RFC 2231 "*language" suffix
  char encoding;             // 'b' or 'q'
  std::string_view text;
  std::size_t length;  // of the whole "=?...?=" word
};

enum class Match { Word, NotAWord, Invalid };

constexpr std::size_t kMaxCharsetName = 75;

// Reads "=?charset?X?text?=" at text[at]. An unknown encoding letter makes it an
// invalid word. `close` caches where the next "?=" is, so that a header full of "=?"
// is read in linear time.
Match match_encoded_word(std::string_view text, std::size_t at, std::size_t& close,
                         EncodedWord& word) {
  const std::string_view s = text.substr(at);
  const std::size_t q1 = s.substr(0, kMaxCharsetName + 3).find('?', 2);
  if (q1 == std::string_view::npos || q1 == 2) return Match::NotAWord;
  std::string_view charset = s.substr(2, q1 - 2);
  for (char c : charset) {
    if (is_space(c) || c == '=' || static_cast<unsigned char>(c) < 0x20) return Match::NotAWord;
  }
  if (q1 + 2 >= s.size() || s[q1 + 2] != '?') return Match::NotAWord;
  if (close != std::string_view::npos && close < at + q1 + 3) {
    close = text.find("?=", at + q1 + 3);
  }
  if (close == std::string_view::npos) return Match::NotAWord;
  const std::size_t end = close - at;
  const std::string_view encoded = s.substr(q1 + 3, end - (q1 + 3));
  // RFC 2047 §5 forbids spaces inside a word, but some mailers put them in Q text, and
  // readers (GMime, Thunderbird) decode those; in B text a space means it is no word.
  const char encoding = ascii_lower(s[q1 + 1]);
  for (char c : encoded) {
    if (c == '\r' || c == '\n' || (encoding != 'q' && is_space(c))) return Match::NotAWord;
  }
  const std::size_t star = charset.find('*');
  if (star != std::string_view::npos) charset = charset.substr(0, star);
  word.charset = charset;
  word.encoding = encoding;
  word.text = encoded;
  word.length = end + 2;
  if (word.encoding != 'b' && word.encoding != 'q') return Match::Invalid;
  return Match::Word;
}

bool is_all_whitespace(std::string_view text) {
  for (char c : text) {
    if (!is_space(c)) return false;
  }
  return true;
}

}  // namespace

std::string decode_text(std::string_view value, CharsetConverter& charsets,
                        const Defects& defects) {
  // Unfold: the line ends of folded lines go, their whitespace stays.
  std::string unfolded;
  unfolded.reserve(value.size());
  for (char c : value) {
    if (c != '\r' && c != '\n') unfolded.push_back(c);
  }
  const std::string_view text = trim(unfolded);

  std::string out;
  out.reserve(text.size());
  std::string pending;  // decoded bytes of adjacent words in one charset
  std::string_view pending_charset;
  auto flush = [&] {
    if (!pending.empty()) charsets.append_utf8(pending, pending_charset, out, defects);
    pending.clear();
  };

  bool after_word = false;
  std::size_t close = 0;
  std::size_t literal_begin = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t p = text.find("=?", i);
    if (p == std::string_view::npos) break;
    EncodedWord word;
    const Match match = match_encoded_word(text, p, close, word);
    if (match != Match::Word) {
      if (match == Match::Invalid) defects.add(DefectKind::InvalidEncodedWord);
      i = p + 2;
      continue;
    }
    bool damaged = false;
    std::string bytes = word.encoding == 'b'
                            ? decode_base64(word.text, &damaged)
                            : decode_quoted_printable(word.text, &damaged, /*header_q=*/true);
    if (word.encoding == 'b' && damaged) {
      // Not base64 at all: leave the word as it is.
      defects.add(DefectKind::InvalidEncodedWord);
      i = p + 2;
      continue;
    }
    const std::string_view literal = text.substr(literal_begin, p - literal_begin);
    // RFC 2047 §6.2: whitespace between adjacent encoded words is not displayed.
    if (!(after_word && is_all_whitespace(literal))) {
      flush();
      append_undeclared(literal, out, defects);
    }
    // Adjacent words in one charset are joined before conversion: senders split
    // multi-byte characters (and ISO-2022-JP escapes) across words.
    if (!pending.empty() && !iequals(pending_charset, word.charset)) flush();
    pending_charset = word.charset;
    pending += bytes;
    after_word = true;
    i = literal_begin = p + word.length;
  }
  flush();
  append_undeclared(text.substr(literal_begin), out, defects);
  return out;
}

std::string decode_text(std::string_view value) {
  CharsetConverter charsets;
  return decode_text(value, charsets, Defects());
}

}  // namespace rampart::mime
