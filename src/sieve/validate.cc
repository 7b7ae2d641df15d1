// Validation: one table row per command and test, naming the extension it needs, the
// tags it takes (with the argument each tag takes) and its positional arguments.
#include <algorithm>
#include <string>
#include <utility>

#include "base/ascii.h"
#include "sieve/match_internal.h"
#include "sieve/validate_internal.h"

namespace rampart::sieve {
namespace {

enum class Shape : std::uint8_t { None, String, StringList, Number };
enum class Tests : std::uint8_t { None, One, List };

// Tags of one group exclude one another (at most one match type, one address part...).
enum Group : int {
  kNoGroup,
  kComparatorGroup,
  kMatchGroup,
  kAddressGroup,
  kBodyGroup,
  kZoneGroup,
  kLocationGroup,
  kSizeGroup,
  kIdGroup,
  kCaseGroup,  // RFC 5229 section 4.1: one modifier of each precedence
  kFirstGroup,
  kQuoteGroup,
  kLengthGroup,
};

struct TagSpec {
  std::string_view name;
  std::string_view extension;  // empty: no extension beyond the command's own
  Shape value = Shape::None;
  int group = kNoGroup;
};

struct Spec {
  std::string_view name;
  std::string_view extension;
  bool test = false;
  bool match = false;    // COMPARATOR and MATCH-TYPE
  bool address = false;  // ADDRESS-PART
  bool index = false;    // RFC 5260 :index and :last
  std::vector<TagSpec> tags;
  std::vector<Shape> positional;
  std::size_t min_positional = 0;
  bool optional_leading = false;  // with fewer arguments, the leading ones are missing
  Tests tests = Tests::None;
  bool block = false;
};

const std::vector<TagSpec>& match_tags() {
  static const std::vector<TagSpec> tags = {
      {"comparator", "", Shape::String, kComparatorGroup},
      {"is", "", Shape::None, kMatchGroup},
      {"contains", "", Shape::None, kMatchGroup},
      {"matches", "", Shape::None, kMatchGroup},
      {"regex", "regex", Shape::None, kMatchGroup},
      {"count", "relational", Shape::String, kMatchGroup},
      {"value", "relational", Shape::String, kMatchGroup},
  };
  return tags;
}

const std::vector<TagSpec>& address_tags() {
  static const std::vector<TagSpec> tags = {
      {"all", "", Shape::None, kAddressGroup},
      {"localpart", "", Shape::None, kAddressGroup},
      {"domain", "", Shape::None, kAddressGroup},
      {"user", "subaddress", Shape::None, kAddressGroup},
      {"detail", "subaddress", Shape::None, kAddressGroup},
  };
  return tags;
}

const std::vector<Spec>& specs() {
  using S = Shape;
  const S str = S::String, list = S::StringList, num = S::Number;
  static const std::vector<Spec> table = {
      // RFC 5228 control commands.
      {.name = "require", .positional = {list}, .min_positional = 1},
      {.name = "if", .tests = Tests::One, .block = true},
      {.name = "elsif", .tests = Tests::One, .block = true},
      {.name = "else", .block = true},
      {.name = "stop"},
      // Actions.
      {.name = "keep", .tags = {{"flags", "imap4flags", list}}},
      {.name = "discard"},
      {.name = "fileinto",
       .extension = "fileinto",
       .tags = {{"flags", "imap4flags", list}, {"copy", "copy"}, {"create", "mailbox"}},
       .positional = {str},
       .min_positional = 1},
      {.name = "redirect", .tags = {{"copy", "copy"}}, .positional = {str}, .min_positional = 1},
      {.name = "reject", .extension = "reject", .positional = {str}, .min_positional = 1},
      {.name = "ereject", .extension = "ereject", .positional = {str}, .min_positional = 1},
      {.name = "setflag",
       .extension = "imap4flags",
       .positional = {str, list},
       .min_positional = 1,
       .optional_leading = true},
      {.name = "addflag",
       .extension = "imap4flags",
       .positional = {str, list},
       .min_positional = 1,
       .optional_leading = true},
      {.name = "removeflag",
       .extension = "imap4flags",
       .positional = {str, list},
       .min_positional = 1,
       .optional_leading = true},
      {.name = "set",
       .extension = "variables",
       .tags = {{"lower", "", S::None, kCaseGroup},
                {"upper", "", S::None, kCaseGroup},
                {"lowerfirst", "", S::None, kFirstGroup},
                {"upperfirst", "", S::None, kFirstGroup},
                {"quotewildcard", "", S::None, kQuoteGroup},
                {"length", "", S::None, kLengthGroup}},
       .positional = {str, str},
       .min_positional = 2},
      {.name = "vacation",
       .extension = "vacation",
       .tags = {{"days", "", num},
                {"subject", "", str},
                {"from", "", str},
                {"addresses", "", list},
                {"mime"},
                {"handle", "", str}},
       .positional = {str},
       .min_positional = 1},
      {.name = "addheader",
       .extension = "editheader",
       .tags = {{"last"}},
       .positional = {str, str},
       .min_positional = 2},
      {.name = "deleteheader",
       .extension = "editheader",
       .match = true,
       .tags = {{"index", "", num}, {"last"}},
       .positional = {str, list},
       .min_positional = 1},
      {.name = "include",
       .extension = "include",
       .tags = {{"personal", "", S::None, kLocationGroup},
                {"global", "", S::None, kLocationGroup},
                {"once"},
                {"optional"}},
       .positional = {str},
       .min_positional = 1},
      {.name = "return", .extension = "include"},
      // RFC 5228 tests.
      {.name = "address",
       .test = true,
       .match = true,
       .address = true,
       .index = true,
       .positional = {list, list},
       .min_positional = 2},
      {.name = "envelope",
       .extension = "envelope",
       .test = true,
       .match = true,
       .address = true,
       .positional = {list, list},
       .min_positional = 2},
      {.name = "header",
       .test = true,
       .match = true,
       .index = true,
       .positional = {list, list},
       .min_positional = 2},
      {.name = "exists", .test = true, .positional = {list}, .min_positional = 1},
      {.name = "size",
       .test = true,
       .tags = {{"over", "", num, kSizeGroup}, {"under", "", num, kSizeGroup}}},
      {.name = "allof", .test = true, .tests = Tests::List},
      {.name = "anyof", .test = true, .tests = Tests::List},
      {.name = "not", .test = true, .tests = Tests::One},
      {.name = "true", .test = true},
      {.name = "false", .test = true},
      // Extensions' tests.
      {.name = "hasflag",
       .extension = "imap4flags",
       .test = true,
       .match = true,
       .positional = {list, list},
       .min_positional = 1,
       .optional_leading = true},
      {.name = "string",
       .extension = "variables",
       .test = true,
       .match = true,
       .positional = {list, list},
       .min_positional = 2},
      {.name = "body",
       .extension = "body",
       .test = true,
       .match = true,
       .tags = {{"raw", "", S::None, kBodyGroup},
                {"content", "", list, kBodyGroup},
                {"text", "", S::None, kBodyGroup}},
       .positional = {list},
       .min_positional = 1},
      {.name = "mailboxexists",
       .extension = "mailbox",
       .test = true,
       .positional = {list},
       .min_positional = 1},
      {.name = "date",
       .extension = "date",
       .test = true,
       .match = true,
       .index = true,
       .tags = {{"zone", "", str, kZoneGroup}, {"originalzone", "", S::None, kZoneGroup}},
       .positional = {str, str, list},
       .min_positional = 3},
      {.name = "currentdate",
       .extension = "date",
       .test = true,
       .match = true,
       .tags = {{"zone", "", str, kZoneGroup}},
       .positional = {str, list},
       .min_positional = 2},
      {.name = "duplicate",
       .extension = "duplicate",
       .test = true,
       .tags = {{"handle", "", str},
                {"header", "", str, kIdGroup},
                {"uniqueid", "", str, kIdGroup},
                {"seconds", "", num},
                {"last"}}},
      {.name = "spamtest",
       .extension = "spamtest",
       .test = true,
       .match = true,
       .tags = {{"percent", "spamtestplus"}},
       .positional = {str},
       .min_positional = 1},
      {.name = "virustest",
       .extension = "virustest",
       .test = true,
       .match = true,
       .positional = {str},
       .min_positional = 1},
  };
  return table;
}

tl::unexpected<Error> error(int line, const std::string& message) {
  return fail(Errc::BadInput, "line " + std::to_string(line) + ": " + message);
}

bool shape_fits(Shape shape, const Argument& argument) {
  switch (shape) {
    case Shape::None:
      return false;
    case Shape::String:
      return argument.kind == Argument::Kind::String;
    case Shape::StringList:
      return argument.kind == Argument::Kind::String || argument.kind == Argument::Kind::StringList;
    case Shape::Number:
      return argument.kind == Argument::Kind::Number;
  }
  return false;
}

std::string_view shape_name(Shape shape) {
  switch (shape) {
    case Shape::None:
      return "nothing";
    case Shape::String:
      return "a string";
    case Shape::StringList:
      return "a string list";
    case Shape::Number:
      return "a number";
  }
  return "?";
}

class Validator {
 public:
  explicit Validator(Script& script) : script_(script) {}

