// The JMAP request decoder, result references and dispatch: any body gives a Response
// or a request-level error, never a crash. Core/echo and a method that returns a
// list give references something to point at.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jmap/api.h"

namespace jmap = rampart::jmap;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const jmap::Dispatcher dispatcher = [] {
    jmap::Dispatcher made;
    jmap::add_core_methods(made);
    made.add(
        "Test/list", jmap::kCoreCapability,
        [](const boost::json::object&, jmap::Context&) -> jmap::MethodResult {
          return boost::json::parse(R"({"list":[{"ids":["1"]},{"ids":[["2"],"3"]}]})").as_object();
        });
    return made;
  }();
  jmap::Context context;
  auto result =
      dispatcher.process(std::string_view(reinterpret_cast<const char*>(data), size), context, "0");
  if (auto* error = std::get_if<jmap::RequestError>(&result)) {
    if (error->type.empty()) __builtin_trap();
  } else {
    (void)boost::json::serialize(std::get<boost::json::object>(result));
  }
  return 0;
}
