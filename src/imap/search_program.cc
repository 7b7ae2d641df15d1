#include "imap/search_program.h"

#include <array>
#include <charconv>

#include "base/ascii.h"
#include "base/civil_date.h"

namespace rampart::imap {
namespace {

class Reader {
 public:
  Reader(const std::vector<Token>& tokens, SearchError& error) : tokens_(tokens), error_(error) {}

  bool done() const { return next_ >= tokens_.size(); }
  const Token& peek() const { return tokens_[next_]; }
  const Token* take() { return done() ? nullptr : &tokens_[next_++]; }

  std::optional<SearchKey> key(int depth);
  bool failed(std::string text) {
    error_.text = std::move(text);
    return false;
  }

 private:
  std::optional<std::string> astring(const char* what) {
    const Token* token = take();
    if (!token || !token->astring()) {
      failed(std::string("expected ") + what);
      return std::nullopt;
    }
    return std::string(*token->astring());
  }
  std::optional<std::uint64_t> number(const char* what) {
    const Token* token = take();
    if (!token || !token->number()) {
      failed(std::string("expected ") + what);
      return std::nullopt;
    }
    return token->number();
  }
  std::optional<std::int64_t> date() {
    const Token* token = take();
    const auto text = token ? token->astring() : std::nullopt;
    const auto parsed = text ? parse_search_date(*text) : std::nullopt;
    if (!parsed) failed("expected a date like 1-Feb-1994");
    return parsed;
  }

