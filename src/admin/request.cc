#include <algorithm>
#include <boost/json.hpp>
#include <initializer_list>

#include "admin/api.h"
#include "base/ascii.h"

namespace rampart::admin {
namespace {

namespace json = boost::json;

enum class Type { Text, Number };
struct Field {
  const char* name;
  Type type;
  bool required;
};
struct Spec {
  const char* call;
  std::initializer_list<Field> fields;
  const char* account_field;  // whose account the call concerns, for the trail
};

constexpr Field kName{"name", Type::Text, true};
constexpr Field kAddress{"address", Type::Text, true};
constexpr Field kPassword{"password", Type::Text, true};
constexpr Field kDevice{"device", Type::Text, true};
constexpr Field kDomain{"domain", Type::Text, false};
constexpr Field kId{"id", Type::Number, true};

const Spec kSpecs[] = {
    {"domain.add", {kName}, nullptr},
    {"domain.remove", {kName}, nullptr},
    {"domain.list", {}, nullptr},
    {"domain.dkim", {kName, {"rotate", Type::Number, true}}, nullptr},
    {"domain.records", {kName}, nullptr},
    {"user.add", {kAddress, kPassword}, "address"},
    {"user.passwd", {kAddress, kPassword}, "address"},
    {"user.remove", {kAddress}, "address"},
    {"user.list", {kDomain}, nullptr},
    {"user.quota", {kAddress, {"bytes", Type::Number, true}}, "address"},
    {"app_password.add", {kAddress, kDevice}, "address"},
    {"app_password.remove", {kAddress, kDevice}, "address"},
    {"app_password.list", {kAddress}, "address"},
    {"alias.add", {kAddress, {"target", Type::Text, true}}, nullptr},
    {"alias.remove", {kAddress}, nullptr},
    {"alias.list", {kDomain}, nullptr},
    {"queue.list", {}, nullptr},
    {"queue.show", {kId}, nullptr},
    {"queue.hold", {kId}, nullptr},
    {"queue.release", {kId}, nullptr},
    {"queue.retry", {{"id", Type::Number, false}}, nullptr},
    {"queue.remove", {kId}, nullptr},
    {"audit.query",
     {{"account", Type::Text, false},
      {"address", Type::Text, false},
      {"kind", Type::Text, false},
      {"since_ms", Type::Number, false},
      {"until_ms", Type::Number, false},
      {"limit", Type::Number, false}},
     "account"},
    {"audit.verify", {}, nullptr},
};

// Requests are small; anything bigger is not one.
constexpr std::size_t kMaxRequestBytes = 64 * 1024;

const Spec* find_spec(std::string_view call) {
  for (const Spec& spec : kSpecs) {
    if (call == spec.call) return &spec;
  }
  return nullptr;
}

}  // namespace

Result<Request> parse_request(std::string_view text) {
  if (text.size() > kMaxRequestBytes) return fail(Errc::TooBig, "request over 64 KiB");
  boost::system::error_code error;
  json::value value = json::parse(text, error);
  if (error) return fail(Errc::BadInput, "not JSON: " + error.message());
  const json::object* object = value.if_object();
  if (!object) return fail(Errc::BadInput, "a request is a JSON object");
  const json::value* call = object->if_contains("call");
  if (!call || !call->is_string()) return fail(Errc::BadInput, "no \"call\"");
  Request request{.call = std::string(call->get_string())};
  const Spec* spec = find_spec(request.call);
  if (!spec) return fail(Errc::NotFound, "no call named " + request.call);
  for (const auto& [key, field_value] : *object) {
    if (key == "call") continue;
    const std::string_view name = key;
    const auto* field = std::find_if(spec->fields.begin(), spec->fields.end(),
                                     [name](const Field& f) { return name == f.name; });
    if (field == spec->fields.end()) {
      return fail(Errc::BadInput, request.call + " has no field " + std::string(key));
    }
    if (field->type == Type::Text) {
      if (!field_value.is_string()) {
        return fail(Errc::BadInput, std::string(key) + " must be a string");
      }
      request.text.emplace(std::string(key), std::string(field_value.get_string()));
    } else {
      if (!field_value.is_int64()) {
        return fail(Errc::BadInput, std::string(key) + " must be an integer");
      }
      request.numbers.emplace(std::string(key), field_value.get_int64());
    }
  }
  for (const Field& field : spec->fields) {
    if (field.required && !request.text.contains(field.name) &&
        !request.numbers.contains(field.name)) {
      return fail(Errc::BadInput, request.call + " needs " + field.name);
    }
  }
  if (spec->account_field) {
    auto it = request.text.find(spec->account_field);
    if (it != request.text.end()) request.account = lowercase(it->second);
  }
  return request;
}

}  // namespace rampart::admin