  Result<void> run() {
    bool preamble = true;
    for (Command& command : script_.commands) {
      if (command.name == "require") {
        if (!preamble) return error(command.line, "require must come before other commands");
        if (auto ok = require(command); !ok) return ok;
      } else {
        preamble = false;
      }
    }
    return block(script_.commands, true);
  }

 private:
  bool has(std::string_view extension) const { return script_.has_extension(extension); }

  Result<void> require(Command& command) {
    if (auto ok = node(command, false); !ok) return ok;
    for (const std::string& name : command.positional[0].strings) {
      const auto& known = supported_extensions();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        return error(command.line, "unsupported extension \"" + name + "\"");
      }
      if (!has(name)) script_.extensions.push_back(name);
      // RFC 5235 section 3.2: spamtestplus is spamtest with :percent.
      if (name == "spamtestplus" && !has("spamtest")) script_.extensions.push_back("spamtest");
    }
    return {};
  }

  Result<void> block(std::vector<Command>& commands, bool top) {
    std::string_view previous;
    for (Command& command : commands) {
      if (command.name == "require") {
        if (!top) return error(command.line, "require must come before other commands");
        previous = command.name;
        continue;
      }
      if ((command.name == "elsif" || command.name == "else") && previous != "if" &&
          previous != "elsif") {
        return error(command.line, command.name + " without a preceding if");
      }
      if (auto ok = node(command, false); !ok) return ok;
      if (auto ok = block(command.block, false); !ok) return ok;
      previous = command.name;
    }
    return {};
  }

