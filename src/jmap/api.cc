#include "jmap/api.h"

#include <boost/json.hpp>
#include <charconv>
#include <exception>

#include "base/log.h"
#include "base/metrics.h"

namespace rampart::jmap {
namespace {

constexpr char kErrorPrefix[] = "urn:ietf:params:jmap:error:";

RequestError request_error(const char* type, std::string detail, std::string limit = {}) {
  return {.type = std::string(kErrorPrefix) + type,
          .status = 400,
          .detail = std::move(detail),
          .limit = std::move(limit)};
}

std::string unescape_token(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

// Pointers are short; a bound keeps "*" over nested arrays from recursing without end.
constexpr std::size_t kMaxPointerTokens = 32;

std::optional<json::value> apply(const json::value& value, const std::vector<std::string>& tokens,
                                 std::size_t at) {
  if (at == tokens.size()) return value;
  const std::string& token = tokens[at];
  if (const json::object* object = value.if_object()) {
    const json::value* child = object->if_contains(token);
    if (!child) return std::nullopt;
    return apply(*child, tokens, at + 1);
  }
  const json::array* array = value.if_array();
  if (!array) return std::nullopt;
  if (token == "*") {
    json::array out;
    for (const json::value& item : *array) {
      auto result = apply(item, tokens, at + 1);
      if (!result) return std::nullopt;
      if (json::array* items = result->if_array()) {
        for (json::value& inner : *items) out.push_back(std::move(inner));
      } else {
        out.push_back(std::move(*result));
      }
    }
    return json::value(std::move(out));
  }
  std::size_t index = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), index);
  if (error != std::errc() || end != token.data() + token.size() || token.empty() ||
      (token.size() > 1 && token[0] == '0') || index >= array->size()) {
    return std::nullopt;
  }
  return apply((*array)[index], tokens, at + 1);
}

json::array response_entry(std::string_view name, json::value arguments, std::string_view call_id) {
  return json::array{json::string(name), std::move(arguments), json::string(call_id)};
}

json::object error_arguments(const MethodError& error) {
  json::object arguments{{"type", error.type}};
  if (!error.description.empty()) arguments["description"] = error.description;
  return arguments;
}

}  // namespace

json::value RequestError::problem() const {
  json::object out{{"type", type}, {"status", status}, {"detail", detail}};
  if (!limit.empty()) out["limit"] = limit;
  return out;
}

std::variant<Request, RequestError> parse_request(
    std::string_view body, const Limits& limits,
    const std::vector<std::string>& known_capabilities) {
  if (body.size() > limits.max_size_request) {
    return request_error("limit", "the request is larger than maxSizeRequest", "maxSizeRequest");
  }
  boost::system::error_code error;
  json::parse_options options;
  options.max_depth = 64;
  json::value value = json::parse(body, error, {}, options);
  if (error) return request_error("notJSON", "the body is not JSON: " + error.message());
  const json::object* object = value.if_object();
  if (!object) return request_error("notRequest", "a Request is a JSON object");
  const json::value* using_value = object->if_contains("using");
  const json::value* calls_value = object->if_contains("methodCalls");
  if (!using_value || !using_value->is_array() || !calls_value || !calls_value->is_array()) {
    return request_error("notRequest", "a Request has \"using\" and \"methodCalls\" arrays");
  }
  Request request;
  for (const json::value& capability : using_value->get_array()) {
    if (!capability.is_string()) return request_error("notRequest", "\"using\" holds strings");
    std::string name(capability.get_string());
    if (std::find(known_capabilities.begin(), known_capabilities.end(), name) ==
        known_capabilities.end()) {
      return request_error("unknownCapability", "this server does not support " + name);
    }
    request.capabilities.push_back(std::move(name));
  }
  const json::array& calls = calls_value->get_array();
  if (calls.size() > limits.max_calls_in_request) {
    return request_error("limit", "more method calls than maxCallsInRequest", "maxCallsInRequest");
  }
  for (const json::value& call : calls) {
    const json::array* parts = call.if_array();
    if (!parts || parts->size() != 3 || !(*parts)[0].is_string() || !(*parts)[1].is_object() ||
        !(*parts)[2].is_string()) {
      return request_error("notRequest", "each method call is [name, arguments, callId]");
    }
    request.calls.push_back({std::string((*parts)[0].get_string()), (*parts)[1].get_object(),
                             std::string((*parts)[2].get_string())});
  }
  if (const json::value* created = object->if_contains("createdIds")) {
    const json::object* ids = created->if_object();
    if (!ids) return request_error("notRequest", "\"createdIds\" is an object");
    for (const auto& [key, id] : *ids) {
      if (!id.is_string()) return request_error("notRequest", "\"createdIds\" maps to ids");
    }
    request.created_ids = *ids;
  }
  return request;
}

