#include "delivery/dsn.h"

#include <algorithm>

#include "base/ascii.h"
#include "mime/encode.h"
#include "mime/header.h"

namespace rampart::delivery {

namespace {

const char* action_name(DsnRecipient::Action action) {
  switch (action) {
    case DsnRecipient::Action::Failed:
      return "failed";
    case DsnRecipient::Action::Delayed:
      return "delayed";
    case DsnRecipient::Action::Delivered:
      return "delivered";
  }
  return "failed";
}

// A field value from a remote server, made safe for one header line.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 900)) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

}  // namespace

std::string make_dsn(const Dsn& dsn, std::string_view original) {
  const bool global =
      !is_ascii(dsn.to) || std::any_of(dsn.recipients.begin(), dsn.recipients.end(),
                                       [](const DsnRecipient& r) { return !is_ascii(r.address); });
  bool failed = false, delayed = false;
  for (const DsnRecipient& recipient : dsn.recipients) {
    failed |= recipient.action == DsnRecipient::Action::Failed;
    delayed |= recipient.action == DsnRecipient::Action::Delayed;
  }
  const std::string subject = failed    ? "Undelivered Mail Returned to Sender"
                              : delayed ? "Delayed Mail (still being retried)"
                                        : "Successful Mail Delivery Report";
  const std::string boundary = "=_report_" + mime::new_token();
  std::string out = "Date: " + mime::format_date(dsn.now, 0) +
                    "\r\nFrom: Mail Delivery System <MAILER-DAEMON@" + dsn.reporting_mta +
                    ">\r\nTo: <" + dsn.to + ">\r\nSubject: " + subject +
                    "\r\nMessage-ID: " + mime::new_message_id(dsn.reporting_mta) +
                    "\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                    "\tboundary=\"" +
                    boundary + "\"\r\n\r\n";
  // The part for people.
  out += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  out += "This is the mail server at " + dsn.reporting_mta + ".\r\n\r\n";
  out += failed    ? "Your message could not be delivered to these recipients:\r\n"
         : delayed ? "Your message has not been delivered yet to these recipients; the server\r\n"
                     "keeps trying until " +
                         mime::format_date(dsn.retry_until, 0) + ":\r\n"
                   : "Your message was delivered to these recipients:\r\n";
  for (const DsnRecipient& recipient : dsn.recipients) {
    out += "\r\n  <" + recipient.address + ">: " + action_name(recipient.action);
    if (!recipient.diagnostic.empty()) {
      out += "\r\n    " + (recipient.remote_mta.empty() ? "" : recipient.remote_mta + " said: ") +
             one_line(recipient.diagnostic);
    }
    out += "\r\n";
  }
  // The part for programs (RFC 3464 section 2.2, 2.3).
  out += "\r\n--" + boundary + "\r\nContent-Type: message/" +
         (global ? "global-delivery-status" : "delivery-status") + "\r\n\r\n";
  out += "Reporting-MTA: dns; " + dsn.reporting_mta + "\r\n";
  if (!dsn.envid.empty()) out += "Original-Envelope-Id: " + one_line(dsn.envid) + "\r\n";
  out += "Arrival-Date: " + mime::format_date(dsn.arrival, 0) + "\r\n";
  for (const DsnRecipient& recipient : dsn.recipients) {
    out += "\r\nFinal-Recipient: " +
           std::string(global && !is_ascii(recipient.address) ? "utf-8" : "rfc822") + "; " +
           recipient.address + "\r\n";
    if (!recipient.orcpt.empty())
      out += "Original-Recipient: " + one_line(recipient.orcpt) + "\r\n";
    out += std::string("Action: ") + action_name(recipient.action) +
           "\r\nStatus: " + recipient.status + "\r\n";
    if (!recipient.remote_mta.empty()) out += "Remote-MTA: dns; " + recipient.remote_mta + "\r\n";
    if (!recipient.diagnostic.empty()) {
      out += "Diagnostic-Code: smtp; " + one_line(recipient.diagnostic) + "\r\n";
    }
    out += "Last-Attempt-Date: " + mime::format_date(dsn.now, 0) + "\r\n";
    if (recipient.action == DsnRecipient::Action::Delayed) {
      out += "Will-Retry-Until: " + mime::format_date(dsn.retry_until, 0) + "\r\n";
    }
  }
  // The message itself, or its header (RET=HDRS).
  out += "\r\n--" + boundary + "\r\n";
  if (dsn.headers_only) {
    out += std::string("Content-Type: ") +
           (global ? "message/global-headers" : "text/rfc822-headers") + "\r\n\r\n";
    out += std::string(mime::header_block(original));
  } else {
    out +=
        std::string("Content-Type: ") + (global ? "message/global" : "message/rfc822") + "\r\n\r\n";
    out += std::string(original);
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace rampart::delivery
