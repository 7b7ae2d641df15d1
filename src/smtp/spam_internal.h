// rspamd's verdict on one message and what the session does with it (docs/filtering.md,
// "Spam: rspamd"): on the MX every action, on submission only reject (an account sending
// spam, its password likely stolen; mail leaving gets no spam fields). Not for LMTP.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "filter/rspamd.h"
#include "smtp/session.h"

namespace rampart::delivery {
struct Envelope;
}

namespace rampart::smtp {

struct SpamOutcome {
  int code = 0;  // 0: deliver; else refused (550) or deferred (451) with this reply
  std::string enhanced, text;
  std::string refusal;  // a refusal for the audit trail ("spam: rspamd ..."), or empty
  std::string fields;   // header fields to put on top of the message
  std::string summary;  // for the delivery's audit record: "rspamd add header 6.00/15.00 ..."
};

// Scans `message` (with our `checks` fields on top) and, when it is to be delivered, marks
// it: forged verdict fields removed, the Subject rewritten, Junk set as the envelope's
// mailbox and its spamtest values, all as rspamd says. Logs and counts the verdict.
boost::asio::awaitable<SpamOutcome> filter_spam(boost::asio::any_io_executor executor,
                                                const filter::RspamdSettings& settings, Mode mode,
                                                filter::RspamdEnvelope about,
                                                std::string_view checks, std::string& message,
                                                delivery::Envelope& envelope);

}  // namespace rampart::smtp
