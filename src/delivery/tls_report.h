// SMTP TLS reports (RFC 8460): what the delivery service tells a domain that publishes a
// `_smtp._tls` record (parse_tlsrpt_record in mta_sts.h) about a day of TLS sessions
// with its MX hosts: the aggregate JSON report (section 4) and the mail that carries it
// (section 5.3). Pure, but for the random Message-ID and boundary; counting the sessions and
// sending the mail are the caller's.
//
// The field names and result types are RFC 8460's, with two readings of the RFC:
// - "mx-host" is a JSON array of strings, as the RFC's section 4.4 defines mx-host-pattern
//   (its last draft said a single string, and Appendix B's example still shows one).
// - the failure text is "failure-reason-code", section 4.4's name; Appendix B's example
//   writes "failure-error-code", which nothing else in the RFC defines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::delivery {

// One "failure-details" entry: `failed_session_count` sessions that failed the same way
// with the same hosts. Empty strings are left out of the JSON.
struct TlsFailure {
  // Section 4.3 (and the IANA registry): "starttls-not-supported",
  // "certificate-host-mismatch", "certificate-expired", "certificate-not-trusted",
  // "validation-failure", "tlsa-invalid", "dnssec-invalid", "dane-required",
  // "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid".
  std::string result_type;
  std::string sending_mta_ip;         // ours, RFC 5952 text for IPv6
  std::string receiving_mx_hostname;  // empty when no MX was reached (a policy fetch error)
  std::string receiving_mx_helo;      // the name in the MX's greeting or EHLO reply
  std::string receiving_ip;
  std::string additional_information;  // a URI with more about the failure
  std::string failure_reason_code;     // e.g. "X509_V_ERR_CERT_HAS_EXPIRED"; section 4.3.3
                                       // asks for it with validation-failure and
                                       // certificate-not-trusted
  std::int64_t failed_session_count = 0;
};

// One "policies" entry: a policy applied to the domain's MX hosts and its sessions.
struct TlsPolicyResult {
  std::string policy_type;  // "sts", "tlsa" or "no-policy-found"
  // sts: the policy's lines ("version: STSv1", "mode: testing", one "mx: ..." each);
  // tlsa: each record's four fields in presentation form ("3 1 1 ABCD..."). Left out of
  // the JSON when empty (no-policy-found, a policy that could not be fetched).
  std::vector<std::string> policy_string;
  std::string policy_domain;         // A-labels, as every domain in the report
  std::vector<std::string> mx_host;  // sts: the mx patterns; left out when empty
  std::int64_t successful_sessions = 0, failed_sessions = 0;
  std::vector<TlsFailure> failure_details;  // left out when empty
};

struct TlsReport {
  std::string organization_name;  // the reporting organisation: our host name
  std::string contact_info;       // an addr-spec, "postmaster@example.org"
  // Unique per report, in the form of an RFC 5322 msg-id without its angle brackets
  // ("id-left@id-right"): the mail's Subject carries it for the receiver to find repeats.
  std::string report_id;
  // The UTC day reported, in Unix seconds, `end` exclusive (section 4.1: 0000-2400 UTC).
  // The JSON gives RFC 3339 times, `end` as its last second ("2016-04-01T23:59:59Z").
  std::int64_t start = 0, end = 0;
  std::string policy_domain;  // the domain the report is for: one report per domain
  std::vector<TlsPolicyResult> policies;
};

// The JSON report (section 4.4), compact. "policies" is an array even with one policy.
std::string tls_report_json(const TlsReport& report);

// The report's file name (section 5.1):
// "submitter!policy-domain!begin!end!unique-id.json.gz", the submitter being the domain
// of contact_info, begin and end the Unix seconds of the JSON's date-range (its first and
// last second), unique-id the letters and digits of report_id before its "@" (left out
// when there are none). Characters that could not be in a domain name become "_", so the
// name never has more than four "!" nor a path; section 5.6 makes the JSON authoritative.
std::string tls_report_filename(const TlsReport& report);

// The report as a mail (section 5.3), CRLF line ends, to be sent from `from` to `to`
// (bare addr-specs; `to` is a mailto: rua without its scheme) with the Date of `now`:
// From, To, Date, Message-ID, Subject "Report Domain: DOMAIN Submitter: ORG Report-ID:
// <ID>" (folded before "Submitter:" and "Report-ID:", as in the RFC), TLS-Report-Domain,
// TLS-Report-Submitter (the domain of contact_info, which the RFC requires),
// Auto-Submitted: auto-generated, and a multipart/report; report-type="tlsrpt" of a
// short text/plain for people and the gzipped JSON as application/tlsrpt+gzip in base64,
// named by tls_report_filename.
//
// Every value that reaches a header or the text part is made harmless first: a control
// character, CR, LF, space or byte beyond ASCII in a domain, an id or an address becomes
// "_" (angle brackets too), and each is cut at 255 bytes, so no value can start a header
// line, a part or a boundary; MX names and additional information go only into the
// gzipped JSON. The boundary is checked against the text part. The caller DKIM-signs the
// mail with TLS-Report-Domain and TLS-Report-Submitter among the signed fields (section
// 5.3 says SHOULD), and sends it without requiring the TLS the report is about.
std::string tls_report_mail(const TlsReport& report, std::string_view from, std::string_view to,
                            std::int64_t now);

}  // namespace rampart::delivery
