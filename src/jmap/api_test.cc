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

// A small request must not make a huge response: references per call, the bytes they
// copy and the response are bounded, and what passes is answered requestTooLarge.
TEST(Dispatcher, BoundsWhatResultReferencesCopy) {
  Dispatcher dispatcher(Limits{
      .max_references_per_call = 4, .max_size_references = 10'000, .max_size_response = 30'000});
  add_core_methods(dispatcher);
  Context context;
  auto references = [](int count, const char* source) {
    json::object arguments;
    for (int i = 0; i < count; ++i) {
      arguments["#r" + std::to_string(i)] =
          json::object{{"resultOf", source}, {"name", "Core/echo"}, {"path", ""}};
    }
    return arguments;
  };
  auto type_of = [](const json::value& response) -> std::string {
    const auto& entry = response.as_array();
    return entry[0] == "error" ? std::string(entry[1].at("type").as_string()) : "";
  };
  const json::object big{{"big", std::string(3'000, 'x')}};
  json::array calls{json::array{"Core/echo", big, "a"},
                    json::array{"Core/echo", references(5, "a"), "too-many"},
                    json::array{"Core/echo", references(3, "a"), "b"},
                    json::array{"Core/echo", references(3, "b"), "c"}};
  const std::string body = json::serialize(
      json::object{{"using", json::array{kCoreCapability}}, {"methodCalls", calls}});
  auto result = dispatcher.process(body, context, "s");
  ASSERT_TRUE(std::holds_alternative<json::object>(result));
  const json::array& responses = std::get<json::object>(result).at("methodResponses").as_array();
  ASSERT_EQ(responses.size(), 4u);
  EXPECT_EQ(type_of(responses[0]), "");
  EXPECT_EQ(type_of(responses[1]), "requestTooLarge");  // 5 references > 4
  EXPECT_EQ(type_of(responses[2]), "");                 // 9 KB copied
  EXPECT_EQ(type_of(responses[3]), "requestTooLarge");  // 27 KB more would pass 10 KB
  EXPECT_LT(json::serialize(std::get<json::object>(result)).size(), 30'000u);

  // Answers that would pass the response limit are replaced.
  Dispatcher small(Limits{.max_size_response = 5'000});
  add_core_methods(small);
  json::array echoes;
  for (int i = 0; i < 3; ++i) echoes.push_back(json::array{"Core/echo", big, std::to_string(i)});
  auto answered =
      small.process(json::serialize(json::object{{"using", json::array{kCoreCapability}},
                                                 {"methodCalls", echoes}}),
                    context, "s");
  const json::array& kept = std::get<json::object>(answered).at("methodResponses").as_array();
  EXPECT_EQ(type_of(kept[0]), "");
  EXPECT_EQ(type_of(kept[1]), "requestTooLarge");
  EXPECT_EQ(type_of(kept[2]), "requestTooLarge");
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
