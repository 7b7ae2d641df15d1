// The tests: RFC 5228 section 5 and the extensions'.
#include <algorithm>
#include <utility>

#include "base/ascii.h"
#include "mime/body.h"
#include "sieve/run_internal.h"

namespace rampart::sieve {
namespace {

tl::unexpected<Error> error(int line, const std::string& message) {
  return fail(Errc::BadInput, "line " + std::to_string(line) + ": " + message);
}

void cut(std::string& value, std::size_t size) {
  if (value.size() > size) value.resize(size);
}

// RFC 5173 section 5.2: does the part's type match one of :content's types ("text"
// matches text/*, "text/plain" only that, "" every type)?
bool content_matches(const mime::Part& part, const std::vector<std::string>& types) {
  for (const std::string& type : types) {
    const std::size_t slash = type.find('/');
    if (type.empty()) return true;
    if (slash == std::string::npos ? iequals(type, part.type)
                                   : iequals(type.substr(0, slash), part.type) &&
                                         iequals(type.substr(slash + 1), part.subtype)) {
      return true;
    }
  }
  return false;
}

void leaf_parts(const mime::Part& part, std::vector<const mime::Part*>& out) {
  if (part.children.empty()) {
    out.push_back(&part);
    return;
  }
  for (const mime::Part& child : part.children) leaf_parts(child, out);
}

}  // namespace

Result<bool> Run::test(Scope& scope, const Test& test) {
  if (auto ok = step(test.line); !ok) return tl::unexpected(ok.error());
  const std::string& name = test.name;
  if (name == "true") return true;
  if (name == "false") return false;
  if (name == "not") {
    auto inner = this->test(scope, test.tests[0]);
    if (!inner) return inner;
    return !*inner;
  }
  if (name == "allof" || name == "anyof") {
    const bool all = name == "allof";
    for (const Test& inner : test.tests) {
      auto result = this->test(scope, inner);
      if (!result) return result;
      if (*result != all) return !all;  // short-circuit, RFC 5228 section 5.2/5.3
    }
    return all;
  }
  if (name == "size") {
    const std::size_t size = input_.message.size();
    if (const Argument* over = test.tag("over")) return size > over->number;
    return size < test.tag("under")->number;
  }
  if (name == "exists") {
    for (const std::string& field : expand(scope, test.positional[0].strings)) {
      const auto& all = fields();
      if (std::none_of(all.begin(), all.end(),
                       [&](const mime::HeaderField& f) { return iequals(f.name, field); })) {
        return false;
      }
    }
    return true;
  }
  if (name == "mailboxexists") {
    for (const std::string& mailbox : expand(scope, test.positional[0].strings)) {
      if (!callbacks_.mailbox_exists || !callbacks_.mailbox_exists(mailbox)) return false;
    }
    return true;
  }
  if (name == "date" || name == "currentdate") return date_test(scope, test);
  if (name == "duplicate") return duplicate_test(scope, test);
  const std::vector<std::string> keys = expand(scope, test.positional.back().strings);
  std::vector<std::string> values;
  if (name == "header") {
    auto found = header_values(test, expand(scope, test.positional[0].strings), true);
    if (!found) return tl::unexpected(found.error());
    values = std::move(*found);
  } else if (name == "address") {
    auto found = header_values(test, expand(scope, test.positional[0].strings), false);
    if (!found) return tl::unexpected(found.error());
    for (const std::string& field : *found) {
      for (const mime::Address& address : mime::parse_address_list(field)) {
        if (address.kind != mime::Address::Kind::Mailbox) continue;
        for (std::string& part : address_parts(test.match.part, address.local, address.domain)) {
          values.push_back(std::move(part));
        }
      }
    }
  } else if (name == "envelope") {
    for (const std::string& part : expand(scope, test.positional[0].strings)) {
      const std::string& address =
          iequals(part, "from") ? input_.envelope_from : input_.envelope_to;
      if (address.empty()) {
        // Section 5.4: the null reverse path is the empty string, with no parts.
        if (test.match.part == AddressPart::All) values.emplace_back();
        continue;
      }
      const std::size_t at = address.rfind('@');
      const std::string_view local = std::string_view(address).substr(0, at);
      const std::string_view domain =
          at == std::string::npos ? std::string_view() : std::string_view(address).substr(at + 1);
      for (std::string& value : address_parts(test.match.part, local, domain)) {
        values.push_back(std::move(value));
      }
    }
  } else if (name == "string") {
    values = expand(scope, test.positional[0].strings);
    // RFC 5229 section 5: :count counts the strings that are not empty.
    if (test.match.type == MatchType::Count) std::erase(values, std::string());
  } else if (name == "hasflag") {
    const std::vector<std::string> names =
        test.positional.size() == 2 ? test.positional[0].strings : std::vector<std::string>();
    values = flag_values(scope, names);
  } else if (name == "body") {
    auto found = body_values(test, scope);
    if (!found) return tl::unexpected(found.error());
    values = std::move(*found);
  } else if (name == "spamtest") {
    const bool percent = test.has_tag("percent");
    const std::optional<int> score = percent ? input_.spam_percent : input_.spam_score;
    values.push_back(std::to_string(score.value_or(0)));
  } else if (name == "virustest") {
    values.push_back(std::to_string(input_.virus_score.value_or(0)));
  } else {
    return error(test.line, "test '" + name + "' cannot run here");
  }
  return match_keys(scope, test, values, keys);
}

Result<bool> Run::match_keys(Scope& scope, const Node& node, const std::vector<std::string>& values,
                             const std::vector<std::string>& keys) {
  if (node.match.type == MatchType::Count) {
    const std::string count = std::to_string(values.size());
    for (const std::string& key : keys) {
      if (relation_holds(node.match.relation, compare(node.match.comparator, count, key))) {
        return true;
      }
    }
    return false;
  }
  const bool captures = scope.variables_on() && (node.match.type == MatchType::Matches ||
                                                 node.match.type == MatchType::Regex);
  std::vector<std::string> found;
  for (const std::string& value : values) {
    for (const std::string& key : keys) {
      if (match_value(node.match, value, key, regexes_, captures ? &found : nullptr)) {
        // RFC 5229 section 3.2: a successful match sets ${0}..${9}.
        if (captures) {
          if (found.size() > 10) found.resize(10);
          scope.match = std::move(found);
        }
        return true;
      }
    }
  }
  return false;
}

// The decoded (or raw, for address) values of the fields named, within :index, each cut
// to max_value_bytes; every one read counts against max_header_fields.
Result<std::vector<std::string>> Run::header_values(const Node& node,
                                                    const std::vector<std::string>& names,
                                                    bool decode) {
  std::vector<std::string> values;
  const auto& all = fields();
  for (const std::string& name : names) {
    std::vector<const mime::HeaderField*> matching;
    for (const mime::HeaderField& field : all) {
      if (iequals(field.name, name)) matching.push_back(&field);
    }
    if (const Argument* index = node.tag("index")) {
      const std::size_t n = index->number;
      if (n > matching.size()) continue;
      matching = {node.has_tag("last") ? matching[matching.size() - n] : matching[n - 1]};
    }
    for (const mime::HeaderField* field : matching) {
      if (++header_reads_ > limits_.max_header_fields) {
        return error(node.line, "more than " + std::to_string(limits_.max_header_fields) +
                                    " header fields read");
      }
      std::string_view raw = field->value.substr(0, limits_.max_value_bytes);
      std::string value = decode ? mime::decode_text(raw) : std::string(raw);
      cut(value, limits_.max_value_bytes);
      values.push_back(std::move(value));
    }
  }
  return values;
}

// RFC 5228 section 2.7.4 and RFC 5233: the parts of one address; :user and :detail
// split the local part at its first "+", and :detail has nothing without one.
std::vector<std::string> Run::address_parts(AddressPart part, std::string_view local,
                                            std::string_view domain) const {
  const std::size_t plus = local.find('+');
  switch (part) {
    case AddressPart::All:
      return {domain.empty() ? std::string(local) : std::string(local) + "@" + std::string(domain)};
    case AddressPart::Localpart:
      return {std::string(local)};
    case AddressPart::Domain:
      return {std::string(domain)};
    case AddressPart::User:
      return {std::string(local.substr(0, plus))};
    case AddressPart::Detail:
      if (plus == std::string_view::npos) return {};
      return {std::string(local.substr(plus + 1))};
  }
  return {};
}

// RFC 5173: :raw is the body undecoded; :text (the default) the text parts decoded;
// :content the leaf parts of the types named, decoded. All bounded by max_body_bytes.
Result<std::vector<std::string>> Run::body_values(const Node& node, const Scope& scope) {
  std::vector<std::string> values;
  const std::string_view message = message_;
  const auto charge = [&](std::string& value) {
    const std::size_t left =
        limits_.max_body_bytes > body_bytes_ ? limits_.max_body_bytes - body_bytes_ : 0;
    cut(value, std::min(left, limits_.max_value_bytes));
    body_bytes_ += value.size();
  };
  if (node.has_tag("raw")) {
    std::string body(message.substr(mime::header_block(message).size()));
    if (body.starts_with("\r\n")) body.erase(0, 2);
    charge(body);
    values.push_back(std::move(body));
    return values;
  }
  if (!structure_) structure_ = mime::parse(message_);
  std::vector<const mime::Part*> leaves;
  leaf_parts(structure_->root, leaves);
  const Argument* content = node.tag("content");
  const std::vector<std::string> types =
      content != nullptr ? expand(scope, content->strings) : std::vector<std::string>{"text"};
  for (const mime::Part* part : leaves) {
    if (!content_matches(*part, types)) continue;
    if (body_bytes_ >= limits_.max_body_bytes) break;
    std::string text = part->type == "text" ? mime::decode_text_body(message_, *part)
                                            : mime::decode_body(message_, *part);
    charge(text);
    values.push_back(std::move(text));
  }
  return values;
}

// RFC 5260 sections 4 and 5: date reads a header field's date (the :index'th), in the
// zone given, its own (:originalzone) or the recipient's; currentdate reads `now`.
Result<bool> Run::date_test(Scope& scope, const Test& test) {
  std::int32_t zone = input_.zone_minutes;
  if (const Argument* given = test.tag("zone")) {
    auto parsed = parse_zone(expand(scope, given->strings[0]));
    if (!parsed) return false;  // section 4.1: a bad zone makes the test false
    zone = *parsed;
  }
  const std::size_t count = test.positional.size();
  const std::string part = lowercase(expand(scope, test.positional[count - 2].strings[0]));
  const std::vector<std::string> keys = expand(scope, test.positional[count - 1].strings);
  std::vector<std::string> values;
  if (test.name == "currentdate") {
    values.push_back(date_part(input_.now, zone, part));
  } else {
    auto found = header_values(test, {expand(scope, test.positional[0].strings[0])}, false);
    if (!found) return tl::unexpected(found.error());
    for (const std::string& value : *found) {
      const std::string text = mime::unfold(value);
      // The date is what follows the last ";" (Received) or the whole value.
      const std::size_t semicolon = text.rfind(';');
      auto date =
          mime::parse_date(semicolon == std::string::npos ? text : text.substr(semicolon + 1));
      if (!date) continue;
      values.push_back(date_part(date->unix_seconds,
                                 test.has_tag("originalzone") ? date->zone_minutes : zone, part));
    }
  }
  std::erase(values, std::string());  // an unknown part (from a variable) matches nothing
  return match_keys(scope, test, values, keys);
}

// RFC 7352: the id is :uniqueid, the named header field's value or the Message-ID; no
// id makes the test false. Each id tested is recorded by the caller after delivery.
Result<bool> Run::duplicate_test(Scope& scope, const Test& test) {
  DuplicateQuery query;
  if (const Argument* handle = test.tag("handle")) query.handle = expand(scope, handle->strings[0]);
  if (const Argument* unique = test.tag("uniqueid")) {
    query.id = expand(scope, unique->strings[0]);
  } else {
    const Argument* header = test.tag("header");
    const std::string name = header != nullptr ? expand(scope, header->strings[0]) : "Message-ID";
    auto found = header_values(test, {name}, false);
    if (!found) return tl::unexpected(found.error());
    if (found->empty()) return false;
    query.id = mime::unfold(found->front());
    const std::size_t begin = query.id.find_first_not_of(" \t");
    const std::size_t end = query.id.find_last_not_of(" \t");
    query.id = begin == std::string::npos ? "" : query.id.substr(begin, end - begin + 1);
    if (query.id.empty()) return false;
  }
  query.seconds = 7 * 86400;
  if (const Argument* seconds = test.tag("seconds")) query.seconds = seconds->number;
  query.last = test.has_tag("last");
  const bool seen = callbacks_.duplicate_seen && callbacks_.duplicate_seen(query);
  if (duplicates_.size() < limits_.max_actions) duplicates_.push_back(std::move(query));
  return seen;
}

}  // namespace rampart::sieve