  Result<void> tests(std::vector<Test>& tests) {
    for (Test& test : tests) {
      if (auto ok = node(test, true); !ok) return ok;
    }
    return {};
  }

  template <class T>
  Result<void> node(T& node, bool is_test) {
    const Spec* spec = nullptr;
    for (const Spec& candidate : specs()) {
      if (candidate.name == node.name && candidate.test == is_test) spec = &candidate;
    }
    const std::string what = std::string(is_test ? "test '" : "command '") + node.name + "'";
    if (spec == nullptr) return error(node.line, "unknown " + what);
    if (!spec->extension.empty() && !has(spec->extension)) {
      return error(node.line, what + " needs require \"" + std::string(spec->extension) + "\"");
    }
    if (auto ok = arguments(node, *spec, what); !ok) return ok;
    const std::size_t count = node.tests.size();
    if (spec->tests == Tests::None && count != 0) return error(node.line, what + " takes no test");
    if (spec->tests == Tests::One && count != 1) return error(node.line, what + " takes one test");
    if (spec->tests == Tests::List && count == 0) {
      return error(node.line, what + " takes a test list");
    }
    if constexpr (std::is_same_v<T, Command>) {
      if (spec->block != node.has_block) {
        return error(node.line, what + (spec->block ? " needs a block" : " takes no block"));
      }
    }
    if (auto ok = tests(node.tests); !ok) return ok;
    return semantics(node, what);
  }