  const std::vector<Token>& tokens_;
  std::size_t next_ = 0;
  SearchError& error_;
};

constexpr int kMaxDepth = 32;

std::optional<SearchKey> Reader::key(int depth) {
  if (depth > kMaxDepth) {
    failed("search criteria nested too deeply");
    return std::nullopt;
  }
  const Token* token = take();
  if (!token) {
    failed("missing search key");
    return std::nullopt;
  }
  SearchKey key;
  if (token->kind == Token::Kind::List) {
    if (token->children.empty()) {
      failed("empty parenthesised search key");
      return std::nullopt;
    }
    Reader inner(token->children, error_);
    key.kind = SearchKey::Kind::And;
    while (!inner.done()) {
      auto child = inner.key(depth + 1);
      if (!child) return std::nullopt;
      key.children.push_back(std::move(*child));
    }
    return key;
  }
  if (token->kind != Token::Kind::Atom) {
    failed("expected a search key");
    return std::nullopt;
  }
  const std::string word = uppercase(token->text);
  using Kind = SearchKey::Kind;
  // Keys of one word and at most one argument, by the argument they take.
  enum class Argument { None, Keyword, String, Date, Number };
  struct Simple {
    const char* word;
    Kind kind;
    Argument argument;
    const char* flag = "";  // the system flag of Flag/NotFlag keys without an argument
  };
  static constexpr std::array<Simple, 35> kSimple = {{
      {"ALL", Kind::All, Argument::None},
      {"ANSWERED", Kind::Flag, Argument::None, "\\Answered"},
      {"DELETED", Kind::Flag, Argument::None, "\\Deleted"},
      {"DRAFT", Kind::Flag, Argument::None, "\\Draft"},
      {"FLAGGED", Kind::Flag, Argument::None, "\\Flagged"},
      {"SEEN", Kind::Flag, Argument::None, "\\Seen"},
      {"UNANSWERED", Kind::NotFlag, Argument::None, "\\Answered"},
      {"UNDELETED", Kind::NotFlag, Argument::None, "\\Deleted"},
      {"UNDRAFT", Kind::NotFlag, Argument::None, "\\Draft"},
      {"UNFLAGGED", Kind::NotFlag, Argument::None, "\\Flagged"},
      {"UNSEEN", Kind::NotFlag, Argument::None, "\\Seen"},
      {"NEW", Kind::New, Argument::None},
      {"OLD", Kind::Old, Argument::None},
      {"RECENT", Kind::Recent, Argument::None},
      {"KEYWORD", Kind::Flag, Argument::Keyword},
      {"UNKEYWORD", Kind::NotFlag, Argument::Keyword},
      {"BCC", Kind::Bcc, Argument::String},
      {"BODY", Kind::Body, Argument::String},
      {"CC", Kind::Cc, Argument::String},
      {"FROM", Kind::From, Argument::String},
      {"SUBJECT", Kind::Subject, Argument::String},
      {"TEXT", Kind::Text, Argument::String},
      {"TO", Kind::To, Argument::String},
      {"BEFORE", Kind::Before, Argument::Date},
      {"ON", Kind::On, Argument::Date},
      {"SINCE", Kind::Since, Argument::Date},
      {"SENTBEFORE", Kind::SentBefore, Argument::Date},
      {"SENTON", Kind::SentOn, Argument::Date},
      {"SENTSINCE", Kind::SentSince, Argument::Date},
      {"LARGER", Kind::Larger, Argument::Number},
      {"SMALLER", Kind::Smaller, Argument::Number},
      {"OLDER", Kind::Older, Argument::Number},
      {"YOUNGER", Kind::Younger, Argument::Number},
      {"EMAILID", Kind::EmailId, Argument::String},
      {"THREADID", Kind::ThreadId, Argument::String},
  }};
  for (const Simple& simple : kSimple) {
    if (word != simple.word) continue;
    key.kind = simple.kind;
    switch (simple.argument) {
      case Argument::None:
        key.text = simple.flag;
        break;
      case Argument::Keyword: {
        const Token* flag = take();
        if (!flag || flag->kind != Token::Kind::Atom || flag->text.empty() ||
            flag->text[0] == '\\') {
          failed("expected a keyword");
          return std::nullopt;
        }
        key.text = flag->text;
        break;
      }
      case Argument::String: {
        auto text = astring("a string");
        if (!text) return std::nullopt;
        key.text = std::move(*text);
        break;
      }
      case Argument::Date: {
        auto date = this->date();
        if (!date) return std::nullopt;
        key.date = *date;
        break;
      }
      case Argument::Number: {
        auto value = number("a number");
        if (!value) return std::nullopt;
        key.number = *value;
        break;
      }
    }
    return key;
  }
  if (word == "HEADER") {
    auto field = astring("a header field name");
    auto value = field ? astring("a string") : std::nullopt;
    if (!value) return std::nullopt;
    key.kind = Kind::Header;
    key.text = std::move(*field);
    key.text2 = std::move(*value);
    return key;
  }
  if (word == "NOT" || word == "OR") {
    key.kind = word == "NOT" ? Kind::Not : Kind::Or;
    for (int i = 0; i < (word == "NOT" ? 1 : 2); ++i) {
      auto child = this->key(depth + 1);
      if (!child) return std::nullopt;
      key.children.push_back(std::move(*child));
    }
    return key;
  }
  if (word == "UID") {
    const Token* set = take();
    auto parsed =
        set && set->kind == Token::Kind::Atom ? parse_sequence_set(set->text) : std::nullopt;
    if (!parsed) {
      failed("expected a UID set");
      return std::nullopt;
    }
    key.kind = Kind::Uid;
    key.set = std::move(*parsed);
    return key;
  }
  if (word == "MODSEQ") {
    // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer.
    if (!done() && peek().kind == Token::Kind::String) {
      take();
      const Token* type = take();
      if (!type || !(type->is("priv") || type->is("shared") || type->is("all"))) {
        failed("expected priv, shared or all");
        return std::nullopt;
      }
    }
    auto value = number("a mod-sequence");
    if (!value) return std::nullopt;
    key.kind = Kind::ModSeq;
    key.number = *value;
    return key;
  }
  if (auto set = parse_sequence_set(token->text)) {
    key.kind = Kind::SequenceSet;
    key.set = std::move(*set);
    return key;
  }
  failed("unknown search key " + token->text);
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> parse_search_date(std::string_view text) {
  static constexpr std::array<const char*, 12> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  const auto first = text.find('-');
  const auto second = first == std::string_view::npos ? first : text.find('-', first + 1);
  if (second == std::string_view::npos || second != first + 4) return std::nullopt;
  unsigned day = 0;
  int year = 0;
  const std::string_view day_text = text.substr(0, first);
  const std::string_view year_text = text.substr(second + 1);
  const auto day_result = std::from_chars(day_text.data(), day_text.data() + day_text.size(), day);
  const auto year_result =
      std::from_chars(year_text.data(), year_text.data() + year_text.size(), year);
  if (day_text.empty() || day_text.size() > 2 ||
      day_result.ptr != day_text.data() + day_text.size() || year_text.size() != 4 ||
      year_result.ptr != year_text.data() + year_text.size()) {
    return std::nullopt;
  }
  const std::string month = uppercase(text.substr(first + 1, 3));
  for (unsigned m = 0; m < kMonths.size(); ++m) {
    if (month != kMonths[m]) continue;
    static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (day == 0 || day > kDays[m]) return std::nullopt;
    return days_from_civil(year, m + 1, day);
  }
  return std::nullopt;
}

std::optional<SearchProgram> parse_search(const std::vector<Token>& arguments, SearchError& error) {
  SearchProgram program;
  std::size_t start = 0;
  // RFC 4731: RETURN (options) comes first, then CHARSET, then the keys.
  if (start < arguments.size() && arguments[start].is("RETURN")) {
    if (start + 1 >= arguments.size() || arguments[start + 1].kind != Token::Kind::List) {
      error.text = "RETURN needs a list of options";
      return std::nullopt;
    }
    program.result.requested = true;
    for (const Token& option : arguments[start + 1].children) {
      bool* flag = option.is("MIN")     ? &program.result.min
                   : option.is("MAX")   ? &program.result.max
                   : option.is("ALL")   ? &program.result.all
                   : option.is("COUNT") ? &program.result.count
                   : option.is("SAVE")  ? &program.result.save
                                        : nullptr;
      if (!flag) {
        error.text = "unknown RETURN option";
        return std::nullopt;
      }
      *flag = true;
    }
    // RFC 4731 §3.1: RETURN () means RETURN (ALL).
    if (arguments[start + 1].children.empty()) program.result.all = true;
    start += 2;
  }
  if (start < arguments.size() && arguments[start].is("CHARSET")) {
    const auto charset =
        start + 1 < arguments.size() ? arguments[start + 1].astring() : std::nullopt;
    if (!charset) {
      error.text = "CHARSET needs a name";
      return std::nullopt;
    }
    program.charset = uppercase(*charset);
    start += 2;
  }
  if (start >= arguments.size()) {
    error.text = "missing search criteria";
    return std::nullopt;
  }
  const std::vector<Token> keys(arguments.begin() + static_cast<std::ptrdiff_t>(start),
                                arguments.end());
  Reader reader(keys, error);
  program.key.kind = SearchKey::Kind::And;
  while (!reader.done()) {
    auto key = reader.key(0);
    if (!key) return std::nullopt;
    program.key.children.push_back(std::move(*key));
  }
  return program;
}

}  // namespace rampart::imap
