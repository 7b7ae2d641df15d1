// The vCard reader: unfolding (RFC 6350 §3.2), the content line grammar (§3.3), the
// BEGIN/END structure with AGENT's embedded vCards, every limit, then the index a Card
// keeps. vcard.h lists what is accepted beyond the RFCs and why.
#include "contacts/vcard.h"

#include <optional>
#include <string>
#include <utility>

#include "base/ascii.h"
#include "base/utf8.h"

namespace rampart::contacts {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

std::string at(std::size_t line, std::string_view what) {
  return "line " + std::to_string(line) + ": " + std::string(what);
}

tl::unexpected<Error> bad(std::string detail) { return fail(Errc::BadInput, std::move(detail)); }

std::string_view trim(std::string_view text) {
  const std::size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  return text.substr(start, text.find_last_not_of(" \t") - start + 1);
}

bool starts_with_folded(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// The logical lines of a text, one at a time: each line end (CRLF or a bare LF) followed
// by one space or tab is taken out with that space or tab (RFC 6350 §3.2), so a fold
// inside a UTF-8 sequence joins its bytes again.
class ContentLines {
 public:
  ContentLines(std::string_view text, std::size_t max_line) : rest_(text), max_line_(max_line) {}

  enum class Status { Line, End, TooLong };

  Status next() {
    if (rest_.empty()) return Status::End;
    number_ = physical_ + 1;
    line_.clear();
    for (;;) {
      const std::size_t end = rest_.find('\n');
      std::string_view piece = rest_.substr(0, end);
      rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
      ++physical_;
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      // Checked before the copy, so a text without line ends is never gathered whole.
      if (line_.size() + piece.size() > max_line_) return Status::TooLong;
      line_.append(piece);
      if (rest_.empty() || (rest_[0] != ' ' && rest_[0] != '\t')) return Status::Line;
      rest_.remove_prefix(1);
    }
  }

  std::string_view line() const { return line_; }
  std::size_t number() const { return number_; }  // the physical line it started on

 private:
  std::string_view rest_;
  std::size_t max_line_;
  std::size_t physical_ = 0;
  std::size_t number_ = 0;
  std::string line_;
};

// RFC 6350 §3.3 writes 1*(ALPHA / DIGIT / "-") for names and groups; `_` is let through.
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// RFC 6868 §3: ^n is a line feed, ^^ a caret, ^' a double quote; a caret before
// anything else stays, with what follows it.
std::string decode_caret(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '^' && i + 1 < raw.size()) {
      const char next = raw[i + 1];
      if (next == 'n' || next == '^' || next == '\'') {
        out += next == 'n' ? '\n' : next == '^' ? '^' : '"';
        ++i;
        continue;
      }
    }
    out += raw[i];
  }
  return out;
}