  Result<void> arguments(Node& node, const Spec& spec, const std::string& what) {
    std::vector<const TagSpec*> allowed;
    for (const TagSpec& tag : spec.tags) allowed.push_back(&tag);
    if (spec.match) {
      for (const TagSpec& tag : match_tags()) allowed.push_back(&tag);
    }
    if (spec.address) {
      for (const TagSpec& tag : address_tags()) allowed.push_back(&tag);
    }
    static const std::vector<TagSpec> index_tags = {{"index", "index", Shape::Number},
                                                    {"last", "index"}};
    if (spec.index) {
      for (const TagSpec& tag : index_tags) allowed.push_back(&tag);
    }
    std::vector<std::string> seen;
    std::vector<int> groups;
    for (std::size_t i = 0; i < node.arguments.size(); ++i) {
      const Argument& argument = node.arguments[i];
      if (argument.kind != Argument::Kind::Tag) {
        node.positional.push_back(argument);
        continue;
      }
      if (!node.positional.empty()) {
        return error(argument.line,
                     "tag :" + argument.tag + " after a positional argument of " + what);
      }
      const TagSpec* tag = nullptr;
      for (const TagSpec* candidate : allowed) {
        if (candidate->name == argument.tag) tag = candidate;
      }
      if (tag == nullptr)
        return error(argument.line, "unknown tag :" + argument.tag + " for " + what);
      if (!tag->extension.empty() && !has(tag->extension)) {
        return error(argument.line, "tag :" + argument.tag + " needs require \"" +
                                        std::string(tag->extension) + "\"");
      }
      if (std::find(seen.begin(), seen.end(), argument.tag) != seen.end() ||
          (tag->group != kNoGroup &&
           std::find(groups.begin(), groups.end(), tag->group) != groups.end())) {
        return error(argument.line, "tag :" + argument.tag + " conflicts with an earlier tag");
      }
      seen.push_back(argument.tag);
      groups.push_back(tag->group);
      Argument value;
      value.kind = Argument::Kind::Tag;
      value.tag = argument.tag;
      value.line = argument.line;
      if (tag->value != Shape::None) {
        if (i + 1 >= node.arguments.size() || !shape_fits(tag->value, node.arguments[i + 1])) {
          return error(argument.line,
                       "tag :" + argument.tag + " takes " + std::string(shape_name(tag->value)));
        }
        value = node.arguments[++i];
      }
      if (auto ok = apply_tag(node, *tag, value); !ok) return ok;
    }
    const std::size_t count = node.positional.size();
    if (count < spec.min_positional || count > spec.positional.size()) {
      return error(node.line, what + " takes " +
                                  (spec.min_positional == spec.positional.size()
                                       ? std::to_string(spec.min_positional)
                                       : std::to_string(spec.min_positional) + " to " +
                                             std::to_string(spec.positional.size())) +
                                  " positional arguments, got " + std::to_string(count));
    }
    const std::size_t skip = spec.optional_leading ? spec.positional.size() - count : 0;
    for (std::size_t i = 0; i < count; ++i) {
      const Shape shape = spec.positional[skip + i];
      if (!shape_fits(shape, node.positional[i])) {
        return error(node.positional[i].line, what + " argument " + std::to_string(i + 1) +
                                                  " must be " + std::string(shape_name(shape)));
      }
    }
    return {};
  }

  Result<void> apply_tag(Node& node, const TagSpec& tag, const Argument& value) {
    MatchSpec& match = node.match;
    if (tag.name == "comparator") {
      const std::string& name = value.strings[0];
      if (name == "i;octet") {
        match.comparator = Comparator::Octet;
      } else if (name == "i;ascii-casemap") {
        match.comparator = Comparator::AsciiCasemap;
      } else if (name == "i;ascii-numeric") {
        if (!has("comparator-i;ascii-numeric")) {
          return error(value.line,
                       "comparator i;ascii-numeric needs require "
                       "\"comparator-i;ascii-numeric\"");
        }
        match.comparator = Comparator::AsciiNumeric;
      } else {
        return error(value.line, "unknown comparator \"" + name + "\"");
      }
      return {};
    }
    if (tag.group == kMatchGroup) {
      static const std::pair<std::string_view, MatchType> types[] = {
          {"is", MatchType::Is},           {"contains", MatchType::Contains},
          {"matches", MatchType::Matches}, {"regex", MatchType::Regex},
          {"count", MatchType::Count},     {"value", MatchType::Value}};
      for (const auto& [name, type] : types) {
        if (name == tag.name) match.type = type;
      }
      if (tag.value == Shape::String) {
        static const std::pair<std::string_view, Relation> relations[] = {
            {"gt", Relation::Gt}, {"ge", Relation::Ge}, {"lt", Relation::Lt},
            {"le", Relation::Le}, {"eq", Relation::Eq}, {"ne", Relation::Ne}};
        const std::string relation = lowercase(value.strings[0]);
        bool known = false;
        for (const auto& [name, code] : relations) {
          if (name == relation) {
            match.relation = code;
            known = true;
          }
        }
        if (!known) return error(value.line, "unknown relation \"" + value.strings[0] + "\"");
      }
      return {};
    }
    if (tag.group == kAddressGroup) {
      static const std::pair<std::string_view, AddressPart> parts[] = {
          {"all", AddressPart::All},
          {"localpart", AddressPart::Localpart},
          {"domain", AddressPart::Domain},
          {"user", AddressPart::User},
          {"detail", AddressPart::Detail}};
      for (const auto& [name, part] : parts) {
        if (name == tag.name) match.part = part;
      }
      return {};
    }
    node.tags.push_back({std::string(tag.name), value});
    return {};
  }

