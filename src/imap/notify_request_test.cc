#include "imap/notify_request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imap/command_parser.h"

namespace rampart::imap {
namespace {

// The arguments of "a NOTIFY <text>" as the command parser gives them.
std::vector<Token> arguments(const std::string& text) {
  CommandParser parser;
  const std::string bytes = "a NOTIFY " + text + "\r\n";
  std::string_view view = bytes;
  auto step = parser.feed(view);
  auto* command = std::get_if<Command>(&step);
  EXPECT_NE(command, nullptr) << text;
  return command ? command->arguments : std::vector<Token>{};
}

std::variant<NotifyRequest, NotifyError> parse(const std::string& text) {
  return parse_notify(arguments(text));
}

bool is_bad(const std::string& text) {
  auto parsed = parse(text);
  auto* error = std::get_if<NotifyError>(&parsed);
  return error != nullptr && error->bad;
}

TEST(NotifyRequest, ReadsGroupsFiltersAndEvents) {
  auto parsed = parse(
      "SET STATUS (selected-delayed (MessageNew (UID FLAGS) MessageExpunge FlagChange)) "
      "(subtree (Lists \"Work\") (MessageNew MessageExpunge MailboxName)) (inboxes NONE)");
  auto* request = std::get_if<NotifyRequest>(&parsed);
  ASSERT_NE(request, nullptr);
  EXPECT_TRUE(request->status);
  EXPECT_TRUE(request->has_selected && request->delayed);
  EXPECT_TRUE(request->selected.messages && request->selected.flags);
  EXPECT_EQ(request->fetch_items.size(), 2u);
  ASSERT_EQ(request->groups.size(), 2u);
  EXPECT_EQ(request->groups[0].filter, NotifyGroup::Filter::Subtree);
  EXPECT_EQ(request->groups[0].names.size(), 2u);
  EXPECT_TRUE(request->groups[0].events.names && request->groups[0].events.messages);
  EXPECT_FALSE(request->groups[1].events.any());
  EXPECT_TRUE(std::get<NotifyRequest>(parse("NONE")).none);
}

TEST(NotifyRequest, RefusesWhatSection5Forbids) {
  EXPECT_TRUE(is_bad("SET (personal (MessageNew))"));
  EXPECT_TRUE(is_bad("SET (personal (MessageExpunge FlagChange))"));
  EXPECT_TRUE(is_bad("SET (personal (MessageNew (UID) MessageExpunge))"));
  EXPECT_TRUE(is_bad("SET (selected (SubscriptionChange))"));
  EXPECT_TRUE(is_bad("SET (selected NONE) (selected NONE)"));
  EXPECT_TRUE(is_bad("SET (mailboxes (MessageNew MessageExpunge))"));
  EXPECT_TRUE(is_bad("SET (personal ())"));
  EXPECT_TRUE(is_bad("SET STATUS"));
  EXPECT_TRUE(is_bad("RESET"));
}

TEST(NotifyRequest, UnsupportedEventsAreNoWithTheSupportedOnes) {
  auto parsed = parse("SET (personal (MessageNew MessageExpunge AnnotationChange))");
  auto* error = std::get_if<NotifyError>(&parsed);
  ASSERT_NE(error, nullptr);
  EXPECT_FALSE(error->bad);
  EXPECT_EQ(error->text.rfind("[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName "
                              "SubscriptionChange)]",
                              0),
            0u);
}

TEST(NotifyRequest, BoundsTheMailboxNames) {
  std::string names;
  for (std::size_t i = 0; i <= kMaxNotifyNames; ++i) names += " m" + std::to_string(i);
  auto parsed = parse("SET (mailboxes (" + names.substr(1) + ") (MessageNew MessageExpunge))");
  auto* error = std::get_if<NotifyError>(&parsed);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->text.rfind("[NOTIFICATIONOVERFLOW]", 0), 0u);
}

}  // namespace
}  // namespace rampart::imap
