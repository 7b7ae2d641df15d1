// Identity (RFC 8621 §6): the addresses the directory says the account owns.
#include <algorithm>
#include <boost/json.hpp>

#include "base/ascii.h"
#include "directory/directory.h"
#include "jmap/mail_internal.h"
#include "jmap/submission_internal.h"

namespace rampart::jmap {

const std::vector<std::string> kIdentityProperties = {
    "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature", "mayDelete"};

namespace {

// The identity's settable properties checked and merged into `data`; a SetError if not.
std::optional<json::object> apply_identity(const json::object& patch, json::object& data,
                                           bool creating) {
  for (const auto& [key, value] : patch) {
    const std::string name(key);
    if (name == "name" || name == "textSignature" || name == "htmlSignature") {
      if (!value.is_string()) return set_error("invalidProperties", name + " is a string", {name});
    } else if (name == "replyTo" || name == "bcc") {
      if (!value.is_null() && !value.is_array()) {
        return set_error("invalidProperties", name + " is a list of EmailAddress or null", {name});
      }
      if (value.is_array()) {
        for (const json::value& address : value.get_array()) {
          const json::object* object = address.if_object();
          const json::value* email = object ? object->if_contains("email") : nullptr;
          if (!email || !email->is_string() || email->get_string().empty()) {
            return set_error("invalidProperties", name + " entries have an email", {name});
          }
        }
      }
    } else if (name == "email") {
      if (!creating) return set_error("invalidProperties", "email is immutable", {name});
      if (!value.is_string()) return set_error("invalidProperties", "email is a string", {name});
    } else if (name == "id" || name == "mayDelete") {
      if (!creating || name == "id")
        return set_error("invalidProperties", "server-set: " + name, {name});
      continue;
    } else {
      return set_error("invalidProperties", "unknown property " + name, {name});
    }
    data[key] = value;
  }
  return std::nullopt;
}

}  // namespace

MethodResult identity_set(Services& services, const json::object& arguments, Context& context) {
  auto begun = begin_set(services.store, arguments, context);
  if (!begun) return begun.error();
  SetOutcome out;
  auto existing = identities(services.store, context);
  if (!existing) return method_error(existing.error(), "Identity/set");
  if (const json::value* create = argument(arguments, "create")) {
    for (const auto& [creation_id, value] : create->get_object()) {
      const json::object* patch = value.if_object();
      json::object data{{"name", ""},
                        {"replyTo", nullptr},
                        {"bcc", nullptr},
                        {"textSignature", ""},
                        {"htmlSignature", ""}};
      if (!patch || !patch->contains("email")) {
        out.not_created[creation_id] =
            set_error("invalidProperties", "email is required", {"email"});
        continue;
      }
      if (auto refused = apply_identity(*patch, data, true)) {
        out.not_created[creation_id] = std::move(*refused);
        continue;
      }
      data["email"] = lowercase(data["email"].get_string());
      if (!services.directory.owns(data["email"].get_string(), context.account)) {
        out.not_created[creation_id] =
            set_error("forbiddenFrom",
                      "this account may not send as " + std::string(data["email"].get_string()));
        continue;
      }
      auto made =
          services.store.put_object(context.account, kIdentityType, 0, json::serialize(data));
      if (!made) return method_error(made.error(), "Identity/set");
      const std::string id = object_id(kIdentityPrefix, made->id);
      context.created_ids[std::string(creation_id)] = id;
      out.created[creation_id] = json::object{{"id", id}, {"mayDelete", true}};
    }
  }
  if (const json::value* update = argument(arguments, "update")) {
    for (const auto& [key, value] : update->get_object()) {
      auto number = resolve_id(kIdentityPrefix, key, context);
      auto found = std::find_if(existing->begin(), existing->end(),
                                [&](const auto& object) { return number && object.id == *number; });
      if (found == existing->end()) {
        out.not_updated[key] = set_error("notFound");
        continue;
      }
      const json::object* patch = value.if_object();
      json::object data = parse_data(*found);
      if (!patch) {
        out.not_updated[key] = set_error("invalidPatch", "a patch is an object");
        continue;
      }
      if (auto refused = apply_identity(*patch, data, false)) {
        out.not_updated[key] = std::move(*refused);
        continue;
      }
      if (auto done = services.store.put_object(context.account, kIdentityType, found->id,
                                                json::serialize(data));
          !done) {
        out.not_updated[key] = set_error("notFound");
        continue;
      }
      out.updated[key] = nullptr;
    }
  }
  if (const json::value* destroy = argument(arguments, "destroy")) {
    for (const json::value& id : destroy->get_array()) {
      if (!id.is_string()) return invalid_arguments("destroy is a list of ids");
      auto number = resolve_id(kIdentityPrefix, id.get_string(), context);
      if (!number || !services.store.destroy_object(context.account, kIdentityType, *number)) {
        out.not_destroyed[std::string(id.get_string())] = set_error("notFound");
        continue;
      }
      out.destroyed.push_back(id);
    }
  }
  return end_set(services.store, context, *begun, std::move(out));
}

}  // namespace rampart::jmap
