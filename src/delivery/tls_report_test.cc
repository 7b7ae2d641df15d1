#include "delivery/tls_report.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <set>

#include "mime/body.h"
#include "mime/header.h"
#include "mime/message.h"

namespace rampart::delivery {
namespace {

namespace json = boost::json;

// RFC 8460 Appendix B, with two of its slips mended: "mx-host" is an array, as section
// 4.4 defines it, and the failure text is "failure-reason-code", section 4.4's name
// (the example says "failure-error-code"). Its additional-information URI, broken by
// the RFC's line wrapping, is given unbroken.
constexpr std::string_view kAppendixB = R"({
  "organization-name": "Company-X",
  "date-range": {
    "start-datetime": "2016-04-01T00:00:00Z",
    "end-datetime": "2016-04-01T23:59:59Z"
  },
  "contact-info": "sts-reporting@company-x.example",
  "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
  "policies": [{
    "policy": {
      "policy-type": "sts",
      "policy-string": ["version: STSv1","mode: testing",
            "mx: *.mail.company-y.example","max_age: 86400"],
      "policy-domain": "company-y.example",
      "mx-host": ["*.mail.company-y.example"]
    },
    "summary": {
      "total-successful-session-count": 5326,
      "total-failure-session-count": 303
    },
    "failure-details": [{
      "result-type": "certificate-expired",
      "sending-mta-ip": "2001:db8:abcd:0012::1",
      "receiving-mx-hostname": "mx1.mail.company-y.example",
      "failed-session-count": 100
    }, {
      "result-type": "starttls-not-supported",
      "sending-mta-ip": "2001:db8:abcd:0013::1",
      "receiving-mx-hostname": "mx2.mail.company-y.example",
      "receiving-ip": "203.0.113.56",
      "failed-session-count": 200,
      "additional-information": "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported"
    }, {
      "result-type": "validation-failure",
      "sending-mta-ip": "198.51.100.62",
      "receiving-ip": "203.0.113.58",
      "receiving-mx-hostname": "mx-backup.mail.company-y.example",
      "failed-session-count": 3,
      "failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"
    }]
  }]
})";

constexpr std::int64_t kApril1 = 1459468800;  // 2016-04-01T00:00:00Z

TlsReport appendix_b() {
  return {
      .organization_name = "Company-X",
      .contact_info = "sts-reporting@company-x.example",
      .report_id = "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
      .start = kApril1,
      .end = kApril1 + 86400,
      .policy_domain = "company-y.example",
      .policies = {{
          .policy_type = "sts",
          .policy_string = {"version: STSv1", "mode: testing", "mx: *.mail.company-y.example",
                            "max_age: 86400"},
          .policy_domain = "company-y.example",
          .mx_host = {"*.mail.company-y.example"},
          .successful_sessions = 5326,
          .failed_sessions = 303,
          .failure_details = {{.result_type = "certificate-expired",
                               .sending_mta_ip = "2001:db8:abcd:0012::1",
                               .receiving_mx_hostname = "mx1.mail.company-y.example",
                               .failed_session_count = 100},
                              {.result_type = "starttls-not-supported",
                               .sending_mta_ip = "2001:db8:abcd:0013::1",
                               .receiving_mx_hostname = "mx2.mail.company-y.example",
                               .receiving_ip = "203.0.113.56",
                               .additional_information =
                                   "https://reports.company-x.example/"
                                   "report_info?id=5065427c-23d3#StarttlsNotSupported",
                               .failed_session_count = 200},
                              {.result_type = "validation-failure",
                               .sending_mta_ip = "198.51.100.62",
                               .receiving_mx_hostname = "mx-backup.mail.company-y.example",
                               .receiving_ip = "203.0.113.58",
                               .failure_reason_code = "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED",
                               .failed_session_count = 3}},
      }},
  };
}

std::string text_of(const json::value& value) { return std::string(value.as_string()); }

