// What Identity, EmailSubmission and VacationResponse share (identity.cc,
// email_submission.cc, vacation_response.cc): the services they call, and the /get
// and /changes of types the store keeps as JSON objects (their states are the
// account's MODSEQ like every other type).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "jmap/api.h"
#include "store/store.h"

namespace rampart::directory {
class Directory;
}
namespace rampart::delivery {
class Delivery;
}

namespace rampart::jmap {

inline constexpr char kIdentityPrefix = 'I';
inline constexpr char kSubmissionPrefix = 'S';
inline constexpr char kIdentityType[] = "Identity";
inline constexpr char kSubmissionType[] = "EmailSubmission";

struct Services {
  store::Store& store;
  directory::Directory& directory;
  delivery::Delivery& delivery;
};

// A stored object's JSON (an empty object if it is damaged).
json::object parse_data(const store::StoredObject& object);

// The account's identities, the default one (its own address) made on first use.
Result<std::vector<store::StoredObject>> identities(store::Store& store, const Context& context);

// /get for a stored type: `known` its properties besides id.
MethodResult get_objects(const Result<std::vector<store::StoredObject>>& objects, char prefix,
                         const json::object& arguments, Context& context, store::Store& store,
                         const std::vector<std::string>& known);

// /changes for a stored type: each record's creating and last MODSEQ say what happened.
MethodResult object_changes(store::Store& store, const char* type, char prefix,
                            const json::object& arguments, Context& context);

extern const std::vector<std::string> kIdentityProperties;
extern const std::vector<std::string> kSubmissionProperties;

MethodResult identity_set(Services& services, const json::object& arguments, Context& context);
MethodResult submission_set(Services& services, const json::object& arguments, Context& context);
MethodResult submission_query(store::Store& store, const json::object& arguments, Context& context);
MethodResult vacation_get(store::Store& store, const json::object& arguments, Context& context);
MethodResult vacation_set(store::Store& store, const json::object& arguments, Context& context);

}  // namespace rampart::jmap
