// What the Email and Thread methods share (email_get.cc, email_query.cc, email_set.cc,
// email_import.cc, thread.cc, search_snippet.cc): the Email object's properties, its
// making from a stored message, and storing a new one.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "jmap/api.h"
#include "jmap/email_view_internal.h"
#include "jmap/errors.h"
#include "store/store.h"

namespace rampart::filter {
class Learner;
}

namespace rampart::jmap {

// The Email properties Email/get returns when "properties" is not given.
const std::vector<std::string>& default_email_properties();
// Properties of the stored row alone, which need neither the structure nor the bytes.
bool is_meta_property(std::string_view property);
// Whether Email/get and Email/parse know the property (header:* forms included).
bool is_known_property(std::string_view property);
// The message's blobId: "B" and its SHA-256.
std::string email_blob_id(const store::MessageMeta& meta);
// A boolean argument that is true (absent, null or false: false).
bool flag_argument(const json::object& arguments, std::string_view key);

// What Email/get and Email/parse are asked for.
struct GetOptions {
  std::vector<std::string> properties;
  std::vector<std::string> body_properties;  // empty: the default
  bool text_values = false, html_values = false, all_values = false;
  std::size_t max_value_bytes = 0;
};
// properties, bodyProperties, fetch*BodyValues and maxBodyValueBytes, checked;
// `defaults` when properties is absent.
Checked<GetOptions> read_get_options(const json::object& arguments,
                                     const std::vector<std::string>& defaults);
// The Email object of `email` with the properties `options` asks for.
json::object email_object(EmailView& email, const GetOptions& options);

// Stores a new message as an Email with the mailboxIds, keywords and receivedAt of
// `object` (Email/set create, Email/import): the created Email's server-set
// properties {id, blobId, threadId, size}, or a SetError.
struct Stored {
  bool ok = false;
  json::object value;
};
Stored store_email(store::Store& store, Context& context, const json::object& object,
                   std::string raw, const std::vector<store::Mailbox>& mailboxes);

// The methods, one file each (Email/set with `hostname` for the Message-IDs it makes,
// and the learner told of moves into and out of Junk, or null).
MethodResult email_get(store::Store& store, const json::object& arguments, Context& context);
MethodResult email_changes(store::Store& store, const json::object& arguments, Context& context);
MethodResult email_query(store::Store& store, const json::object& arguments, Context& context);
MethodResult email_query_changes(store::Store& store, const json::object& arguments,
                                 Context& context);
MethodResult email_set(store::Store& store, const std::string& hostname, filter::Learner* learner,
                       const json::object& arguments, Context& context);
MethodResult email_import(store::Store& store, const json::object& arguments, Context& context);
MethodResult email_parse(store::Store& store, const json::object& arguments, Context& context);
MethodResult email_copy(store::Store& store, const json::object& arguments, Context& context);
MethodResult thread_get(store::Store& store, const json::object& arguments, Context& context);
MethodResult thread_changes(store::Store& store, const json::object& arguments, Context& context);
MethodResult search_snippet_get(store::Store& store, const json::object& arguments,
                                Context& context);

}  // namespace rampart::jmap
