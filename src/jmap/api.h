// The JMAP API request (RFC 8620 §3): decoding with the limits the session advertises,
// result references (§3.7), and the dispatch of method calls to registered methods.
// Transport-free: the HTTP handler hands in the body and the authenticated account's
// context, and sends back what `process` returns. Errors are the RFC's: a request that
// is not JSON or not a Request, or names an unknown capability or too many calls, is
// refused whole (§3.6.1); a failing call answers "error" in its place (§3.6.2) and the
// others go on.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rampart::jmap {

namespace json = boost::json;

inline constexpr char kCoreCapability[] = "urn:ietf:params:jmap:core";
inline constexpr char kWebSocketCapability[] = "urn:ietf:params:jmap:websocket";

// What the session resource advertises under the core capability, and enforces.
struct Limits {
  std::size_t max_size_request = 10'000'000;
  std::size_t max_calls_in_request = 16;
  std::size_t max_objects_in_get = 500;
  std::size_t max_objects_in_set = 500;
  std::size_t max_size_upload = 10 * 1024 * 1024;  // the HTTP server's body limit
  // Not advertised, and not in RFC 8620: what result references may copy and what one
  // response may hold, so that a small request cannot make the server build a huge one
  // (a call refers to a big result many times, chained through several calls). Past
  // them a call is answered with the error requestTooLarge in its place.
  std::size_t max_references_per_call = 32;
  std::size_t max_size_references = 10'000'000;  // bytes all references of a request copy
  std::size_t max_size_response = 20'000'000;    // bytes of the method responses
};

// About the bytes `value` takes serialized, without serializing it: the measure of
// the limits above.
std::size_t json_size(const json::value& value);

struct Invocation {
  std::string name;
  json::object arguments;
  std::string call_id;
};

struct Request {
  std::vector<std::string> capabilities;  // "using"
  std::vector<Invocation> calls;
  std::optional<json::object> created_ids;
};

// A request refused whole: an RFC 7807 problem with the JMAP error type.
struct RequestError {
  std::string type;  // "urn:ietf:params:jmap:error:notJSON", ...
  int status = 400;
  std::string detail;
  std::string limit;            // for ...:limit, the limit's name ("maxCallsInRequest")
  json::value problem() const;  // {"type":..., "status":..., "detail":...}
};

// A method-level error (§3.6.2): ["error", {"type": ..., "description": ...}, callId].
struct MethodError {
  std::string type;  // "unknownMethod", "invalidArguments", "invalidResultReference", ...
  std::string description;
};

// Decodes a Request; `known_capabilities` are those the server supports.
std::variant<Request, RequestError> parse_request(
    std::string_view body, const Limits& limits,
    const std::vector<std::string>& known_capabilities);

// Evaluates a JSON Pointer (RFC 6901) with JMAP's "*" over arrays (§3.7).
std::optional<json::value> evaluate_pointer(const json::value& root, std::string_view pointer);

// Replaces each "#name" argument, a ResultReference, by the value it names in the
// responses so far; an error when one cannot be resolved, or when the call has more
// than max_references_per_call of them or their values would take `budget` (the bytes
// references may still copy in this request) below zero (requestTooLarge).
std::optional<MethodError> resolve_references(json::object& arguments,
                                              const std::vector<Invocation>& responses,
                                              const Limits& limits, std::size_t& budget);

class Dispatcher;

// What every method learns about the call it answers.
struct Context {
  std::string account_id;  // the authenticated account's JMAP id
  const Limits* limits = nullptr;
  std::int64_t account = 0;  // that account's id in the store
  std::string username;      // its address
  std::string address;       // the client's IP address, for the audit trail
  // The creation ids of this request (§5.3): a create records "name" -> id here, and
  // an id argument "#name" later in the request means that id. Seeded from the
  // request's createdIds, and returned as the response's createdIds.
  std::map<std::string, std::string, std::less<>> created_ids;
  // Records an access to the account's mail in the audit trail (kind "read",
  // "change", "expunge"; src/audit/trail.h), if set.
  std::function<void(const char* kind, std::string mailbox, std::int64_t count, std::string detail)>
      audit;
  // For a method that implies another (EmailSubmission/set's onSuccessUpdateEmail):
  // the dispatcher to call it through, and the responses to send after its own, with
  // its call id (RFC 8621 §7.5).
  const Dispatcher* dispatcher = nullptr;
  std::vector<std::pair<std::string, json::object>> implied_responses;
};

using MethodResult = std::variant<json::object, MethodError>;
using Method = std::function<MethodResult(const json::object& arguments, Context& context)>;

class Dispatcher {
 public:
  explicit Dispatcher(Limits limits = {});
  // `capability` must be in the request's "using" for the method to be callable.
  void add(std::string name, std::string capability, Method method);
  // What the session resource says about a capability: `session` under
  // "capabilities", `account` (if any) under the account's "accountCapabilities". A
  // described capability is known even without methods (urn:ietf:params:jmap:websocket).
  void describe(const std::string& capability, json::object session,
                std::optional<json::object> account);
  std::vector<std::string> capabilities() const;
  // Runs a registered method directly (an implied call); unknownMethod if none.
  MethodResult call(std::string_view name, const json::object& arguments, Context& context) const;
  const Limits& limits() const { return limits_; }

  // Runs `body`: the Response object (§3.4), or the request-level error.
  std::variant<json::object, RequestError> process(std::string_view body, Context& context,
                                                   std::string_view session_state) const;

 private:
  struct Entry {
    std::string capability;
    Method method;
  };
  struct Description {
    json::object session;
    std::optional<json::object> account;
  };
  friend json::object session_resource(const Dispatcher&, const std::string&, const std::string&,
                                       const std::string&);
  Limits limits_;
  std::map<std::string, Entry, std::less<>> methods_;
  std::map<std::string, Description, std::less<>> descriptions_;
};

// The JMAP Session resource (RFC 8620 §2) for one account: the capabilities the
// dispatcher serves with their limits, the account, and the URLs under `base_url`
// ("https://mail.example.org").
json::object session_resource(const Dispatcher& dispatcher, const std::string& account_id,
                              const std::string& username, const std::string& base_url);

// Core/echo (RFC 8620 §4): returns its arguments.
void add_core_methods(Dispatcher& dispatcher);

}  // namespace rampart::jmap
