// What the JMAP methods (mailbox.cc, the email_*.cc, thread.cc, search_snippet.cc and
// the Submission files) share: ids, argument checks, /set and /changes over the
// store's change log, and the audit trail. Their errors are jmap/errors.h's.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "jmap/api.h"
#include "jmap/errors.h"
#include "store/object_id.h"
#include "store/store.h"

namespace rampart::jmap {

// Object ids are the store's (store/object_id.h), shared with IMAP OBJECTID.
using store::kEmailPrefix;
using store::kMailboxPrefix;
using store::kThreadPrefix;
using store::object_id;
using store::parse_object_id;
// A message's blobId is "B" and its SHA-256; a part's adds "_" and its partId.
inline constexpr char kBlobPrefix = 'B';
// An id argument: "#name" is what a create earlier in the request made (§5.3).
std::optional<std::int64_t> resolve_id(char prefix, std::string_view id, const Context& context);

// State strings are the account's MODSEQ (IMAP and JMAP share one counter).
std::string state_string(store::ModSeq modseq);
std::optional<store::ModSeq> parse_state(const json::value& value);

// An object, or null when it is empty (the maps of /set answers).
json::value or_null(json::object object);

// A /set (§5.3) begins here: accountId, ifInState (stateMismatch), the shapes of
// create, update and destroy, and maxObjectsInSet. The state before, or the error.
Checked<std::string> begin_set(store::Store& store, const json::object& arguments,
                               const Context& context);
// What a /set did, and its answer with the state after it.
struct SetOutcome {
  json::object created, updated, not_created, not_updated, not_destroyed;
  json::array destroyed;
};
json::object end_set(store::Store& store, const Context& context, const std::string& old_state,
                     SetOutcome outcome);

// accountId must name the caller's account.
std::optional<MethodError> check_account(const json::object& arguments, const Context& context);

// "properties" for /get: nullopt when absent or null (the default list), or
// invalidArguments when it is not an array of strings.
using Properties = std::optional<std::vector<std::string>>;
Checked<Properties> read_properties(const json::object& arguments,
                                    std::string_view key = "properties");

// A list of ids given to a /get-like method (`key`: ids, emailIds, blobIds): a list of
// strings no longer than maxObjectsInGet, or the error (invalidArguments,
// requestTooLarge).
std::optional<MethodError> check_id_list(const json::value& ids, const Context& context,
                                         std::string_view key);

// An optional argument of one JSON type, or the error that it has another.
const json::value* argument(const json::object& arguments, std::string_view key);
// An unsigned integer argument: nullopt when absent or null, invalidArguments when it
// is something else.
Checked<std::optional<std::int64_t>> unsigned_argument(const json::object& arguments,
                                                       std::string_view key);

// The arguments of a /changes (`since` = "sinceState") or /queryChanges
// ("sinceQueryState"), after the accountId check.
struct ChangesArguments {
  store::ModSeq since = 0;
  std::optional<std::int64_t> max_changes;  // positive when given
};
Checked<ChangesArguments> read_changes_arguments(const json::object& arguments,
                                                 const Context& context, std::string_view since);

// A /query answer (§5.5) for queries whose changes are not calculated: the matches
// ids in order, cut by position and limit, with the total when asked.
MethodResult query_answer(const json::object& arguments, const Context& context,
                          store::ModSeq state, char prefix, const std::vector<std::int64_t>& ids);

// What changed for one type of object between a state and now (§5.2).
struct Delta {
  std::vector<std::int64_t> created, updated, destroyed;
  store::ModSeq new_state = 0;
  bool has_more = false;
};
// Which object a logged change concerns, and whether it created it.
struct Touched {
  std::int64_t id = 0;
  bool created = false;
};
using Extract = std::function<std::optional<Touched>(const store::Change&)>;
using Exists = std::function<Result<std::set<std::int64_t>>(const std::vector<std::int64_t>&)>;

// The /changes answer, or its error (cannotCalculateChanges when the log no longer
// reaches back, invalidArguments for a bad state).
Checked<json::object> changes_response(store::Store& store, const json::object& arguments,
                                       const Context& context, char prefix, const Extract& extract,
                                       const Exists& exists);

// Records in the audit trail what a method did to the account's mail: one record per
// mailbox, naming the Emails (`messages`: their metadata before the call).
void audit_messages(store::Store& store, const Context& context, const char* kind,
                    std::string_view what, const std::vector<store::MessageMeta>& messages);
// One record for one mailbox.
void audit_mailbox(const Context& context, const char* kind, std::string mailbox,
                   std::string detail, std::int64_t count = 0);

// A method of the form f(store, arguments, context) as a Dispatcher method.
inline Method with_store(store::Store& store,
                         MethodResult (*method)(store::Store&, const json::object&, Context&)) {
  return [&store, method](const json::object& arguments, Context& context) {
    return method(store, arguments, context);
  };
}

// Mailbox/* (mailbox.cc).
void add_mailbox_methods(Dispatcher& dispatcher, store::Store& store);

}  // namespace rampart::jmap