std::optional<json::value> evaluate_pointer(const json::value& root, std::string_view pointer) {
  if (pointer.empty()) return root;
  if (pointer.front() != '/') return std::nullopt;
  std::vector<std::string> tokens;
  pointer.remove_prefix(1);
  for (;;) {
    const auto slash = pointer.find('/');
    tokens.push_back(unescape_token(pointer.substr(0, slash)));
    if (tokens.size() > kMaxPointerTokens) return std::nullopt;
    if (slash == std::string_view::npos) break;
    pointer.remove_prefix(slash + 1);
  }
  return apply(root, tokens, 0);
}

std::size_t json_size(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
    case json::kind::bool_:
      return 5;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return 20;
    case json::kind::string: {
      // As serialized: a control character takes six bytes (\u00XX), '"' and '\\' two.
      std::size_t size = value.get_string().size() + 2;
      for (const char c : value.get_string()) {
        if (static_cast<unsigned char>(c) < 0x20) size += 5;
        if (c == '"' || c == '\\') size += 1;
      }
      return size;
    }
    case json::kind::array: {
      std::size_t size = 2;
      for (const json::value& item : value.get_array()) size += json_size(item) + 1;
      return size;
    }
    case json::kind::object: {
      std::size_t size = 2;
      for (const auto& [key, item] : value.get_object()) size += key.size() + 4 + json_size(item);
      return size;
    }
  }
  return 0;
}

std::optional<MethodError> resolve_references(json::object& arguments,
                                              const std::vector<Invocation>& responses,
                                              const Limits& limits, std::size_t& budget) {
  std::vector<std::string> references;
  for (const auto& [key, value] : arguments) {
    if (!key.empty() && key.front() == '#') references.emplace_back(key);
  }
  if (references.size() > limits.max_references_per_call) {
    return MethodError{"requestTooLarge", "more than " +
                                              std::to_string(limits.max_references_per_call) +
                                              " result references in one call"};
  }
  for (const std::string& key : references) {
    const std::string plain = key.substr(1);
    if (arguments.contains(plain)) {
      return MethodError{"invalidArguments", "both " + plain + " and " + key + " given"};
    }
    const json::object* reference = arguments.at(key).if_object();
    const json::value* result_of = reference ? reference->if_contains("resultOf") : nullptr;
    const json::value* name = reference ? reference->if_contains("name") : nullptr;
    const json::value* path = reference ? reference->if_contains("path") : nullptr;
    if (!result_of || !result_of->is_string() || !name || !name->is_string() || !path ||
        !path->is_string()) {
      return MethodError{"invalidResultReference", key + " is not a ResultReference"};
    }
    const Invocation* source = nullptr;
    for (const Invocation& response : responses) {
      if (response.call_id == result_of->get_string()) {
        source = &response;
        break;
      }
    }
    if (!source || source->name != name->get_string()) {
      return MethodError{"invalidResultReference",
                         key + ": no earlier " + std::string(name->get_string()) +
                             " response with call id " + std::string(result_of->get_string())};
    }
    auto value =
        evaluate_pointer(json::value(source->arguments), std::string_view(path->get_string()));
    if (!value) {
      return MethodError{"invalidResultReference",
                         key + ": the path " + std::string(path->get_string()) + " names nothing"};
    }
    const std::size_t size = json_size(*value);
    if (size > budget) {
      return MethodError{"requestTooLarge",
                         "the result references of this request copy more than " +
                             std::to_string(limits.max_size_references) + " bytes"};
    }
    budget -= size;
    arguments.erase(key);
    arguments[plain] = std::move(*value);
  }
  return std::nullopt;
}

Dispatcher::Dispatcher(Limits limits) : limits_(limits) {}

void Dispatcher::add(std::string name, std::string capability, Method method) {
  methods_[std::move(name)] = Entry{std::move(capability), std::move(method)};
}

void Dispatcher::describe(const std::string& capability, json::object session,
                          std::optional<json::object> account) {
  descriptions_[capability] = Description{std::move(session), std::move(account)};
}

MethodResult Dispatcher::call(std::string_view name, const json::object& arguments,
                              Context& context) const {
  auto found = methods_.find(name);
  if (found == methods_.end())
    return MethodError{"unknownMethod", "no method " + std::string(name)};
  return found->second.method(arguments, context);
}

std::vector<std::string> Dispatcher::capabilities() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : methods_) {
    if (std::find(out.begin(), out.end(), entry.capability) == out.end()) {
      out.push_back(entry.capability);
    }
  }
  for (const auto& [capability, description] : descriptions_) {
    if (std::find(out.begin(), out.end(), capability) == out.end()) out.push_back(capability);
  }
  return out;
}

