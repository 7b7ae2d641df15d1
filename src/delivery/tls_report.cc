#include "delivery/tls_report.h"

#include <zlib.h>

#include <boost/json.hpp>
#include <climits>
#include <cstdio>
#include <new>
#include <stdexcept>

#include "base/address.h"
#include "base/civil_date.h"
#include "mime/encode.h"

namespace rampart::delivery {

namespace {

namespace json = boost::json;

constexpr std::size_t kMaxHeaderValue = 255;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_domain_char(char c) { return is_alnum(c) || c == '.' || c == '-' || c == '_'; }

// RFC 5322 atext, dot and "@": what a dot-atom msg-id or a plain addr-spec is made of.
bool is_id_char(char c) {
  return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~.@").find(c) != std::string_view::npos;
}

// A value from outside, made safe for a header line, a file name or the text part: what
// `allowed` refuses (CR, LF, controls, space, quotes, 8-bit...) becomes "_", and the
// value is cut so that no line passes 998 bytes.
std::string safe(std::string_view text, bool (*allowed)(char)) {
  std::string out(text.substr(0, kMaxHeaderValue));
  for (char& c : out) {
    if (!allowed(c)) c = '_';
  }
  return out;
}

// RFC 3339 section 5.6, in UTC: "2016-04-01T00:00:00Z".
std::string rfc3339(std::int64_t seconds) {
  std::int64_t days = seconds / 86'400, second_of_day = seconds % 86'400;
  if (second_of_day < 0) {
    days -= 1;
    second_of_day += 86'400;
  }
  const CivilDate date = civil_from_days(days);
  char text[40];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<long long>(second_of_day / 3600),
                static_cast<long long>(second_of_day / 60 % 60),
                static_cast<long long>(second_of_day % 60));
  return text;
}

// The date-range ends with the day's last second, as the RFC's example has it.
std::int64_t last_second(const TlsReport& report) { return report.end - 1; }

json::array string_array(const std::vector<std::string>& strings) {
  json::array array;
  for (const std::string& text : strings) array.emplace_back(text);
  return array;
}

void put_if_set(json::object& object, std::string_view key, const std::string& value) {
  if (!value.empty()) object[key] = value;
}

json::object failure_json(const TlsFailure& failure) {
  json::object object;
  object["result-type"] = failure.result_type;
  put_if_set(object, "sending-mta-ip", failure.sending_mta_ip);
  put_if_set(object, "receiving-mx-hostname", failure.receiving_mx_hostname);
  put_if_set(object, "receiving-mx-helo", failure.receiving_mx_helo);
  put_if_set(object, "receiving-ip", failure.receiving_ip);
  object["failed-session-count"] = failure.failed_session_count;
  put_if_set(object, "additional-information", failure.additional_information);
  put_if_set(object, "failure-reason-code", failure.failure_reason_code);
  return object;
}

json::object policy_json(const TlsPolicyResult& result) {
  json::object policy;
  policy["policy-type"] = result.policy_type;
  if (!result.policy_string.empty()) policy["policy-string"] = string_array(result.policy_string);
  policy["policy-domain"] = result.policy_domain;
  if (!result.mx_host.empty()) policy["mx-host"] = string_array(result.mx_host);
  json::object object;
  object["policy"] = std::move(policy);
  object["summary"] = json::object{{"total-successful-session-count", result.successful_sessions},
                                   {"total-failure-session-count", result.failed_sessions}};
  if (!result.failure_details.empty()) {
    json::array details;
    for (const TlsFailure& failure : result.failure_details) {
      details.emplace_back(failure_json(failure));
    }
    object["failure-details"] = std::move(details);
  }
  return object;
}

// RFC 1952 gzip of `data` (RFC 8460 section 5.2), in one deflate call into a buffer of
// deflateBound's size, which zlib guarantees to be enough.
std::string gzip(std::string_view data) {
  if (data.size() > UINT_MAX) throw std::length_error("TLS report too big to compress");
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::bad_alloc();
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::logic_error("deflate did not finish within its bound");
  return out;
}

}  // namespace

std::string tls_report_json(const TlsReport& report) {
  json::object object;
  object["organization-name"] = report.organization_name;
  object["date-range"] = json::object{{"start-datetime", rfc3339(report.start)},
                                      {"end-datetime", rfc3339(last_second(report))}};
  object["contact-info"] = report.contact_info;
  object["report-id"] = report.report_id;
  json::array policies;
  for (const TlsPolicyResult& result : report.policies) policies.emplace_back(policy_json(result));
  object["policies"] = std::move(policies);
  return json::serialize(object);
}

std::string tls_report_filename(const TlsReport& report) {
  std::string unique_id;
  for (char c : std::string_view(report.report_id).substr(0, report.report_id.find('@'))) {
    if (is_alnum(c)) unique_id += c;
  }
  std::string name = safe(domain_of(report.contact_info), is_domain_char) + "!" +
                     safe(report.policy_domain, is_domain_char) + "!" +
                     std::to_string(report.start) + "!" + std::to_string(last_second(report));
  if (!unique_id.empty()) name += "!" + unique_id.substr(0, kMaxHeaderValue);
  return name + ".json.gz";
}

std::string tls_report_mail(const TlsReport& report, std::string_view from, std::string_view to,
                            std::int64_t now) {
  const std::string domain = safe(report.policy_domain, is_domain_char);
  const std::string organization = safe(report.organization_name, is_domain_char);
  const std::string submitter = safe(domain_of(report.contact_info), is_domain_char);
  const std::string text = "This is an aggregate TLS report (RFC 8460) from " + organization +
                           "\r\nabout mail to " + domain + " from " + rfc3339(report.start) +
                           " to " + rfc3339(last_second(report)) +
                           ".\r\nThe report is the attached JSON file.\r\n";
  // "=_" never occurs in base64, and the text part is ours, but check all the same. Each
  // part ends with a line end, which the next delimiter takes as its own (RFC 2046 5.1.1).
  std::string boundary;
  do {
    boundary = "=_tlsrpt_" + mime::new_token();
  } while (text.find(boundary) != std::string::npos);

  // RFC 8460 section 5.3: the Subject's ABNF, folded as its example is.
  std::string out = "From: <" + safe(from, is_id_char) + ">\r\nTo: <" + safe(to, is_id_char) +
                    ">\r\nDate: " + mime::format_date(now, 0) +
                    "\r\nMessage-ID: " + mime::new_message_id(organization) +
                    "\r\nSubject: Report Domain: " + domain + "\r\n Submitter: " + organization +
                    "\r\n Report-ID: <" + safe(report.report_id, is_id_char) +
                    ">\r\nTLS-Report-Domain: " + domain + "\r\nTLS-Report-Submitter: " + submitter +
                    "\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
                    "\tboundary=\"" +
                    boundary + "\"\r\n\r\n";
  out += "--" + boundary +
         "\r\nContent-Type: text/plain; charset=us-ascii\r\n"
         "Content-Transfer-Encoding: 7bit\r\n\r\n" +
         text;
  out += "--" + boundary +
         "\r\nContent-Type: application/tlsrpt+gzip\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment;\r\n\tfilename=\"" +
         tls_report_filename(report) + "\"\r\n\r\n";
  out += mime::encode_base64_lines(gzip(tls_report_json(report)));
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace rampart::delivery