  // Checks past the shapes: values a command needs to be meaningful.
  Result<void> semantics(Node& node, const std::string& what) {
    const MatchSpec& match = node.match;
    if (match.comparator == Comparator::AsciiNumeric &&
        (match.type == MatchType::Contains || match.type == MatchType::Matches ||
         match.type == MatchType::Regex)) {
      return error(node.line, "comparator i;ascii-numeric does not support substring matches");
    }
    if (node.has_tag("last") && node.name != "addheader" && node.name != "duplicate" &&
        !node.has_tag("index")) {
      return error(node.line, "tag :last needs :index");
    }
    if (const Argument* index = node.tag("index"); index != nullptr && index->number == 0) {
      return error(index->line, ":index counts from 1");
    }
    const bool variables = has("variables");
    if (match.type == MatchType::Regex && !node.positional.empty()) {
      for (const std::string& pattern : node.positional.back().strings) {
        if (variables && may_have_variables(pattern)) continue;
        if (auto problem = regex_problem(pattern, match.comparator); !problem.empty()) {
          return error(node.positional.back().line, "bad regex \"" + pattern + "\": " + problem);
        }
      }
    }
    const auto constant = [&](const Argument& argument) {
      return !variables || !may_have_variables(argument.strings[0]);
    };
    if (node.name == "size" && node.tags.empty())
      return error(node.line, "size needs :over or :under");
    if (node.name == "redirect" && constant(node.positional[0]) &&
        !is_redirect_address(node.positional[0].strings[0])) {
      return error(node.line, "redirect needs an address local@domain");
    }
    if (node.name == "envelope") {
      for (const std::string& part : node.positional[0].strings) {
        if (!iequals(part, "from") && !iequals(part, "to")) {
          return error(node.line, "unknown envelope part \"" + part + "\"");
        }
      }
    }
    if (node.name == "date" || node.name == "currentdate") {
      const Argument& part = node.positional[node.positional.size() - 2];
      if (constant(part) && !is_date_part(lowercase(part.strings[0]))) {
        return error(part.line, "unknown date part \"" + part.strings[0] + "\"");
      }
    }
    if (node.name == "set") {
      const std::string& name = node.positional[0].strings[0];
      if (!is_variable_name(name)) return error(node.line, "bad variable name \"" + name + "\"");
    }
    if ((node.name == "addheader" || node.name == "deleteheader") && constant(node.positional[0]) &&
        !is_field_name(node.positional[0].strings[0])) {
      return error(node.line, "bad header field name \"" + node.positional[0].strings[0] + "\"");
    }
    if (node.name == "vacation") {
      if (const Argument* days = node.tag("days"); days != nullptr && days->number == 0) {
        return error(days->line, ":days must be at least 1");
      }
    }
    if (node.name == "include") {
      const std::string& name = node.positional[0].strings[0];
      if (name.empty() || name.find('/') != std::string::npos) {
        return error(node.line, "bad script name \"" + name + "\" for include");
      }
    }
    (void)what;
    return {};
  }

  Script& script_;
};

}  // namespace

Result<void> validate(Script& script) { return Validator(script).run(); }

bool is_date_part(std::string_view name) {
  static const std::string_view parts[] = {"year",  "month",  "day",    "date", "julian",
                                           "hour",  "minute", "second", "time", "iso8601",
                                           "std11", "zone",   "weekday"};
  return std::find(std::begin(parts), std::end(parts), name) != std::end(parts);
}

bool is_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= 32 || c >= 127 || c == ':') return false;
  }
  return true;
}

bool is_redirect_address(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  for (char c : address) {
    if (static_cast<unsigned char>(c) <= 32 || c == '<' || c == '>' || c == ',' || c == 0x7f) {
      return false;
    }
  }
  return true;
}

const std::vector<std::string_view>& supported_extensions() {
  static const std::vector<std::string_view> names = {"body",
                                                      "comparator-i;ascii-casemap",
                                                      "comparator-i;ascii-numeric",
                                                      "comparator-i;octet",
                                                      "copy",
                                                      "date",
                                                      "duplicate",
                                                      "editheader",
                                                      "envelope",
                                                      "ereject",
                                                      "fileinto",
                                                      "imap4flags",
                                                      "include",
                                                      "index",
                                                      "mailbox",
                                                      "regex",
                                                      "reject",
                                                      "relational",
                                                      "spamtest",
                                                      "spamtestplus",
                                                      "subaddress",
                                                      "vacation",
                                                      "variables",
                                                      "virustest"};
  return names;
}

}  // namespace rampart::sieve
