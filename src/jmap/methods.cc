// Which methods the Mail, Submission and VacationResponse capabilities offer (mail.h),
// and what the session says of them.
#include <memory>

#include "jmap/email_internal.h"
#include "jmap/mail.h"
#include "jmap/mail_internal.h"
#include "jmap/submission_internal.h"

namespace rampart::jmap {

void add_mail_methods(Dispatcher& dispatcher, store::Store& store, std::string hostname,
                      filter::Learner* learner) {
  dispatcher.describe(
      kMailCapability, json::object{},
      json::object{{"maxMailboxesPerEmail", 1},
                   {"maxMailboxDepth", 16},
                   {"maxSizeMailboxName", 255},
                   {"maxSizeAttachmentsPerEmail", 10'000'000},
                   {"emailQuerySortOptions", json::array{"receivedAt", "sentAt", "size", "from",
                                                         "to", "subject", "hasKeyword"}},
                   {"mayCreateTopLevelMailbox", true}});
  add_mailbox_methods(dispatcher, store);
  dispatcher.add("Email/get", kMailCapability, with_store(store, email_get));
  dispatcher.add("Email/changes", kMailCapability, with_store(store, email_changes));
  dispatcher.add("Email/query", kMailCapability, with_store(store, email_query));
  dispatcher.add("Email/queryChanges", kMailCapability, with_store(store, email_query_changes));
  dispatcher.add("Email/set", kMailCapability,
                 [&store, hostname, learner](const json::object& arguments, Context& context) {
                   return email_set(store, hostname, learner, arguments, context);
                 });
  dispatcher.add("Email/import", kMailCapability, with_store(store, email_import));
  dispatcher.add("Email/parse", kMailCapability, with_store(store, email_parse));
  dispatcher.add("Email/copy", kMailCapability, with_store(store, email_copy));
  dispatcher.add("Thread/get", kMailCapability, with_store(store, thread_get));
  dispatcher.add("Thread/changes", kMailCapability, with_store(store, thread_changes));
  dispatcher.add("SearchSnippet/get", kMailCapability, with_store(store, search_snippet_get));
}

void add_submission_methods(Dispatcher& dispatcher, store::Store& store,
                            directory::Directory& directory, delivery::Delivery& delivery) {
  dispatcher.describe(
      kSubmissionCapability, json::object{},
      json::object{{"maxDelayedSend", 0}, {"submissionExtensions", json::object{}}});
  auto services = std::make_shared<Services>(Services{store, directory, delivery});
  dispatcher.add("Identity/get", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return get_objects(identities(services->store, context), kIdentityPrefix,
                                      arguments, context, services->store, kIdentityProperties);
                 });
  dispatcher.add("Identity/changes", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return object_changes(services->store, kIdentityType, kIdentityPrefix, arguments,
                                         context);
                 });
  dispatcher.add("Identity/set", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return identity_set(*services, arguments, context);
                 });
  dispatcher.add("EmailSubmission/get", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return get_objects(
                       services->store.list_objects(context.account, kSubmissionType),
                       kSubmissionPrefix, arguments, context, services->store,
                       kSubmissionProperties);
                 });
  dispatcher.add("EmailSubmission/changes", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return object_changes(services->store, kSubmissionType, kSubmissionPrefix,
                                         arguments, context);
                 });
  dispatcher.add("EmailSubmission/query", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return submission_query(services->store, arguments, context);
                 });
  dispatcher.add("EmailSubmission/queryChanges", kSubmissionCapability,
                 [](const json::object& arguments, Context& context) -> MethodResult {
                   if (auto error = check_account(arguments, context)) return *error;
                   return MethodError{
                       "cannotCalculateChanges",
                       "run EmailSubmission/query again (canCalculateChanges is false)"};
                 });
  dispatcher.add("EmailSubmission/set", kSubmissionCapability,
                 [services](const json::object& arguments, Context& context) {
                   return submission_set(*services, arguments, context);
                 });
  dispatcher.describe(kVacationCapability, json::object{}, json::object{});
  dispatcher.add("VacationResponse/get", kVacationCapability,
                 [services](const json::object& arguments, Context& context) {
                   return vacation_get(services->store, arguments, context);
                 });
  dispatcher.add("VacationResponse/set", kVacationCapability,
                 [services](const json::object& arguments, Context& context) {
                   return vacation_set(services->store, arguments, context);
                 });
}

}  // namespace rampart::jmap
