// Sieve scripts (RFC 5228): the parser and validator, pure. Text in, a checked syntax
// tree out, or the first error with its line. The grammar is RFC 5228 section 8 (hash
// and bracket comments, quoted and "text:" strings with dot-stuffing, numbers with
// K/M/G, string lists, tagged arguments, tests, test lists, blocks); validation then
// checks that `require` names every extension before it is used, that each command,
// test and tag is one this module knows, and each argument's shape. The extensions
// known are those supported_extensions() lists; interpreter.h runs the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace rampart::sieve {

// Bounds on what a script may make the parser build. A script past one is refused
// (Errc::TooBig), never cut.
struct SieveLimits {
  std::size_t max_script_bytes = 64 * 1024;
  int max_nesting = 15;             // blocks, tests and test lists inside one another
  std::size_t max_commands = 2000;  // commands and tests together
  std::size_t max_string_bytes = 16 * 1024;
  std::size_t max_list_items = 256;  // strings in one string list
};

enum class Comparator : std::uint8_t { Octet, AsciiCasemap, AsciiNumeric };
enum class MatchType : std::uint8_t { Is, Contains, Matches, Regex, Count, Value };
enum class Relation : std::uint8_t { Gt, Ge, Lt, Le, Eq, Ne };  // RFC 5231
enum class AddressPart : std::uint8_t { All, Localpart, Domain, User, Detail };

struct Argument {
  enum class Kind : std::uint8_t { Tag, Number, String, StringList };
  Kind kind = Kind::String;
  std::string tag;                   // Tag: lowercased, without its colon
  std::uint64_t number = 0;          // Number: its K, M or G applied
  std::vector<std::string> strings;  // String: one; StringList: one or more
  int line = 0;
};

// The comparator, match type and address part a test names (or their defaults).
struct MatchSpec {
  Comparator comparator = Comparator::AsciiCasemap;
  MatchType type = MatchType::Is;
  Relation relation = Relation::Eq;  // for :count and :value
  AddressPart part = AddressPart::All;
};

// A tagged argument other than a comparator, match type or address part, with the
// argument that follows it when the tag takes one (:days 7, :flags ["\\Seen"]).
struct TaggedArgument {
  std::string tag;
  Argument value;  // Kind::Tag when the tag takes none
};

// What commands and tests share: the name (lowercased), the arguments as written, and
// what validation read from them.
struct Node {
  std::string name;
  int line = 0;
  std::vector<Argument> arguments;
  MatchSpec match;
  std::vector<Argument> positional;  // the arguments that are neither tags nor their values
  std::vector<TaggedArgument> tags;
  const Argument* tag(std::string_view name) const;  // null when absent
  bool has_tag(std::string_view name) const { return tag(name) != nullptr; }
};

struct Test : Node {
  std::vector<Test> tests;  // allof/anyof: the test list; not: its one test
};

struct Command : Node {
  std::vector<Test> tests;  // if/elsif: the one test
  std::vector<Command> block;
  bool has_block = false;
};

struct Script {
  std::vector<Command> commands;
  std::vector<std::string> extensions;  // as required, lowercased
  bool has_extension(std::string_view extension) const;
};

// Parses and validates a script. Errors: TooBig past a limit, BadInput otherwise; the
// detail reads "line N: what is wrong" and is meant for the script's author (ManageSieve
// CHECKSCRIPT and PUTSCRIPT answer with it).
Result<Script> parse_script(std::string_view text, const SieveLimits& limits = {});

// The capability strings this implementation supports ("fileinto", "variables",
// "comparator-i;ascii-numeric", ...), for ManageSieve's SIEVE capability.
const std::vector<std::string_view>& supported_extensions();

}  // namespace rampart::sieve
