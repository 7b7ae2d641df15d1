// The pure half of filter/rspamd.h: rspamd's reply read, the request head written, the
// message marked. No I/O, so the fuzz build takes it alone.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/ascii.h"
#include "filter/rspamd.h"
#include "mime/encode.h"
#include "mime/header.h"

namespace rampart::filter {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxSymbols = 8;
constexpr std::size_t kMaxSymbolName = 64;
constexpr std::size_t kMaxSubject = 998;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z'); }
bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string printable(std::string_view text, std::size_t limit = 200) {
  std::string out;
  for (char c : text.substr(0, std::min(text.size(), limit))) {
    if (c >= ' ' && c <= '~') out += c;
  }
  return out;
}

RspamdVerdict unscanned(std::string detail) {
  RspamdVerdict verdict;
  verdict.detail = printable(detail);
  return verdict;
}

std::optional<RspamdAction> action_of(std::string_view name) {
  static constexpr std::pair<std::string_view, RspamdAction> kActions[] = {
      {"no action", RspamdAction::NoAction},     {"greylist", RspamdAction::Greylist},
      {"add header", RspamdAction::AddHeader},   {"rewrite subject", RspamdAction::RewriteSubject},
      {"soft reject", RspamdAction::SoftReject}, {"reject", RspamdAction::Reject},
      {"discard", RspamdAction::Junk},           {"quarantine", RspamdAction::Junk}};
  for (const auto& [text, action] : kActions) {
    if (name == text) return action;
  }
  return std::nullopt;
}

std::optional<double> number(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (!value) return std::nullopt;
  double number = 0;
  if (value->is_double()) {
    number = value->get_double();
  } else if (value->is_int64()) {
    number = static_cast<double>(value->get_int64());
  } else if (value->is_uint64()) {
    number = static_cast<double>(value->get_uint64());
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(number)) return std::nullopt;
  return number;
}

std::string format_score(double score) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", score);
  return text;
}

// The symbols that weigh most, heaviest first (by magnitude, then name).
std::string top_symbols(const json::object& reply) {
  const json::value* symbols = reply.if_contains("symbols");
  if (!symbols || !symbols->is_object()) return {};
  std::vector<std::pair<double, std::string>> found;
  for (const auto& entry : symbols->get_object()) {
    std::string name;
    for (char c : entry.key().substr(0, std::min(entry.key().size(), kMaxSymbolName))) {
      if (is_alnum(c) || c == '_' || c == '.' || c == '-') name += c;
    }
    if (name.empty()) continue;
    double score = 0;
    if (entry.value().is_object()) score = number(entry.value().get_object(), "score").value_or(0);
    found.emplace_back(score, std::move(name));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (std::fabs(a.first) != std::fabs(b.first)) return std::fabs(a.first) > std::fabs(b.first);
    return a.second < b.second;
  });
  std::string out;
  for (std::size_t i = 0; i < found.size() && i < kMaxSymbols; ++i) {
    if (!out.empty()) out += ' ';
    out += found[i].second + "(" + format_score(found[i].first) + ")";
  }
  return out;
}

// UTF-8 text fit for one header value: no control characters, cut on a character
// boundary.
std::string clean_subject(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) out += c;
  }
  if (out.size() > kMaxSubject) {
    std::size_t cut = kMaxSubject;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

// Status line, fields and body; nullopt when it is not an HTTP/1.x reply we read.
struct HttpReply {
  int status = 0;
  std::string_view body;
};

std::optional<HttpReply> split_http(std::string_view reply, std::string& why) {
  const std::optional<int> status = http_status(reply);
  if (!status) {
    why = "no HTTP status line";
    return std::nullopt;
  }
  const std::size_t end = reply.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    why = "no end of the HTTP header";
    return std::nullopt;
  }
  HttpReply out{*status, reply.substr(end + 4)};
  std::string_view fields = reply.substr(0, end + 2);
  fields.remove_prefix(fields.find("\r\n") + 2);
  while (!fields.empty()) {
    const std::size_t line_end = fields.find("\r\n");
    const std::string_view line = fields.substr(0, line_end);
    fields.remove_prefix(line_end + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (iequals(name, "Transfer-Encoding")) {
      why = "a Transfer-Encoding we do not read";
      return std::nullopt;
    }
    if (iequals(name, "Content-Length")) {
      std::size_t length = 0;
      const auto [at, error] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (error != std::errc() || at != value.data() + value.size() || value.empty() ||
          length > out.body.size()) {
        why = "a Content-Length the body does not match";
        return std::nullopt;
      }
      out.body = out.body.substr(0, length);
    }
  }
  return out;
}

}  // namespace

