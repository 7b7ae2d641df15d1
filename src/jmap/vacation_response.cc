// VacationResponse (RFC 8621 §8): one per account, "singleton"; the setting
// delivery/vacation.h answers mail with.
#include <boost/json.hpp>

#include "delivery/vacation.h"
#include "jmap/email_format.h"
#include "jmap/mail_internal.h"
#include "jmap/submission_internal.h"

namespace rampart::jmap {
namespace {

constexpr char kSingleton[] = "singleton";

json::object vacation_object(const delivery::Vacation& vacation) {
  auto date = [](const std::optional<std::int64_t>& seconds) {
    return seconds ? json::value(utc_date(*seconds)) : json::value(nullptr);
  };
  auto text = [](const std::optional<std::string>& value) {
    return value ? json::value(*value) : json::value(nullptr);
  };
  return json::object{{"id", kSingleton},
                      {"isEnabled", vacation.enabled},
                      {"fromDate", date(vacation.from)},
                      {"toDate", date(vacation.to)},
                      {"subject", text(vacation.subject)},
                      {"textBody", text(vacation.text_body)},
                      {"htmlBody", text(vacation.html_body)}};
}

}  // namespace

MethodResult vacation_get(store::Store& store, const json::object& arguments, Context& context) {
  if (auto error = check_account(arguments, context)) return *error;
  auto read = read_properties(arguments);
  if (!read) return read.error();
  const Properties& properties = *read;
  auto account = store.get_account(context.account);
  if (!account) return method_error(account.error(), "VacationResponse/get");
  auto stored = store.list_objects(context.account, delivery::kVacationType);
  if (!stored) return method_error(stored.error(), "VacationResponse/get");
  const json::object full = vacation_object(
      stored->empty() ? delivery::Vacation{} : delivery::vacation_from_json(stored->front().data));
  json::object shown = full;
  if (properties) {
    shown = json::object{{"id", kSingleton}};
    for (const auto& property : *properties) {
      const json::value* value = full.if_contains(property);
      if (!value) return invalid_arguments("unknown property " + property);
      shown[property] = *value;
    }
  }
  json::array list, not_found;
  const json::value* ids = argument(arguments, "ids");
  if (ids) {
    if (auto error = check_id_list(*ids, context, "ids")) return *error;
  }
  if (!ids) {
    list.push_back(shown);
  } else {
    for (const json::value& id : ids->get_array()) {
      if (id.get_string() == kSingleton) {
        list.push_back(shown);
      } else {
        not_found.push_back(id);
      }
    }
  }
  return json::object{{"accountId", context.account_id},
                      {"state", state_string(account->modseq)},
                      {"list", std::move(list)},
                      {"notFound", std::move(not_found)}};
}

MethodResult vacation_set(store::Store& store, const json::object& arguments, Context& context) {
  auto begun = begin_set(store, arguments, context);
  if (!begun) return begun.error();
  SetOutcome out;
  if (const json::value* create = argument(arguments, "create")) {
    for (const auto& [key, value] : create->get_object()) {
      out.not_created[key] = set_error("singleton", "there is one VacationResponse: update it");
    }
  }
  if (const json::value* destroy = argument(arguments, "destroy")) {
    for (const json::value& id : destroy->get_array()) {
      if (id.is_string()) {
        out.not_destroyed[std::string(id.get_string())] =
            set_error("singleton", "there is one VacationResponse: disable it");
      }
    }
  }
  if (const json::value* update = argument(arguments, "update")) {
    for (const auto& [key, value] : update->get_object()) {
      if (key != kSingleton) {
        out.not_updated[key] = set_error("notFound");
        continue;
      }
      auto stored = store.list_objects(context.account, delivery::kVacationType);
      if (!stored) return method_error(stored.error(), "VacationResponse/set");
      delivery::Vacation vacation = stored->empty()
                                        ? delivery::Vacation{}
                                        : delivery::vacation_from_json(stored->front().data);
      const json::object* patch = value.if_object();
      std::optional<json::object> refused;
      if (!patch) refused = set_error("invalidPatch", "a patch is an object");
      for (const auto& [name, field] : patch ? *patch : json::object{}) {
        const std::string property(name);
        if (property == "isEnabled" && field.is_bool()) {
          vacation.enabled = field.get_bool();
        } else if ((property == "fromDate" || property == "toDate") &&
                   (field.is_null() || (field.is_string() && parse_utc_date(field.get_string())))) {
          auto& slot = property == "fromDate" ? vacation.from : vacation.to;
          slot = field.is_null() ? std::nullopt : parse_utc_date(field.get_string());
        } else if ((property == "subject" || property == "textBody" || property == "htmlBody") &&
                   (field.is_null() || field.is_string())) {
          auto& slot = property == "subject"    ? vacation.subject
                       : property == "textBody" ? vacation.text_body
                                                : vacation.html_body;
          slot = field.is_null() ? std::nullopt : std::optional<std::string>(field.get_string());
        } else {
          refused = set_error("invalidProperties", "invalid " + property, {property});
          break;
        }
      }
      if (refused) {
        out.not_updated[key] = std::move(*refused);
        continue;
      }
      auto saved = store.put_object(context.account, delivery::kVacationType,
                                    stored->empty() ? 0 : stored->front().id,
                                    delivery::vacation_to_json(vacation));
      if (!saved) return method_error(saved.error(), "VacationResponse/set");
      out.updated[key] = nullptr;
    }
  }
  return end_set(store, context, *begun, std::move(out));
}

}  // namespace rampart::jmap
