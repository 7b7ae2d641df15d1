#include <algorithm>

#include "base/log.h"
#include "base/metrics.h"
#include "delivery/delivery.h"
#include "smtp/spam_internal.h"

namespace rampart::smtp {

namespace asio = boost::asio;

// Plain co_await form (src/pop3/connection.cc explains why).
asio::awaitable<SpamOutcome> filter_spam(asio::any_io_executor executor,
                                         const filter::RspamdSettings& settings, Mode mode,
                                         filter::RspamdEnvelope about, std::string_view checks,
                                         std::string& message, delivery::Envelope& envelope) {
  const bool mx = mode == Mode::Mx;
  const std::string who = "smtp " + about.queue_id + " from <" + about.mail_from + "> via " +
                          (about.ip.empty() ? "local" : about.ip) + ": rspamd ";
  const std::string_view scanned = message;
  const filter::RspamdVerdict verdict =
      co_await filter::check(executor, settings, about, checks, scanned);
  std::string result = verdict.kind == filter::RspamdVerdict::Kind::Unscanned
                           ? (verdict.too_big ? "too_big" : "unavailable")
                           : std::string(filter::action_name(verdict.action));
  std::replace(result.begin(), result.end(), ' ', '_');
  metrics::get("rampart_rspamd_total", metrics::Type::Counter,
               "Messages scanned by rspamd, by its action, or why not scanned.",
               "result=\"" + result + "\"")
      .add();
  const std::string said = filter::describe(verdict);
  SpamOutcome outcome;
  outcome.summary = "rspamd " + said;
  if (verdict.kind == filter::RspamdVerdict::Kind::Unscanned) {
    log::warn(who + said + (settings.accept_unscanned ? ", accepted" : ", deferred"));
    if (!settings.accept_unscanned) {
      outcome = {
          451, "4.7.1", "The message could not be scanned for spam, try again later", {}, {}};
    } else if (mx) {
      filter::mark_message(message, "");
      outcome.fields = filter::spam_header_fields(verdict);
    }
    co_return outcome;
  }
  if (verdict.action == filter::RspamdAction::Reject) {
    log::warn(who + said + ", refused");
    co_return SpamOutcome{550, "5.7.1", "Message refused as spam", "spam: rspamd " + said, {}};
  }
  if (!mx) {
    log::info(who + said + ", submitted");
    co_return outcome;
  }
  if (verdict.action == filter::RspamdAction::SoftReject ||
      verdict.action == filter::RspamdAction::Greylist) {
    log::info(who + said + ", deferred");
    co_return SpamOutcome{451, "4.7.1", "Try again later", {}, {}};
  }
  log::info(who + said);
  if (verdict.action == filter::RspamdAction::AddHeader ||
      verdict.action == filter::RspamdAction::Junk) {
    envelope.mailbox = "Junk";
  }
  filter::mark_message(message, verdict.subject);
  outcome.fields = filter::spam_header_fields(verdict);
  const filter::SpamTest test = filter::spam_test(verdict);
  envelope.spam_score = test.score;
  envelope.spam_percent = test.percent;
  co_return outcome;
}

}  // namespace rampart::smtp