// Splits `value` at the commas between its parts.
void append_split(std::string_view value, std::vector<std::string>& out) {
  for (;;) {
    const std::size_t comma = value.find(',');
    out.emplace_back(value.substr(0, comma));
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

// One unfolded content line, `[group "."] name *(";" param) ":" value`. The error is
// the rule broken, without a line number.
Result<Property> parse_content_line(std::string_view line, std::size_t max_parameters) {
  Property property;
  std::size_t pos = 0;
  const auto token = [&] {
    const std::size_t start = pos;
    while (pos < line.size() && is_name_char(line[pos])) ++pos;
    return line.substr(start, pos - start);
  };
  const auto next_is = [&](char c) { return pos < line.size() && line[pos] == c; };

  std::string_view name = token();
  if (name.empty()) return bad("a content line starts with a property name (RFC 6350 §3.3)");
  if (next_is('.')) {
    property.group = std::string(name);
    ++pos;
    name = token();
    if (name.empty()) return bad("a group is followed by a property name (RFC 6350 §3.3)");
    if (next_is('.')) return bad("a content line has one group at most (RFC 6350 §3.3)");
  }
  property.name = uppercase(name);

  while (next_is(';')) {
    ++pos;
    const std::string_view parameter = token();
    if (parameter.empty()) return bad("a parameter starts with its name (RFC 6350 §3.3)");
    if (property.parameters.size() == max_parameters) {
      return bad("more than " + std::to_string(max_parameters) +
                 " parameters on one property (Limits::max_parameters)");
    }
    if (!next_is('=')) {
      // vCard 2.1's bare parameter, as in RFC 2426 §3.5.4's own EMAIL;INTERNET.
      property.parameters.push_back({"TYPE", {std::string(parameter)}});
      continue;
    }
    ++pos;
    // RFC 6350's examples write TYPE="voice,home" for two types, and no TYPE value
    // holds a comma, so a quoted TYPE is split; another quoted value (a LABEL's
    // address) keeps its commas.
    const bool is_type = iequals(parameter, "TYPE");
    std::vector<std::string> values;
    for (;;) {
      if (next_is('"')) {
        const std::size_t close = line.find('"', pos + 1);
        if (close == std::string_view::npos) {
          return bad("a quoted parameter value has no closing quote (RFC 6350 §3.3)");
        }
        const std::string value = decode_caret(line.substr(pos + 1, close - pos - 1));
        if (is_type) {
          append_split(value, values);
        } else {
          values.push_back(value);
        }
        pos = close + 1;
        if (pos < line.size() && line[pos] != ',' && line[pos] != ';' && line[pos] != ':') {
          return bad("a quoted parameter value is followed by ',', ';' or ':' (RFC 6350 §3.3)");
        }
      } else {
        const std::size_t end = line.find_first_of(",;:\"", pos);
        if (end == std::string_view::npos) break;  // no ':' follows: reported below
        if (line[end] == '"') {
          return bad("a double quote inside an unquoted parameter value (RFC 6350 §3.3)");
        }
        values.push_back(decode_caret(line.substr(pos, end - pos)));
        pos = end;
      }
      if (!next_is(',')) break;
      ++pos;
    }
    property.parameters.push_back({uppercase(parameter), std::move(values)});
  }
  if (!next_is(':')) {
    return bad("a property's name and parameters are followed by ':' (RFC 6350 §3.3)");
  }
  property.value = std::string(line.substr(pos + 1));
  return property;
}

// A structured value's components (N, RFC 6350 §6.2.2), split at the semicolons that
// are not escaped, each then unescaped.
std::vector<std::string> components(std::string_view value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\') {
      ++i;
    } else if (value[i] == ';') {
      out.push_back(unescape_text(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(unescape_text(value.substr(start)));
  return out;
}

const std::vector<std::string>* find_parameter(const Property& property, std::string_view name) {
  for (const auto& [parameter, values] : property.parameters) {
    if (iequals(parameter, name)) return &values;
  }
  return nullptr;
}

// Refuses the parameters that say the value is not UTF-8 text.
Result<void> check_encoding(const Property& property) {
  for (const auto& [name, values] : property.parameters) {
    for (const std::string& value : values) {
      if ((name == "ENCODING" || name == "TYPE") && iequals(value, "QUOTED-PRINTABLE")) {
        return bad(
            "QUOTED-PRINTABLE is vCard 2.1's and not supported: send vCard 3.0 or 4.0 in UTF-8 "
            "(RFC 2426 §5: only ENCODING=b remains)");
      }
      if (name == "CHARSET" && !iequals(value, "UTF-8")) {
        return bad("CHARSET=" + value + ": a vCard is UTF-8 only (RFC 6350 §3.1)");
      }
    }
  }
  return {};
}

class Parser {
 public:
  explicit Parser(const Limits& limits) : limits_(limits) {}

  // The whole resource: exactly one vCard and nothing after it.
  Result<Card> parse(std::string_view text) {
    Card card;
    ContentLines lines(text, limits_.max_line);
    Property property;
    auto next = read(lines, property);
    if (!next) return tl::unexpected(next.error());
    if (!*next) return bad("no vCard: the text is blank (RFC 6350 §6.1.1)");
    if (!is_begin(property)) {
      return bad(at(lines.number(), "a vCard starts with BEGIN:VCARD (RFC 6350 §6.1.1)"));
    }
    if (auto body = read_body(lines, 1, &card); !body) return tl::unexpected(body.error());
    next = read(lines, property);
    if (!next) return tl::unexpected(next.error());
    if (*next) {
      return bad(at(lines.number(),
                    is_begin(property)
                        ? "a second vCard: one vCard per address object resource (RFC 6352 §5.1)"
                        : "content after END:VCARD (RFC 6350 §6.1.2)"));
    }
    if (card.version.empty()) return bad("no VERSION (RFC 6350 §6.7.9)");
    if (!has_formatted_name_) return bad("no FN (RFC 6350 §6.2.1, RFC 2426 §3.1.1)");
    return card;
  }

 private:
  // The next non-blank content line into `property`; false at the end of the text.
  Result<bool> read(ContentLines& lines, Property& property) {
    for (;;) {
      switch (lines.next()) {
        case ContentLines::Status::End:
          return false;
        case ContentLines::Status::TooLong:
          return bad(at(lines.number(), "a content line over " + std::to_string(limits_.max_line) +
                                            " bytes unfolded (Limits::max_line)"));
        case ContentLines::Status::Line:
          break;
      }
      const std::string_view line = lines.line();
      if (trim(line).empty()) continue;
      if (!is_valid_utf8(line)) return bad(at(lines.number(), "not UTF-8 (RFC 6350 §3.1)"));
      for (char c : line) {
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
          return bad(at(lines.number(),
                        "a control character, or a CR without LF (RFC 6350 §3.3 VALUE-CHAR)"));
        }
      }
      auto parsed = parse_content_line(line, limits_.max_parameters);
      if (!parsed) return bad(at(lines.number(), parsed.error().detail));
      property = std::move(*parsed);
      return true;
    }
  }

  static bool is_begin(const Property& property) {
    return property.name == "BEGIN" && iequals(trim(property.value), "VCARD");
  }

  Result<void> nest(std::size_t depth, std::size_t line) {
    if (depth + 1 <= limits_.max_nesting) return {};
    return bad(at(line, "vCards nested more than " + std::to_string(limits_.max_nesting) +
                            " deep (Limits::max_nesting)"));
  }

  // The content lines after a BEGIN:VCARD up to and including its END. `card` is the
  // outermost card, to index; null inside an embedded one.
  Result<void> read_body(ContentLines& lines, std::size_t depth, Card* card) {
    Property property;
    for (;;) {
      auto next = read(lines, property);
      if (!next) return tl::unexpected(next.error());
      if (!*next) return bad("no END:VCARD (RFC 6350 §6.1.2)");
      const std::size_t line = lines.number();
      if (property.name == "END") {
        if (iequals(trim(property.value), "VCARD")) return {};
        return bad(at(line, "END:" + property.value + " inside a vCard (RFC 6350 §6.1.2)"));
      }
      if (property.name == "BEGIN") {
        if (!is_begin(property)) {
          return bad(at(line, "BEGIN:" + property.value + " inside a vCard (RFC 6350 §6.1.1)"));
        }
        // vCard 2.1 put an AGENT's vCard inline, between the AGENT line and the END.
        if (auto ok = nest(depth, line); !ok) return ok;
        if (auto inner = read_body(lines, depth + 1, nullptr); !inner) return inner;
        continue;
      }
      if (++properties_ > limits_.max_properties) {
        return bad(at(line, "more than " + std::to_string(limits_.max_properties) +
                                " properties (Limits::max_properties)"));
      }
      if (auto checked = check_encoding(property); !checked) {
        return bad(at(line, checked.error().detail));
      }
      if (property.name == "AGENT" && starts_with_folded(property.value, "BEGIN:VCARD")) {
        if (auto ok = nest(depth, line); !ok) return ok;
        if (auto inner = read_embedded(unescape_text(property.value), depth + 1); !inner) {
          return bad(at(line, "in the AGENT vCard: " + inner.error().detail));
        }
      }
      if (card) {
        if (auto indexed = index(property, *card); !indexed) {
          return bad(at(line, indexed.error().detail));
        }
        card->properties.push_back(std::move(property));
      }
    }
  }

  // RFC 2426 §3.5.4: an AGENT's vCard, its text unescaped; lines end in LF.
  Result<void> read_embedded(std::string_view text, std::size_t depth) {
    ContentLines lines(text, limits_.max_line);
    Property property;
    auto next = read(lines, property);
    if (!next) return tl::unexpected(next.error());
    if (!*next || !is_begin(property)) {
      return bad(at(lines.number(), "a vCard starts with BEGIN:VCARD (RFC 6350 §6.1.1)"));
    }
    if (auto body = read_body(lines, depth, nullptr); !body) return body;
    next = read(lines, property);
    if (!next) return tl::unexpected(next.error());
    if (*next) return bad(at(lines.number(), "content after END:VCARD (RFC 6350 §6.1.2)"));
    return {};
  }

  Result<void> index(const Property& property, Card& card) {
    const std::string& name = property.name;
    if (name == "VERSION") {
      const std::string_view version = trim(property.value);
      if (!card.version.empty()) return bad("a second VERSION (RFC 6350 §6.7.9)");
      if (version == "2.1") {
        return bad("vCard 2.1 is not supported: CardDAV takes vCard 3.0 and 4.0");
      }
      if (version != "3.0" && version != "4.0") {
        return bad("VERSION:" + std::string(version) + ": vCard 3.0 or 4.0 expected");
      }
      card.version = std::string(version);
    } else if (name == "FN") {
      if (!has_formatted_name_) card.formatted_name = unescape_text(property.value);
      has_formatted_name_ = true;
    } else if (name == "N") {
      if (!has_names_) card.names = components(property.value);
      has_names_ = true;
    } else if (name == "UID") {
      // The CardDAV layer finds a card by its UID: two would make that ambiguous.
      if (has_uid_) return bad("a second UID (RFC 6350 §6.7.6)");
      card.uid = unescape_text(property.value);
      has_uid_ = true;
    } else if (name == "EMAIL") {
      card.emails.push_back(lowercase(unescape_text(property.value)));
    } else if (name == "TEL") {
      card.phones.push_back(unescape_text(property.value));
    } else if (name == "KIND" || name == "X-ADDRESSBOOKSERVER-KIND") {
      const std::string kind = lowercase(trim(unescape_text(property.value)));
      if (!kind.empty()) card.kind = kind;
    } else if (name == "MEMBER" || name == "X-ADDRESSBOOKSERVER-MEMBER") {
      card.members.push_back(property.value);
    }
    return {};
  }

  const Limits& limits_;
  std::size_t properties_ = 0;
  bool has_formatted_name_ = false;
  bool has_names_ = false;
  bool has_uid_ = false;
};

}  // namespace

Result<Card> parse_card(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    return fail(Errc::TooBig, "a vCard of " + std::to_string(text.size()) + " bytes, over " +
                                  std::to_string(limits.max_bytes) + " (Limits::max_bytes)");
  }
  // Outlook and some exporters start the file with a byte order mark.
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
    text.remove_prefix(kByteOrderMark.size());
  }
  return Parser(limits).parse(text);
}

