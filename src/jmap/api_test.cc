#include "jmap/api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace rampart::jmap {
namespace {

json::value parse(std::string_view text) { return json::parse(text); }

std::string error_type(const std::variant<json::object, RequestError>& result) {
  const auto* error = std::get_if<RequestError>(&result);
  return error ? error->type : "";
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : dispatcher_(Limits{.max_size_request = 4096, .max_calls_in_request = 3}) {
    add_core_methods(dispatcher_);
    dispatcher_.add(
        "Test/list", kCoreCapability, [](const json::object&, Context&) -> MethodResult {
          return json::parse(R"({"list":[{"id":"a","ids":["1","2"]},{"id":"b","ids":["3"]}]})")
              .as_object();
        });
    dispatcher_.add("Test/fail", kCoreCapability,
                    [](const json::object&, Context&) -> MethodResult {
                      return MethodError{"invalidArguments", "always"};
                    });
    dispatcher_.add("Other/thing", "urn:example:other",
                    [](const json::object&, Context&) -> MethodResult { return json::object{}; });
  }

  json::value run(std::string_view body) {
    auto result = dispatcher_.process(body, context_, "s1");
    EXPECT_TRUE(std::holds_alternative<json::object>(result)) << error_type(result);
    return std::holds_alternative<json::object>(result)
               ? json::value(std::get<json::object>(result))
               : json::value();
  }

  Dispatcher dispatcher_;
  Context context_;
};

TEST_F(DispatcherTest, EchoesAndAnswersEachCallInOrder) {
  const json::value response = run(
      R"({"using":["urn:ietf:params:jmap:core"],"methodCalls":[["Core/echo",{"hello":true,"n":[1,2]},"c1"],["Nope/get",{},"c2"],["Test/fail",{},"c3"]]})");
  EXPECT_EQ(response, parse(R"({"methodResponses":[
      ["Core/echo",{"hello":true,"n":[1,2]},"c1"],
      ["error",{"type":"unknownMethod","description":"no method Nope/get in the capabilities used"},"c2"],
      ["error",{"type":"invalidArguments","description":"always"},"c3"]],
      "sessionState":"s1"})"));
}

TEST_F(DispatcherTest, ResultReferencesFollowPointersWithStars) {
  const json::value response = run(
      R"({"using":["urn:ietf:params:jmap:core"],"methodCalls":[
        ["Test/list",{},"t0"],
        ["Core/echo",{"#ids":{"resultOf":"t0","name":"Test/list","path":"/list/*/ids"},
                      "#first":{"resultOf":"t0","name":"Test/list","path":"/list/0/id"}},"t1"],
        ["Core/echo",{"#x":{"resultOf":"t0","name":"Core/echo","path":"/list"}},"t2"]],
        "createdIds":{"k":"v"}})");
  const json::array& responses = response.at("methodResponses").as_array();
  EXPECT_EQ(responses[1].as_array()[1], parse(R"({"ids":["1","2","3"],"first":"a"})"));
  EXPECT_EQ(responses[2].as_array()[0], "error");
  EXPECT_EQ(responses[2].as_array()[1].at("type"), "invalidResultReference");
  EXPECT_EQ(response.at("createdIds"), parse(R"({"k":"v"})"));
}

TEST_F(DispatcherTest, RequestLevelErrors) {
  EXPECT_EQ(error_type(dispatcher_.process("{", context_, "s")),
            "urn:ietf:params:jmap:error:notJSON");
  EXPECT_EQ(error_type(dispatcher_.process("[]", context_, "s")),
            "urn:ietf:params:jmap:error:notRequest");
  EXPECT_EQ(
      error_type(dispatcher_.process(R"({"using":[],"methodCalls":[["a",{},1]]})", context_, "s")),
      "urn:ietf:params:jmap:error:notRequest");
  EXPECT_EQ(
      error_type(dispatcher_.process(R"({"using":["urn:x"],"methodCalls":[]})", context_, "s")),
      "urn:ietf:params:jmap:error:unknownCapability");
  auto limit = dispatcher_.process(
      R"({"using":[],"methodCalls":[["a",{},"1"],["a",{},"2"],["a",{},"3"],["a",{},"4"]]})",
      context_, "s");
  ASSERT_EQ(error_type(limit), "urn:ietf:params:jmap:error:limit");
  EXPECT_EQ(std::get<RequestError>(limit).problem().at("limit"), "maxCallsInRequest");
  EXPECT_EQ(error_type(dispatcher_.process(std::string(5000, ' '), context_, "s")),
            "urn:ietf:params:jmap:error:limit");
  EXPECT_EQ(
      error_type(dispatcher_.process(std::string(100, '[') + std::string(100, ']'), context_, "s")),
      "urn:ietf:params:jmap:error:notJSON");
}

TEST_F(DispatcherTest, AMethodOfACapabilityNotUsedIsUnknown) {
  const json::value response =
      run(R"({"using":["urn:ietf:params:jmap:core"],"methodCalls":[["Other/thing",{},"o"]]})");
  EXPECT_EQ(response.at("methodResponses").at(0).at(1).at("type"), "unknownMethod");
}

TEST(Pointer, FollowsRfc6901AndTheStar) {
  const json::value doc = parse(R"({"a/b":1,"m~n":2,"list":[{"x":[1,2]},{"x":[3]}],"e":[]})");
  EXPECT_EQ(*evaluate_pointer(doc, "/a~1b"), 1);
  EXPECT_EQ(*evaluate_pointer(doc, "/m~0n"), 2);
  EXPECT_EQ(*evaluate_pointer(doc, "/list/1/x/0"), 3);
  EXPECT_EQ(*evaluate_pointer(doc, "/list/*/x"), parse("[1,2,3]"));
  EXPECT_EQ(*evaluate_pointer(doc, "/e/*/x"), parse("[]"));
  EXPECT_EQ(*evaluate_pointer(doc, ""), doc);
  for (const char* bad : {"a", "/missing", "/list/01", "/list/2", "/list/-1", "/list/x"}) {
    EXPECT_FALSE(evaluate_pointer(doc, bad)) << bad;
  }
}

}  // namespace
}  // namespace rampart::jmap
