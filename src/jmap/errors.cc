#include "jmap/errors.h"

#include <boost/json/array.hpp>

#include "base/log.h"

namespace rampart::jmap {
namespace {

void log_failure(const Error& error, std::string_view step) {
  std::string line = "jmap: ";
  line += step;
  line += ": ";
  line += errc_name(error.code);
  if (!error.detail.empty()) line += ": " + error.detail;
  // A client's bad input is routine; anything else is the operator's to look at.
  if (error.code == Errc::BadInput || error.code == Errc::NotFound ||
      error.code == Errc::OverQuota) {
    log::info(line);
  } else {
    log::warn(line);
  }
}

}  // namespace

MethodError invalid_arguments(std::string description) {
  return {"invalidArguments", std::move(description)};
}

MethodError method_error(const Error& error, std::string_view step) {
  log_failure(error, step);
  switch (error.code) {
    case Errc::BadInput:
      return {"invalidArguments", "the request cannot be carried out as given"};
    case Errc::TooBig:
      return {"requestTooLarge", "the request asks for more than this server allows"};
    case Errc::NotFound:
      return {"accountNotFound", "the account is gone"};
    case Errc::NoPermission:
      return {"forbidden", "the account may not do this"};
    case Errc::OverQuota:
      return {"overQuota", "the account is over its quota"};
    case Errc::TryLater:
      return {"serverUnavailable", "try again later"};
    case Errc::Exists:
    case Errc::Internal:
      return {"serverFail", "the server failed; the error is in its log"};
  }
  return {"serverFail", "the server failed; the error is in its log"};
}

json::object set_error(std::string_view type, std::string description,
                       std::vector<std::string> properties) {
  json::object out{{"type", type}};
  if (!description.empty()) out["description"] = description;
  if (!properties.empty()) {
    json::array list;
    for (auto& property : properties) list.push_back(json::value(property));
    out["properties"] = std::move(list);
  }
  return out;
}

json::object set_error_for(const Error& error, std::string_view step,
                           std::vector<std::string> properties) {
  log_failure(error, step);
  switch (error.code) {
    case Errc::BadInput:
      return set_error("invalidProperties", "a value is not one this server accepts",
                       std::move(properties));
    case Errc::TooBig:
      return set_error("tooLarge", "the object is larger than this server allows");
    case Errc::NotFound:
      return set_error("notFound");
    case Errc::Exists:
      return set_error("alreadyExists", "an object of that name exists");
    case Errc::NoPermission:
      return set_error("forbidden", "the account may not do this");
    case Errc::OverQuota:
      return set_error("overQuota", "the account is over its quota");
    case Errc::TryLater:
    case Errc::Internal:
      return set_error("serverFail", "the server failed; the error is in its log");
  }
  return set_error("serverFail", "the server failed; the error is in its log");
}

}  // namespace rampart::jmap