std::string unescape_text(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\' || i + 1 == value.size()) {
      out += value[i];
      continue;
    }
    const char next = value[++i];
    out += next == 'n' || next == 'N' ? '\n' : next;
  }
  return out;
}

bool text_matches(std::string_view text, std::string_view needle, MatchType type) {
  switch (type) {
    case MatchType::Equals:
      return iequals(text, needle);
    case MatchType::Contains:
      return contains_folded(text, needle);
    case MatchType::StartsWith:
      return starts_with_folded(text, needle);
    case MatchType::EndsWith:
      return text.size() >= needle.size() &&
             iequals(text.substr(text.size() - needle.size()), needle);
  }
  return false;
}

bool text_match(const Property& property, std::string_view needle, MatchType type, bool negate) {
  return text_matches(unescape_text(property.value), needle, type) != negate;
}

bool text_match(const Card& card, std::string_view property_name, std::string_view needle,
                MatchType type, bool negate) {
  bool found = false;
  for (const Property& property : card.properties) {
    if (!iequals(property.name, property_name)) continue;
    found = true;
    if (text_match(property, needle, type, false)) return !negate;
  }
  return found && negate;
}

bool has_property(const Card& card, std::string_view property_name) {
  for (const Property& property : card.properties) {
    if (iequals(property.name, property_name)) return true;
  }
  return false;
}

bool has_parameter(const Property& property, std::string_view parameter_name) {
  return find_parameter(property, parameter_name) != nullptr;
}

bool param_text_match(const Property& property, std::string_view parameter_name,
                      std::string_view needle, MatchType type, bool negate) {
  // A parameter may be sent twice (type=INTERNET;type=pref): every instance counts.
  bool found = false;
  for (const auto& [parameter, values] : property.parameters) {
    if (!iequals(parameter, parameter_name)) continue;
    found = true;
    for (const std::string& value : values) {
      if (text_matches(value, needle, type)) return !negate;
    }
  }
  return found && negate;
}

bool param_text_match(const Card& card, std::string_view property_name,
                      std::string_view parameter_name, std::string_view needle, MatchType type,
                      bool negate) {
  for (const Property& property : card.properties) {
    if (iequals(property.name, property_name) &&
        param_text_match(property, parameter_name, needle, type, negate)) {
      return true;
    }
  }
  return false;
}

}  // namespace rampart::contacts