std::variant<json::object, RequestError> Dispatcher::process(std::string_view body,
                                                             Context& context,
                                                             std::string_view session_state) const {
  auto parsed = parse_request(body, limits_, capabilities());
  if (auto* error = std::get_if<RequestError>(&parsed)) return std::move(*error);
  Request& request = std::get<Request>(parsed);
  if (request.created_ids) {
    for (const auto& [key, id] : *request.created_ids) {
      context.created_ids[std::string(key)] = std::string(id.get_string());
    }
  }
  std::vector<Invocation> responses;
  std::size_t reference_budget = limits_.max_size_references;
  std::size_t response_size = 0;
  // An answer that would take the response past its limit is replaced by an error.
  auto add_response = [&](std::string name, json::object arguments, const std::string& call_id) {
    const std::size_t size = json_size(arguments) + name.size() + call_id.size() + 8;
    if (response_size + size > limits_.max_size_response) {
      name = "error";
      arguments = error_arguments(
          {"requestTooLarge", "the response would be larger than " +
                                  std::to_string(limits_.max_size_response) + " bytes"});
    }
    response_size += json_size(arguments) + name.size() + call_id.size() + 8;
    responses.push_back({std::move(name), std::move(arguments), call_id});
  };
  context.dispatcher = this;
  for (Invocation& call : request.calls) {
    context.implied_responses.clear();
    auto answer = [&]() -> MethodResult {
      if (auto error = resolve_references(call.arguments, responses, limits_, reference_budget)) {
        return *error;
      }
      auto found = methods_.find(call.name);
      if (found == methods_.end() ||
          std::find(request.capabilities.begin(), request.capabilities.end(),
                    found->second.capability) == request.capabilities.end()) {
        return MethodError{"unknownMethod", "no method " + call.name + " in the capabilities used"};
      }
      // Kept per thread and method (only registered ones get here): a call only adds.
      static thread_local std::map<std::string, metrics::Metric*, std::less<>> calls;
      metrics::Metric*& counter = calls[call.name];
      if (!counter) {
        counter = &metrics::get("rampart_jmap_calls_total", metrics::Type::Counter,
                                "JMAP method calls.", "method=" + metrics::label(call.name));
      }
      counter->add();
      try {
        return found->second.method(call.arguments, context);
      } catch (const std::exception& error) {
        // what() can name files or SQL: the log has it, the client a fixed text.
        log::error("jmap: " + call.name + " threw: " + error.what());
        return MethodError{"serverFail", "the server failed; the error is in its log"};
      }
    }();
    // The arguments, references resolved, are not needed again.
    call.arguments = json::object();
    if (auto* error = std::get_if<MethodError>(&answer)) {
      add_response("error", error_arguments(*error), call.call_id);
    } else {
      add_response(call.name, std::move(std::get<json::object>(answer)), call.call_id);
      for (auto& [name, arguments] : context.implied_responses) {
        add_response(std::move(name), std::move(arguments), call.call_id);
      }
    }
  }
  json::array method_responses;
  for (Invocation& response : responses) {
    method_responses.push_back(
        response_entry(response.name, std::move(response.arguments), response.call_id));
  }
  json::object out{{"methodResponses", std::move(method_responses)},
                   {"sessionState", session_state}};
  if (request.created_ids) {
    json::object created;
    for (const auto& [key, id] : context.created_ids) created[key] = id;
    out["createdIds"] = std::move(created);
  }
  return out;
}

json::object session_resource(const Dispatcher& dispatcher, const std::string& account_id,
                              const std::string& username, const std::string& base_url) {
  const Limits& limits = dispatcher.limits();
  json::object capabilities;
  json::object account_capabilities;
  for (const std::string& capability : dispatcher.capabilities()) {
    if (capability == kCoreCapability) {
      capabilities[capability] =
          json::object{{"maxSizeUpload", limits.max_size_upload},
                       {"maxConcurrentUpload", 4},
                       {"maxSizeRequest", limits.max_size_request},
                       {"maxConcurrentRequests", 4},
                       {"maxCallsInRequest", limits.max_calls_in_request},
                       {"maxObjectsInGet", limits.max_objects_in_get},
                       {"maxObjectsInSet", limits.max_objects_in_set},
                       {"collationAlgorithms", json::array{"i;ascii-casemap", "i;octet"}}};
    } else if (auto found = dispatcher.descriptions_.find(capability);
               found != dispatcher.descriptions_.end()) {
      capabilities[capability] = found->second.session;
      if (found->second.account) account_capabilities[capability] = *found->second.account;
    } else {
      capabilities[capability] = json::object{};
      account_capabilities[capability] = json::object{};
    }
  }
  json::object primary;
  for (const auto& [capability, value] : account_capabilities) primary[capability] = account_id;
  return json::object{
      {"capabilities", std::move(capabilities)},
      {"accounts", json::object{{account_id, json::object{{"name", username},
                                                          {"isPersonal", true},
                                                          {"isReadOnly", false},
                                                          {"accountCapabilities",
                                                           std::move(account_capabilities)}}}}},
      {"primaryAccounts", std::move(primary)},
      {"username", username},
      {"apiUrl", base_url + "/jmap/api"},
      {"downloadUrl", base_url + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}"},
      {"uploadUrl", base_url + "/jmap/upload/{accountId}/"},
      {"eventSourceUrl",
       base_url + "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}"},
      {"state", "1"}};
}

void add_core_methods(Dispatcher& dispatcher) {
  dispatcher.add("Core/echo", kCoreCapability,
                 [](const json::object& arguments, Context&) -> MethodResult { return arguments; });
}

}  // namespace rampart::jmap
