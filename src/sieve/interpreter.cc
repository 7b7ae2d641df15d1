#include "sieve/interpreter.h"

#include <algorithm>
#include <utility>

#include "base/ascii.h"
#include "sieve/run_internal.h"
#include "sieve/validate_internal.h"

namespace rampart::sieve {
namespace {

tl::unexpected<Error> error(int line, const std::string& message) {
  return fail(Errc::BadInput, "line " + std::to_string(line) + ": " + message);
}

// Cuts `text` to at most `size` bytes, not inside a UTF-8 sequence.
void truncate_utf8(std::string& text, std::size_t size) {
  if (text.size() <= size) return;
  while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) --size;
  text.resize(size);
}

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// RFC 5232 section 3: a flag list is the space-separated words of its strings.
std::vector<std::string> split_flags(const std::vector<std::string>& strings) {
  std::vector<std::string> flags;
  for (const std::string& text : strings) {
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      const std::size_t start = i;
      while (i < text.size() && text[i] != ' ') ++i;
      if (i > start) {
        std::string flag = text.substr(start, i - start);
        const bool known = std::any_of(flags.begin(), flags.end(), [&](const std::string& other) {
          return iequals(other, flag);
        });
        if (!known) flags.push_back(std::move(flag));
      }
    }
  }
  return flags;
}

std::string join_flags(const std::vector<std::string>& flags) {
  std::string text;
  for (const std::string& flag : flags) {
    if (!text.empty()) text += ' ';
    text += flag;
  }
  return text;
}

// RFC 5293 section 6 (as this module reads it): trace and auto-reply markers stay as
// they are; adding or deleting them is silently skipped.
bool is_protected_field(std::string_view name) {
  return iequals(name, "Received") || iequals(name, "Auto-Submitted");
}

std::string fnv1a_hex(std::string_view text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  static const char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<std::size_t>(i)] = digits[hash & 15];
  return out;
}

}  // namespace

Run::Run(const Input& input, const Callbacks& callbacks, const RunLimits& limits)
    : input_(input), callbacks_(callbacks), limits_(limits), message_(input.message) {}

Outcome Run::run(const Script& script) {
  Scope scope{script, {}, {}};
  auto flow = commands(scope, script.commands);
  Result<void> ok = flow ? check_conflicts() : Result<void>(tl::unexpected(flow.error()));
  Outcome outcome;
  if (!ok) {
    // RFC 5228 section 2.10.6: a failed script still delivers, by the implicit keep.
    outcome.actions.push_back(Action{.kind = Action::Kind::Keep});
    outcome.error = ok.error().detail;
    return outcome;
  }
  outcome.actions = std::move(actions_);
  outcome.implicit_keep = implicit_keep_;
  if (implicit_keep_)
    outcome.actions.push_back(Action{.kind = Action::Kind::Keep, .flags = flags_});
  if (edited_) outcome.edited_message = std::move(message_);
  outcome.duplicates = std::move(duplicates_);
  return outcome;
}

Result<void> Run::step(int line) {
  if (++steps_ > limits_.max_steps) {
    return error(line, "more than " + std::to_string(limits_.max_steps) + " steps");
  }
  return {};
}

// RFC 5229 section 3: "${name}" and "${N}"; anything else that starts with "${" stays
// as written. Namespaced names (with a dot) are not supported and stay too.
std::string Run::expand(const Scope& scope, std::string_view text) const {
  if (!scope.variables_on() || !may_have_variables(text)) return std::string(text);
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = text.find("${", i);
    if (start == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, start - i));
    const std::size_t end = text.find('}', start + 2);
    const std::string_view name = end == std::string_view::npos
                                      ? std::string_view()
                                      : text.substr(start + 2, end - start - 2);
    const bool digits = !name.empty() && std::all_of(name.begin(), name.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      std::size_t index = 0;
      for (char c : name)
        index = std::min<std::size_t>(index * 10 + static_cast<std::size_t>(c - '0'), 100);
      if (index < scope.match.size()) out.append(scope.match[index]);
      i = end + 1;
    } else if (is_variable_name(name)) {
      if (auto found = scope.variables.find(lowercase(name)); found != scope.variables.end()) {
        out.append(found->second);
      }
      i = end + 1;
    } else {
      out.append("${");
      i = start + 2;
    }
    if (out.size() > limits_.max_value_bytes) break;
  }
  truncate_utf8(out, limits_.max_value_bytes);
  return out;
}