std::string_view action_name(RspamdAction action) {
  switch (action) {
    case RspamdAction::NoAction:
      return "no action";
    case RspamdAction::Greylist:
      return "greylist";
    case RspamdAction::AddHeader:
      return "add header";
    case RspamdAction::RewriteSubject:
      return "rewrite subject";
    case RspamdAction::SoftReject:
      return "soft reject";
    case RspamdAction::Reject:
      return "reject";
    case RspamdAction::Junk:
      return "junk";
  }
  return "no action";
}

bool http_reply_complete(std::string_view reply) {
  const std::size_t end = reply.find("\r\n\r\n");
  if (end == std::string_view::npos || !http_status(reply)) return false;
  const std::size_t body = reply.size() - (end + 4);
  std::string_view fields = reply.substr(0, end + 2);
  while (!fields.empty()) {
    const std::size_t line_end = fields.find("\r\n");
    std::string_view line = fields.substr(0, line_end);
    fields.remove_prefix(line_end + 2);
    constexpr std::string_view kName = "Content-Length:";
    if (line.size() < kName.size() || !iequals(line.substr(0, kName.size()), kName)) continue;
    line.remove_prefix(kName.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    std::size_t length = 0;
    const auto [at, error] = std::from_chars(line.data(), line.data() + line.size(), length);
    return error == std::errc() && body >= length;
  }
  return false;
}

std::optional<int> http_status(std::string_view reply) {
  // "HTTP/1.1 200 OK": the version, a space, three digits, then a space or the line end.
  if (reply.size() < 12 || !reply.starts_with("HTTP/1.") || reply[8] != ' ') return std::nullopt;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (!is_digit(reply[i])) return std::nullopt;
    status = status * 10 + (reply[i] - '0');
  }
  if (reply.size() > 12 && reply[12] != ' ' && reply[12] != '\r') return std::nullopt;
  return status;
}

RspamdVerdict parse_rspamd_reply(std::string_view reply) {
  if (reply.size() > kMaxRspamdReply) return unscanned("rspamd's reply is too long");
  std::string why;
  const std::optional<HttpReply> http = split_http(reply, why);
  if (!http) return unscanned("rspamd: " + why);
  if (http->status != 200) {
    return unscanned("rspamd answered HTTP " + std::to_string(http->status));
  }
  boost::system::error_code error;
  const json::value parsed = json::parse(http->body, error);
  if (error || !parsed.is_object()) return unscanned("rspamd's reply is not a JSON object");
  const json::object& object = parsed.get_object();
  const json::value* action_value = object.if_contains("action");
  const std::optional<double> score = number(object, "score");
  const std::optional<double> required = number(object, "required_score");
  if (!action_value || !action_value->is_string() || !score) {
    return unscanned("rspamd's reply has no action or score");
  }
  const std::string_view name(action_value->get_string());
  const std::optional<RspamdAction> action = action_of(name);
  if (!action) return unscanned("rspamd: unknown action \"" + std::string(name) + "\"");
  RspamdVerdict verdict;
  verdict.kind = RspamdVerdict::Kind::Scanned;
  verdict.action = *action;
  verdict.score = *score;
  verdict.required_score = required.value_or(0);
  verdict.symbols = top_symbols(object);
  if (*action == RspamdAction::RewriteSubject) {
    const json::value* subject = object.if_contains("subject");
    if (subject && subject->is_string()) verdict.subject = clean_subject(subject->get_string());
    // Without a new subject there is nothing to rewrite: the message is marked spam.
    if (verdict.subject.empty()) verdict.action = RspamdAction::AddHeader;
  }
  return verdict;
}

