// Email/query's filter (RFC 8621 §4.4.1): whether one message matches a
// FilterCondition or FilterOperator. Pure: it reads only the EmailView and the thread
// index it is given, so unit tests call it on parsed messages (email_filter_test.cc).
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "jmap/api.h"
#include "jmap/email_view_internal.h"
#include "jmap/errors.h"
#include "store/store.h"

namespace rampart::jmap {

// The account's messages by thread, for the thread keyword filters and sorts.
using ThreadIndex = std::map<store::ThreadId, std::vector<const store::MessageMeta*>>;

// A mailbox id argument ("M5", or "#name" of one created in this request); nullopt
// for anything else.
std::optional<store::MailboxId> mailbox_argument(const json::value& value, const Context& context);

// Whether IMAP flags hold a JMAP keyword (compared as IMAP compares flags).
bool has_keyword(const store::Flags& flags, std::string_view keyword);

// Whether all (`all`) or some of the messages of meta's thread have `keyword`.
bool thread_keyword(const ThreadIndex& threads, const store::MessageMeta& meta,
                    std::string_view keyword, bool all);

// What a filter needs besides the message: the creation ids (an inMailbox of "#name"),
// the account's threads, and, set by the matcher, whether a condition looked at a
// whole thread (then Email/queryChanges cannot be calculated).
struct FilterScope {
  const Context& context;
  const ThreadIndex& threads;
  bool thread_dependent = false;  // set when a condition looked at a whole thread
};

// Whether `email` matches `filter`: invalidArguments for a malformed filter,
// unsupportedFilter for a condition this server does not know.
Checked<bool> matches_filter(const json::object& filter, EmailView& email, FilterScope& scope);

}  // namespace rampart::jmap