std::vector<std::string> Run::expand(const Scope& scope,
                                     const std::vector<std::string>& list) const {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (const std::string& text : list) out.push_back(expand(scope, text));
  return out;
}

Result<Flow> Run::commands(Scope& scope, const std::vector<Command>& commands) {
  bool last_test = true;  // whether the if/elsif chain before has taken a branch
  for (const Command& command : commands) {
    auto flow = this->command(scope, command, last_test);
    if (!flow || *flow != Flow::Next) return flow;
  }
  return Flow::Next;
}

Result<Flow> Run::command(Scope& scope, const Command& command, bool& taken) {
  if (auto ok = step(command.line); !ok) return tl::unexpected(ok.error());
  const std::string& name = command.name;
  if (name == "require") return Flow::Next;
  if (name == "if" || name == "elsif" || name == "else") {
    if (name != "if" && taken) return Flow::Next;
    bool holds = true;
    if (name != "else") {
      auto result = test(scope, command.tests[0]);
      if (!result) return tl::unexpected(result.error());
      holds = *result;
    }
    taken = holds;
    return holds ? commands(scope, command.block) : Flow::Next;
  }
  if (name == "stop") return Flow::Stop;
  if (name == "return") return Flow::Return;
  if (name == "include") return include(scope, command);
  Result<void> ok;
  if (name == "set") {
    ok = set(scope, command);
  } else if (name == "setflag" || name == "addflag" || name == "removeflag") {
    ok = flag_command(scope, command);
  } else if (name == "vacation") {
    ok = vacation(scope, command);
  } else if (name == "addheader" || name == "deleteheader") {
    ok = edit_header(scope, command);
  } else {
    return action(scope, command);
  }
  if (!ok) return tl::unexpected(ok.error());
  return Flow::Next;
}

Result<Flow> Run::action(Scope& scope, const Command& command) {
  const std::string& name = command.name;
  const auto flags = [&]() {
    const Argument* tagged = command.tag("flags");
    return tagged != nullptr ? split_flags(expand(scope, tagged->strings)) : flags_;
  };
  Action action;
  if (name == "keep") {
    action = Action{.kind = Action::Kind::Keep, .flags = flags()};
  } else if (name == "discard") {
    implicit_keep_ = false;
    return Flow::Next;
  } else if (name == "fileinto") {
    action = Action{.kind = Action::Kind::Fileinto,
                    .mailbox = expand(scope, command.positional[0].strings[0]),
                    .flags = flags(),
                    .create = command.has_tag("create"),
                    .copy = command.has_tag("copy")};
    if (action.mailbox.empty()) return error(command.line, "fileinto an empty mailbox name");
  } else if (name == "redirect") {
    action = Action{.kind = Action::Kind::Redirect,
                    .copy = command.has_tag("copy"),
                    .address = expand(scope, command.positional[0].strings[0])};
    if (!is_redirect_address(action.address)) {
      return error(command.line, "redirect to a bad address \"" + action.address + "\"");
    }
    const bool again = std::any_of(actions_.begin(), actions_.end(), [&](const Action& other) {
      return other.kind == Action::Kind::Redirect && iequals(other.address, action.address);
    });
    if (!again && ++redirects_ > limits_.max_redirects) {
      return error(command.line,
                   "more than " + std::to_string(limits_.max_redirects) + " redirects");
    }
  } else if (name == "reject" || name == "ereject") {
    action = Action{.kind = name == "reject" ? Action::Kind::Reject : Action::Kind::Ereject,
                    .reason = expand(scope, command.positional[0].strings[0])};
  } else {
    return error(command.line, "command '" + name + "' cannot run here");
  }
  if (!action.copy) implicit_keep_ = false;
  if (auto ok = add_action(std::move(action)); !ok) return tl::unexpected(ok.error());
  return Flow::Next;
}

