#include "jmap/errors.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <stdexcept>

namespace rampart::jmap {
namespace {

constexpr Errc kEveryCode[] = {Errc::BadInput,     Errc::TooBig,    Errc::NotFound, Errc::Exists,
                               Errc::NoPermission, Errc::OverQuota, Errc::TryLater, Errc::Internal};

// The detail an Error may carry from SQLite or the file system.
constexpr char kSecret[] = "/var/lib/rampart/store.db: database disk image is malformed";

TEST(Errors, EachCodeIsAMethodError) {
  EXPECT_EQ(method_error({Errc::BadInput, kSecret}, "test").type, "invalidArguments");
  EXPECT_EQ(method_error({Errc::TooBig, kSecret}, "test").type, "requestTooLarge");
  EXPECT_EQ(method_error({Errc::NotFound, kSecret}, "test").type, "accountNotFound");
  EXPECT_EQ(method_error({Errc::Exists, kSecret}, "test").type, "serverFail");
  EXPECT_EQ(method_error({Errc::NoPermission, kSecret}, "test").type, "forbidden");
  EXPECT_EQ(method_error({Errc::OverQuota, kSecret}, "test").type, "overQuota");
  EXPECT_EQ(method_error({Errc::TryLater, kSecret}, "test").type, "serverUnavailable");
  EXPECT_EQ(method_error({Errc::Internal, kSecret}, "test").type, "serverFail");
}

TEST(Errors, EachCodeIsASetError) {
  auto type = [](Errc code) {
    return std::string(set_error_for({code, kSecret}, "test").at("type").as_string());
  };
  EXPECT_EQ(type(Errc::BadInput), "invalidProperties");
  EXPECT_EQ(type(Errc::TooBig), "tooLarge");
  EXPECT_EQ(type(Errc::NotFound), "notFound");
  EXPECT_EQ(type(Errc::Exists), "alreadyExists");
  EXPECT_EQ(type(Errc::NoPermission), "forbidden");
  EXPECT_EQ(type(Errc::OverQuota), "overQuota");
  EXPECT_EQ(type(Errc::TryLater), "serverFail");
  EXPECT_EQ(type(Errc::Internal), "serverFail");
}

TEST(Errors, NoDetailReachesTheClient) {
  for (Errc code : kEveryCode) {
    const MethodError method = method_error({code, kSecret}, "test");
    EXPECT_EQ(method.description.find("store.db"), std::string::npos) << errc_name(code);
    const std::string set = boost::json::serialize(set_error_for({code, kSecret}, "test"));
    EXPECT_EQ(set.find("store.db"), std::string::npos) << errc_name(code);
    EXPECT_FALSE(method.description.empty()) << errc_name(code);
  }
}

TEST(Errors, BadInputNamesTheProperties) {
  const json::object error = set_error_for({Errc::BadInput, kSecret}, "test", {"keywords"});
  EXPECT_EQ(boost::json::serialize(error.at("properties")), R"(["keywords"])");
}

TEST(Errors, SetErrorLeavesOutWhatIsNotGiven) {
  EXPECT_EQ(boost::json::serialize(set_error("notFound")), R"({"type":"notFound"})");
  EXPECT_EQ(boost::json::serialize(set_error("invalidProperties", "why", {"a"})),
            R"({"type":"invalidProperties","description":"why","properties":["a"]})");
}

// A method that throws (a bug) is answered serverFail, and what() stays in the log.
TEST(Errors, AThrowingMethodIsServerFailWithoutItsMessage) {
  Dispatcher dispatcher;
  dispatcher.add("Test/throw", kCoreCapability, [](const json::object&, Context&) -> MethodResult {
    throw std::runtime_error(kSecret);
  });
  Context context;
  auto result = dispatcher.process(
      R"({"using":["urn:ietf:params:jmap:core"],"methodCalls":[["Test/throw",{},"t"]]})", context,
      "s");
  ASSERT_TRUE(std::holds_alternative<json::object>(result));
  const std::string response = boost::json::serialize(std::get<json::object>(result));
  EXPECT_NE(response.find(R"(["error",{"type":"serverFail")"), std::string::npos) << response;
  EXPECT_EQ(response.find("store.db"), std::string::npos) << response;
}

}  // namespace
}  // namespace rampart::jmap