std::string rspamd_request_head(std::string_view path, const RspamdEnvelope& envelope,
                                std::string_view password, std::size_t body_size) {
  std::string head = "POST " + std::string(path) +
                     " HTTP/1.0\r\nContent-Length: " + std::to_string(body_size) + "\r\n";
  auto field = [&head](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    head += name;
    head += ": ";
    for (char c : value) {
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) head += c;
    }
    head += "\r\n";
  };
  field("IP", envelope.ip);
  field("Helo", envelope.helo);
  // A scan (it has recipients) always names the sender, the null sender as "<>": absent,
  // rspamd would take the From field's address. A lesson has no envelope.
  if (!envelope.recipients.empty()) {
    field("From", envelope.mail_from.empty() ? "<>" : envelope.mail_from);
  }
  for (const std::string& recipient : envelope.recipients) field("Rcpt", recipient);
  field("Queue-Id", envelope.queue_id);
  field("User", envelope.user);
  field("Password", password);
  return head + "\r\n";
}

std::string describe(const RspamdVerdict& verdict) {
  if (verdict.kind == RspamdVerdict::Kind::Unscanned) return "unscanned (" + verdict.detail + ")";
  std::string text = std::string(action_name(verdict.action)) + " " + format_score(verdict.score) +
                     "/" + format_score(verdict.required_score);
  if (!verdict.symbols.empty()) text += " " + verdict.symbols;
  return text;
}

std::string spam_header_fields(const RspamdVerdict& verdict) {
  if (verdict.kind == RspamdVerdict::Kind::Unscanned) {
    return "X-Spamd-Result: unscanned (" + verdict.detail + ")\r\n";
  }
  std::string field = "X-Spamd-Result: " + std::string(action_name(verdict.action)) + "; " +
                      format_score(verdict.score) + " / " + format_score(verdict.required_score);
  if (!verdict.symbols.empty()) field += ";\r\n\t" + verdict.symbols;
  field += "\r\n";
  const bool spam = verdict.action == RspamdAction::AddHeader ||
                    verdict.action == RspamdAction::RewriteSubject ||
                    verdict.action == RspamdAction::Junk;
  if (spam) field += "X-Spam: Yes\r\n";
  return field;
}

void mark_message(std::string& text, std::string_view subject) {
  const std::string_view message = text;
  const std::string_view header = mime::header_block(message);
  std::string out;
  std::size_t kept_from = 0;
  bool changed = false;
  bool replaced = subject.empty();
  for (const mime::HeaderField& field : mime::header_fields(header)) {
    const bool ours = iequals(field.name, "X-Spamd-Result") || iequals(field.name, "X-Spamd-Bar") ||
                      iequals(field.name, "X-Spam") || istarts_with(field.name, "X-Spam-");
    const bool is_subject = !subject.empty() && iequals(field.name, "Subject");
    if (!ours && !is_subject) continue;
    if (!changed) out.reserve(message.size() + subject.size() + 16);
    changed = true;
    // The field runs from its line's start to the end of its last line.
    std::size_t end =
        static_cast<std::size_t>(field.value.data() - message.data()) + field.value.size();
    if (end < message.size() && message[end] == '\r') ++end;
    if (end < message.size() && message[end] == '\n') ++end;
    out.append(message.substr(kept_from, field.offset - kept_from));
    kept_from = end;
    if (is_subject && !replaced) {
      out += "Subject: " + mime::encode_unstructured(subject) + "\r\n";
      replaced = true;
    }
  }
  if (!replaced) {
    // No Subject field: one at the top.
    text = "Subject: " + mime::encode_unstructured(subject) + "\r\n" + out +
           std::string(message.substr(kept_from));
    return;
  }
  if (!changed) return;
  out.append(message.substr(kept_from));
  text = std::move(out);
}

SpamTest spam_test(const RspamdVerdict& verdict) {
  SpamTest test;
  if (verdict.required_score > 0) {
    const double ratio = std::clamp(verdict.score / verdict.required_score, 0.0, 1.0);
    test.percent = static_cast<int>(std::lround(ratio * 100));
  } else {
    test.percent = verdict.score > 0 ? 100 : 0;
  }
  if (verdict.action == RspamdAction::Reject) test.percent = 100;
  // RFC 5235 section 3.2: 1 is "tested, not spam", 10 "definitely spam".
  test.score = 1 + (test.percent * 9 + 50) / 100;
  return test;
}

}  // namespace rampart::filter
