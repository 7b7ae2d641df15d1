// JMAP's words for what went wrong (RFC 8620 §3.6.2 method errors, §5.3 SetErrors),
// mapped from Errc in one place as imap/responses.cc and smtp/replies.cc do for theirs.
//
// An Error's detail is for the operator, never for the client: it can carry file paths
// or SQLite messages. These functions log it (with `step`, naming what failed) and
// answer with a fixed description chosen by the code alone.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "base/result.h"
#include "jmap/api.h"

namespace rampart::jmap {

// A value, or the method error a JMAP method answers with in its place. The shape of
// every argument check and store step inside a method.
template <class T>
using Checked = tl::expected<T, MethodError>;

inline tl::unexpected<MethodError> reject(std::string type, std::string description = {}) {
  return tl::unexpected<MethodError>(MethodError{std::move(type), std::move(description)});
}

// invalidArguments with a description of the client's own mistake.
MethodError invalid_arguments(std::string description);

// The method error for a failed step of a method (a store read, a delivery):
// BadInput invalidArguments, TooBig requestTooLarge, NotFound accountNotFound,
// NoPermission forbidden, OverQuota overQuota, TryLater serverUnavailable, and
// serverFail for Exists and Internal. Logs `error.detail`.
MethodError method_error(const Error& error, std::string_view step);

// A SetError (RFC 8620 §5.3) object of `type`, with `description` and `properties`
// when given.
json::object set_error(std::string_view type, std::string description = {},
                       std::vector<std::string> properties = {});

// The SetError for one object a /set could not create, update or destroy: BadInput
// invalidProperties (naming `properties`), TooBig tooLarge, NotFound notFound, Exists
// alreadyExists, NoPermission forbidden, OverQuota overQuota, and serverFail for
// TryLater and Internal. Logs `error.detail`.
json::object set_error_for(const Error& error, std::string_view step,
                           std::vector<std::string> properties = {});

}  // namespace rampart::jmap
