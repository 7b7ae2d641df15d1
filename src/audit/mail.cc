#include "audit/mail.h"

#include "mime/encode.h"

namespace rampart::audit {
namespace {

// Header values come from alerts, which quote what clients sent: no line breaks or
// control characters reach the header.
std::string header_safe(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? ' ' : c;
  }
  return out;
}

}  // namespace

std::string alert_message(const Alert& alert, std::string_view to, std::string_view server,
                          std::int64_t unix_seconds) {
  const std::string host = header_safe(server);
  std::string message;
  message += "From: Rampart audit <MAILER-DAEMON@" + host + ">\r\n";
  message += "To: <" + header_safe(to) + ">\r\n";
  message += "Subject: [Rampart alert] " + header_safe(alert.kind) + ": " +
             header_safe(alert.account.empty() ? alert.address : alert.account) + "\r\n";
  message += "Date: " + mime::format_date(unix_seconds, 0) + "\r\n";
  message += "Message-ID: " + mime::new_message_id(host) + "\r\n";
  message += "Auto-Submitted: auto-generated\r\n";
  message += "MIME-Version: 1.0\r\n";
  message += "Content-Type: text/plain; charset=utf-8\r\n";
  message += "Content-Transfer-Encoding: 8bit\r\n\r\n";
  message += header_safe(alert.text) + "\r\n\r\n";
  message += "Kind: " + header_safe(alert.kind) + "\r\n";
  message += "Account: " + header_safe(alert.account) + "\r\n";
  message += "Address: " + header_safe(alert.address) + "\r\n";
  message += "Server: " + host + "\r\n\r\n";
  message += "rampart audit --account " + header_safe(alert.account) +
             " --since 1d shows what led to it.\r\n";
  return message;
}

}  // namespace rampart::audit