std::set<std::string> keys(const json::object& object) {
  std::set<std::string> names;
  for (const auto& member : object) names.emplace(member.key());
  return names;
}

std::string gunzip(std::string_view bytes) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 32), Z_OK);  // 32: detect gzip or zlib
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buffer[4096];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
  }
  inflateEnd(&stream);
  EXPECT_EQ(result, Z_STREAM_END);
  return out;
}

// The names of the top-level header fields, in order.
std::vector<std::string> field_names(std::string_view mail) {
  std::vector<std::string> names;
  for (const mime::HeaderField& field : mime::header_fields(mime::header_block(mail))) {
    names.emplace_back(field.name);
  }
  return names;
}

std::string field(std::string_view mail, std::string_view name) {
  const auto values = mime::find_header(mime::header_block(mail), name);
  EXPECT_EQ(values.size(), 1u) << name;
  if (values.empty()) return {};
  std::string value = mime::unfold(values[0]);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\r' || value.back() == '\n')) {
    value.pop_back();
  }
  return value;
}

const std::vector<std::string> kFields = {"From",
                                          "To",
                                          "Date",
                                          "Message-ID",
                                          "Subject",
                                          "TLS-Report-Domain",
                                          "TLS-Report-Submitter",
                                          "Auto-Submitted",
                                          "MIME-Version",
                                          "Content-Type"};

TEST(TlsReport, JsonIsTheRfcExample) {
  const json::value got = json::parse(tls_report_json(appendix_b()));
  const json::value want = json::parse(kAppendixB);
  // Field by field first, so that a difference says where it is.
  const json::object& report = got.as_object();
  const json::object& expected = want.as_object();
  EXPECT_EQ(keys(report), keys(expected));
  for (const char* name : {"organization-name", "contact-info", "report-id"}) {
    ASSERT_TRUE(report.at(name).is_string()) << name;
    EXPECT_EQ(report.at(name), expected.at(name)) << name;
  }
  EXPECT_EQ(report.at("date-range"), expected.at("date-range"));
  ASSERT_TRUE(report.at("policies").is_array());
  ASSERT_EQ(report.at("policies").as_array().size(), 1u);
  const json::object& policy = report.at("policies").as_array()[0].as_object();
  const json::object& expected_policy = expected.at("policies").as_array()[0].as_object();
  EXPECT_EQ(keys(policy), (std::set<std::string>{"policy", "summary", "failure-details"}));
  EXPECT_EQ(policy.at("policy"), expected_policy.at("policy"));
  EXPECT_TRUE(policy.at("policy").at("policy-string").is_array());
  EXPECT_TRUE(policy.at("policy").at("mx-host").is_array());
  EXPECT_EQ(policy.at("summary"), expected_policy.at("summary"));
  EXPECT_TRUE(policy.at("summary").at("total-successful-session-count").is_int64());
  EXPECT_TRUE(policy.at("summary").at("total-failure-session-count").is_int64());
  const json::array& failures = policy.at("failure-details").as_array();
  const json::array& expected_failures = expected_policy.at("failure-details").as_array();
  ASSERT_EQ(failures.size(), 3u);
  for (std::size_t i = 0; i < failures.size(); ++i) {
    EXPECT_EQ(keys(failures[i].as_object()), keys(expected_failures[i].as_object())) << i;
    EXPECT_EQ(failures[i], expected_failures[i]) << i;
    EXPECT_TRUE(failures[i].at("failed-session-count").is_int64()) << i;
  }
  EXPECT_EQ(got, want);
}