// RFC 5228 section 2.10.3: a second keep, fileinto into the same mailbox or redirect
// to the same address is one action; the flags of both are set (RFC 5232 leaves it open).
Result<void> Run::add_action(Action action) {
  for (Action& other : actions_) {
    const bool same =
        other.kind == action.kind &&
        ((action.kind == Action::Kind::Keep) ||
         (action.kind == Action::Kind::Fileinto && other.mailbox == action.mailbox) ||
         (action.kind == Action::Kind::Redirect && iequals(other.address, action.address)));
    if (same) {
      std::vector<std::string> flags = other.flags;
      flags.insert(flags.end(), action.flags.begin(), action.flags.end());
      other.flags = split_flags(flags);
      other.copy = other.copy && action.copy;
      other.create = other.create || action.create;
      return {};
    }
  }
  if (actions_.size() >= limits_.max_actions) {
    return fail(Errc::TooBig, "more than " + std::to_string(limits_.max_actions) + " actions");
  }
  actions_.push_back(std::move(action));
  return {};
}

// RFC 5429 section 2.2 (reject and ereject exclude keep, fileinto, redirect and
// vacation, and one another), RFC 5230 section 4 (one vacation per run).
Result<void> Run::check_conflicts() {
  std::size_t rejects = 0, vacations = 0, deliveries = 0;
  for (const Action& action : actions_) {
    switch (action.kind) {
      case Action::Kind::Reject:
      case Action::Kind::Ereject:
        ++rejects;
        break;
      case Action::Kind::Vacation:
        ++vacations;
        break;
      case Action::Kind::Keep:
      case Action::Kind::Fileinto:
      case Action::Kind::Redirect:
        ++deliveries;
        break;
      case Action::Kind::Discard:
        break;
    }
  }
  if (rejects > 1) return fail(Errc::BadInput, "more than one reject");
  if (rejects == 1 && deliveries + vacations > 0) {
    return fail(Errc::BadInput,
                "reject cannot be combined with keep, fileinto, redirect or vacation");
  }
  return {};
}

Result<void> Run::set_variable(Scope& scope, std::string_view name, std::string value) {
  std::string key = lowercase(name);
  if (!scope.variables.contains(key) && scope.variables.size() >= limits_.max_variables) {
    return fail(Errc::TooBig, "more than " + std::to_string(limits_.max_variables) + " variables");
  }
  truncate_utf8(value, limits_.max_variable_bytes);
  scope.variables[std::move(key)] = std::move(value);
  return {};
}

// RFC 5229 section 4.1: modifiers apply from the highest precedence down: :lower or
// :upper (40), :lowerfirst or :upperfirst (30), :quotewildcard (20), :length (10).
// Case changes are ASCII only.
Result<void> Run::set(Scope& scope, const Command& command) {
  std::string value = expand(scope, command.positional[1].strings[0]);
  if (command.has_tag("lower")) value = lowercase(value);
  if (command.has_tag("upper")) value = uppercase(value);
  if (!value.empty() && command.has_tag("lowerfirst")) value[0] = ascii_lower(value[0]);
  if (!value.empty() && command.has_tag("upperfirst")) value[0] = ascii_upper(value[0]);
  if (command.has_tag("quotewildcard")) {
    std::string quoted;
    for (char c : value) {
      if (c == '*' || c == '?' || c == '\\') quoted += '\\';
      quoted += c;
    }
    value = std::move(quoted);
  }
  if (command.has_tag("length")) value = std::to_string(utf8_length(value));
  auto ok = set_variable(scope, command.positional[0].strings[0], std::move(value));
  if (!ok) return error(command.line, ok.error().detail);
  return {};
}

// RFC 5232 section 3: setflag, addflag and removeflag on the internal variable or on
// the variable named first.
Result<void> Run::flag_command(Scope& scope, const Command& command) {
  const bool named = command.positional.size() == 2;
  if (named && !scope.variables_on())
    return error(command.line, "a flag variable needs \"variables\"");
  const std::string variable = named ? expand(scope, command.positional[0].strings[0]) : "";
  if (named && !is_variable_name(variable)) {
    return error(command.line, "bad variable name \"" + variable + "\"");
  }
  std::vector<std::string> current =
      named ? split_flags({scope.variables[lowercase(variable)]}) : flags_;
  const std::vector<std::string> given =
      split_flags(expand(scope, command.positional.back().strings));
  if (command.name == "setflag") {
    current = given;
  } else if (command.name == "addflag") {
    current.insert(current.end(), given.begin(), given.end());
    current = split_flags(current);
  } else {
    std::erase_if(current, [&](const std::string& flag) {
      return std::any_of(given.begin(), given.end(),
                         [&](const std::string& other) { return iequals(flag, other); });
    });
  }
  if (!named) {
    flags_ = std::move(current);
    return {};
  }
  auto ok = set_variable(scope, variable, join_flags(current));
  if (!ok) return error(command.line, ok.error().detail);
  return {};
}

