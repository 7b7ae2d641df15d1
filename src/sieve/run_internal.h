// The state of one run_script(): interpreter.cc runs the commands and keeps the
// actions, tests.cc evaluates the tests, date.cc gives RFC 5260's date parts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "mime/header.h"
#include "mime/message.h"
#include "sieve/interpreter.h"
#include "sieve/match_internal.h"

namespace rampart::sieve {

// One script's variables (RFC 5229): an included script has its own.
struct Scope {
  const Script& script;
  std::map<std::string, std::string> variables;  // names lowercased
  std::vector<std::string> match;                // ${0}..${9} of the last successful match
  bool variables_on() const { return script.has_extension("variables"); }
};

enum class Flow : std::uint8_t { Next, Stop, Return };

class Run {
 public:
  Run(const Input& input, const Callbacks& callbacks, const RunLimits& limits);
  Outcome run(const Script& script);

  // interpreter.cc
  Result<Flow> commands(Scope& scope, const std::vector<Command>& commands);
  Result<Flow> command(Scope& scope, const Command& command, bool& last_test);
  std::string expand(const Scope& scope, std::string_view text) const;
  std::vector<std::string> expand(const Scope& scope, const std::vector<std::string>& list) const;
  Result<void> step(int line);

  // tests.cc
  Result<bool> test(Scope& scope, const Test& test);

 private:
  Result<Flow> action(Scope& scope, const Command& command);
  Result<void> set(Scope& scope, const Command& command);
  Result<void> flag_command(Scope& scope, const Command& command);
  Result<void> vacation(Scope& scope, const Command& command);
  Result<void> edit_header(Scope& scope, const Command& command);
  Result<Flow> include(Scope& scope, const Command& command);
  Result<void> add_action(Action action);
  Result<void> check_conflicts();
  Result<void> set_variable(Scope& scope, std::string_view name, std::string value);

  // tests.cc
  Result<bool> match_keys(Scope& scope, const Node& node, const std::vector<std::string>& values,
                          const std::vector<std::string>& keys);
  Result<std::vector<std::string>> header_values(const Node& node,
                                                 const std::vector<std::string>& names,
                                                 bool decode);
  std::vector<std::string> address_parts(AddressPart part, std::string_view local,
                                         std::string_view domain) const;
  Result<std::vector<std::string>> body_values(const Node& node, const Scope& scope);
  Result<bool> date_test(Scope& scope, const Test& test);
  Result<bool> duplicate_test(Scope& scope, const Test& test);

 public:
  const std::vector<mime::HeaderField>& fields();
  std::vector<std::string> flag_values(Scope& scope, const std::vector<std::string>& names);

 private:
  const Input& input_;
  const Callbacks& callbacks_;
  const RunLimits& limits_;
  std::string message_;  // the working copy editheader changes
  bool edited_ = false;
  std::optional<std::vector<mime::HeaderField>> fields_;
  std::optional<mime::Message> structure_;

  std::size_t steps_ = 0, header_reads_ = 0, body_bytes_ = 0, redirects_ = 0, includes_ = 0;
  std::size_t edits_ = 0;
  std::vector<Action> actions_;
  bool implicit_keep_ = true;
  std::vector<std::string> flags_;  // RFC 5232's internal variable
  std::vector<DuplicateQuery> duplicates_;
  RegexCache regexes_;
  std::vector<std::pair<IncludeLocation, std::string>> include_chain_, included_once_;
};

// RFC 5260 section 4.2: the date part `part` of the instant `unix_seconds` seen in the
// zone `zone_minutes` east of UTC.
std::string date_part(std::int64_t unix_seconds, std::int32_t zone_minutes, std::string_view part);

// "+hhmm" / "-hhmm" as minutes east of UTC.
std::optional<std::int32_t> parse_zone(std::string_view zone);

}  // namespace rampart::sieve