TEST(TlsReport, LeavesOutWhatIsNotKnown) {
  TlsReport report = appendix_b();
  report.policies = {
      {.policy_type = "no-policy-found",
       .policy_domain = "company-y.example",
       .successful_sessions = 7},
      {.policy_type = "sts",
       .policy_domain = "company-y.example",
       .failed_sessions = 2,
       .failure_details = {{.result_type = "sts-policy-fetch-error", .failed_session_count = 2}}},
  };
  const json::value got = json::parse(tls_report_json(report));
  const json::array& policies = got.at("policies").as_array();
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(keys(policies[0].as_object()), (std::set<std::string>{"policy", "summary"}));
  EXPECT_EQ(keys(policies[0].at("policy").as_object()),
            (std::set<std::string>{"policy-type", "policy-domain"}));
  EXPECT_EQ(policies[0].at("summary"),
            json::parse(R"({"total-successful-session-count":7,"total-failure-session-count":0})"));
  EXPECT_EQ(policies[1].at("failure-details"),
            json::parse(R"([{"result-type":"sts-policy-fetch-error","failed-session-count":2}])"));
  // Still an array with no policy at all (section 4).
  report.policies.clear();
  EXPECT_EQ(json::parse(tls_report_json(report)).at("policies"), json::array());
}

TEST(TlsReport, FilenameFollowsSection51) {
  EXPECT_EQ(tls_report_filename(appendix_b()),
            "company-x.example!company-y.example!1459468800!1459555199!"
            "5065427c23d347cab6e0946ea0e8c4be.json.gz");
  TlsReport report = appendix_b();
  report.report_id = "20160401.x1@mail.company-x.example";
  EXPECT_EQ(tls_report_filename(report),
            "company-x.example!company-y.example!1459468800!1459555199!20160401x1.json.gz");
  report.report_id = "--@mail.company-x.example";  // no letter or digit: no unique-id
  EXPECT_EQ(tls_report_filename(report),
            "company-x.example!company-y.example!1459468800!1459555199.json.gz");
  // Neither another "!", a path nor a quote from a hostile domain.
  report.policy_domain = "a!b/../c\"\r\n";
  EXPECT_EQ(tls_report_filename(report),
            "company-x.example!a_b_.._c___!1459468800!1459555199.json.gz");
}

TEST(TlsReport, MailCarriesTheGzippedJson) {
  const TlsReport report = appendix_b();
  const std::string mail = tls_report_mail(report, "tlsrpt@mail.company-x.example",
                                           "sts-reports@company-y.example", kApril1 + 90000);
  EXPECT_EQ(field_names(mail), kFields);
  EXPECT_EQ(field(mail, "From"), "<tlsrpt@mail.company-x.example>");
  EXPECT_EQ(field(mail, "To"), "<sts-reports@company-y.example>");
  EXPECT_EQ(field(mail, "Subject"),
            "Report Domain: company-y.example Submitter: Company-X "
            "Report-ID: <5065427c-23d3-47ca-b6e0-946ea0e8c4be>");
  EXPECT_EQ(field(mail, "TLS-Report-Domain"), "company-y.example");
  EXPECT_EQ(field(mail, "TLS-Report-Submitter"), "company-x.example");
  EXPECT_EQ(field(mail, "MIME-Version"), "1.0");
  for (std::size_t end = 0, begin = 0; (end = mail.find('\n', begin)) != std::string::npos;
       begin = end + 1) {
    ASSERT_GT(end, begin);
    EXPECT_EQ(mail[end - 1], '\r') << "bare LF at " << end;
    EXPECT_LE(end - begin, 999u);
  }

  const mime::Message message = mime::parse(mail);
  EXPECT_TRUE(message.defects.empty());
  EXPECT_EQ(message.envelope.date_unix, kApril1 + 90000);
  EXPECT_EQ(message.envelope.subject,
            "Report Domain: company-y.example Submitter: Company-X "
            "Report-ID: <5065427c-23d3-47ca-b6e0-946ea0e8c4be>");
  ASSERT_EQ(mime::parse_message_ids(message.envelope.message_id).size(), 1u);
  EXPECT_EQ(message.root.type, "multipart");
  EXPECT_EQ(message.root.subtype, "report");
  EXPECT_EQ(message.root.parameter("report-type"), "tlsrpt");
  ASSERT_EQ(message.root.children.size(), 2u);
  const mime::Part& text = message.root.children[0];
  EXPECT_EQ(text.type + "/" + text.subtype, "text/plain");
  EXPECT_NE(mime::decode_text_body(mail, text).find("Company-X"), std::string::npos);
  const mime::Part& attachment = message.root.children[1];
  EXPECT_EQ(attachment.type + "/" + attachment.subtype, "application/tlsrpt+gzip");
  EXPECT_EQ(attachment.transfer_encoding, "base64");
  EXPECT_EQ(attachment.disposition, "attachment");
  EXPECT_EQ(attachment.filename(), tls_report_filename(report));
  const std::string_view base64 =
      std::string_view(mail).substr(attachment.body_begin, attachment.size());
  for (std::size_t end = 0, begin = 0; (end = base64.find("\r\n", begin)) != std::string::npos;
       begin = end + 2) {
    EXPECT_LE(end - begin, 76u);
  }
  bool damaged = false;
  const std::string gzipped = mime::decode_body(mail, attachment, &damaged);
  EXPECT_FALSE(damaged);
  ASSERT_GE(gzipped.size(), 2u);
  EXPECT_EQ(gzipped.substr(0, 2), "\x1f\x8b");  // gzip, not zlib (RFC 8460 section 6.5)
  EXPECT_EQ(gunzip(gzipped), tls_report_json(report));
}