std::vector<std::string> Run::flag_values(Scope& scope, const std::vector<std::string>& names) {
  if (names.empty()) return flags_;
  std::vector<std::string> values;
  for (const std::string& name : names) {
    auto found = scope.variables.find(lowercase(expand(scope, name)));
    if (found != scope.variables.end()) values.push_back(found->second);
  }
  return split_flags(values);
}

// RFC 5230 section 4.5: no reply unless the message was sent to one of the
// recipient's addresses (in To, Cc, Bcc or their Resent- forms).
Result<void> Run::vacation(Scope& scope, const Command& command) {
  const bool again = std::any_of(actions_.begin(), actions_.end(), [](const Action& action) {
    return action.kind == Action::Kind::Vacation;
  });
  if (again) return error(command.line, "more than one vacation");
  Action action{.kind = Action::Kind::Vacation,
                .reason = expand(scope, command.positional[0].strings[0])};
  if (const Argument* days = command.tag("days")) {
    action.days = std::clamp<std::uint64_t>(days->number, 1, limits_.max_vacation_days);
  }
  if (const Argument* subject = command.tag("subject"))
    action.subject = expand(scope, subject->strings[0]);
  if (const Argument* from = command.tag("from")) action.from = expand(scope, from->strings[0]);
  if (const Argument* addresses = command.tag("addresses")) {
    action.addresses = expand(scope, addresses->strings);
  }
  action.mime = command.has_tag("mime");
  if (const Argument* handle = command.tag("handle")) {
    action.handle = expand(scope, handle->strings[0]);
  } else {
    // Section 4.2: without :handle, replies that differ in these are different.
    action.handle = fnv1a_hex(action.reason + '\0' + action.subject.value_or("") + '\0' +
                              action.from.value_or("") + (action.mime ? "\1" : "\0"));
  }
  std::vector<std::string> own = action.addresses;
  own.insert(own.end(), input_.recipient_addresses.begin(), input_.recipient_addresses.end());
  if (!input_.envelope_to.empty()) own.push_back(input_.envelope_to);
  bool addressed = false;
  for (const mime::HeaderField& field : fields()) {
    static const std::string_view names[] = {"to",        "cc",        "bcc",
                                             "resent-to", "resent-cc", "resent-bcc"};
    if (std::none_of(std::begin(names), std::end(names),
                     [&](std::string_view name) { return iequals(name, field.name); })) {
      continue;
    }
    if (++header_reads_ > limits_.max_header_fields) {
      return error(command.line, "more than " + std::to_string(limits_.max_header_fields) +
                                     " header fields read");
    }
    for (const mime::Address& address : mime::parse_address_list(field.value)) {
      if (address.kind != mime::Address::Kind::Mailbox) continue;
      const std::string spec = address.local + "@" + address.domain;
      for (const std::string& mine : own) addressed = addressed || iequals(spec, mine);
    }
  }
  if (!addressed) return {};
  if (auto ok = add_action(std::move(action)); !ok) return error(command.line, ok.error().detail);
  return {};
}

const std::vector<mime::HeaderField>& Run::fields() {
  if (!fields_) fields_ = mime::header_fields(mime::header_block(message_));
  return *fields_;
}