TEST(TlsReport, OutsideTextAddsNoHeaderLineOrPart) {
  TlsReport report = appendix_b();
  TlsFailure& failure = report.policies[0].failure_details[1];
  failure.receiving_mx_hostname = "mx2.example\r\nBcc: victim@example.net";
  failure.additional_information =
      "x\r\n\r\n--=_tlsrpt_\r\nContent-Type: text/html\r\n\r\n<script>\r\n";
  report.policy_domain = "company-y.example\r\nX-Injected: 1";
  report.report_id = "id@x>\r\nX-Injected: 2\r\n\r\nbody";
  report.organization_name = "Company-X\n\nX-Injected: 3";
  report.contact_info = "a@company-x.example\rX-Injected: 4";
  const std::string mail = tls_report_mail(report, "from@x.example\r\nX-Injected: 5",
                                           "to@y.example>\r\n\r\n--", kApril1);
  EXPECT_EQ(field_names(mail), kFields);
  // Neither a line of its own anywhere ("X-Injected" and "<" are not base64)...
  EXPECT_EQ(mail.find("\r\nX-Injected"), std::string::npos);
  EXPECT_EQ(mail.find("<script>"), std::string::npos);
  EXPECT_EQ(field(mail, "TLS-Report-Domain"), "company-y.example__X-Injected__1");

  const mime::Message message = mime::parse(mail);
  EXPECT_TRUE(message.defects.empty());
  ASSERT_EQ(message.root.children.size(), 2u);
  EXPECT_EQ(message.root.children[0].type + "/" + message.root.children[0].subtype, "text/plain");
  // ...nor a word in the text for people.
  EXPECT_EQ(mime::decode_text_body(mail, message.root.children[0]).find("victim"),
            std::string::npos);
  EXPECT_EQ(message.root.children[1].subtype, "tlsrpt+gzip");
  // The JSON keeps every string as it was: escaping is its own business.
  const json::value got = json::parse(gunzip(mime::decode_body(mail, message.root.children[1])));
  const json::value& detail = got.at("policies").as_array()[0].at("failure-details").as_array()[1];
  EXPECT_EQ(text_of(detail.at("receiving-mx-hostname")), failure.receiving_mx_hostname);
  EXPECT_EQ(text_of(detail.at("additional-information")), failure.additional_information);
  EXPECT_EQ(text_of(got.at("report-id")), report.report_id);
}

}  // namespace
}  // namespace rampart::delivery