// RFC 5293: addheader puts the field first (or last with :last); deleteheader removes
// the fields of that name whose value matches one of the patterns (all without them),
// or only the :index'th. Both change the working copy later tests and the delivery see.
Result<void> Run::edit_header(Scope& scope, const Command& command) {
  const std::string name = expand(scope, command.positional[0].strings[0]);
  if (!is_field_name(name)) return error(command.line, "bad header field name \"" + name + "\"");
  if (is_protected_field(name)) return {};
  if (++edits_ > limits_.max_header_edits) {
    return error(command.line,
                 "more than " + std::to_string(limits_.max_header_edits) + " header edits");
  }
  const std::size_t header_end = mime::header_block(message_).size();
  if (command.name == "addheader") {
    std::string value = expand(scope, command.positional[1].strings[0]);
    // A value may not smuggle a second field: line ends become spaces.
    for (char& c : value) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    const std::string field = name + ": " + value + "\r\n";
    message_.insert(command.has_tag("last") ? header_end : 0, field);
  } else {
    const std::vector<std::string> patterns = command.positional.size() > 1
                                                  ? expand(scope, command.positional[1].strings)
                                                  : std::vector<std::string>();
    std::vector<std::pair<std::size_t, std::size_t>> doomed;  // [begin, end) to remove
    std::vector<std::size_t> matching;
    const auto& all = fields();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (iequals(all[i].name, name)) matching.push_back(i);
    }
    if (const Argument* index = command.tag("index")) {
      const std::size_t n = index->number;
      if (n > matching.size()) {
        matching.clear();
      } else {
        matching = {command.has_tag("last") ? matching[matching.size() - n] : matching[n - 1]};
      }
    }
    for (std::size_t i : matching) {
      if (++header_reads_ > limits_.max_header_fields) {
        return error(command.line, "more than " + std::to_string(limits_.max_header_fields) +
                                       " header fields read");
      }
      if (!patterns.empty()) {
        const std::string value = mime::decode_text(all[i].value);
        bool hit = false;
        for (const std::string& pattern : patterns) {
          hit = hit || match_value(command.match, value, pattern, regexes_, nullptr);
        }
        if (!hit) continue;
      }
      const std::size_t begin = all[i].offset;
      const std::size_t end = i + 1 < all.size() ? all[i + 1].offset : header_end;
      doomed.emplace_back(begin, end);
    }
    for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
      message_.erase(it->first, it->second - it->first);
    }
    if (doomed.empty()) return {};
  }
  edited_ = true;
  fields_.reset();
  structure_.reset();
  return {};
}

// RFC 6609: the included script runs with its own variables; "return" ends it,
// "stop" ends everything. A script already in the chain of includes is a loop.
Result<Flow> Run::include(Scope& scope, const Command& command) {
  const IncludeLocation location =
      command.has_tag("global") ? IncludeLocation::Global : IncludeLocation::Personal;
  const std::string name = expand(scope, command.positional[0].strings[0]);
  const auto key = std::make_pair(location, name);
  if (command.has_tag("once") &&
      std::find(included_once_.begin(), included_once_.end(), key) != included_once_.end()) {
    return Flow::Next;
  }
  if (std::find(include_chain_.begin(), include_chain_.end(), key) != include_chain_.end()) {
    return error(command.line, "include loop: \"" + name + "\" is already being run");
  }
  if (static_cast<int>(include_chain_.size()) >= limits_.max_include_depth) {
    return error(command.line, "includes nested more than " +
                                   std::to_string(limits_.max_include_depth) + " deep");
  }
  if (++includes_ > limits_.max_includes) {
    return error(command.line, "more than " + std::to_string(limits_.max_includes) + " includes");
  }
  std::optional<std::string> text;
  if (callbacks_.fetch_include) text = callbacks_.fetch_include(location, name);
  if (!text) {
    if (command.has_tag("optional")) return Flow::Next;
    return error(command.line, "included script \"" + name + "\" not found");
  }
  auto script = parse_script(*text, limits_.parse);
  if (!script) {
    return error(command.line, "included script \"" + name + "\": " + script.error().detail);
  }
  if (command.has_tag("once")) included_once_.push_back(key);
  include_chain_.push_back(key);
  Scope inner{*script, {}, {}};
  auto flow = commands(inner, script->commands);
  include_chain_.pop_back();
  if (!flow) return flow;
  return *flow == Flow::Stop ? Flow::Stop : Flow::Next;
}

Outcome run_script(const Script& script, const Input& input, const Callbacks& callbacks,
                   const RunLimits& limits) {
  return Run(input, callbacks, limits).run(script);
}

}  // namespace rampart::sieve
