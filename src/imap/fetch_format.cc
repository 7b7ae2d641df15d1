#include "imap/fetch_format.h"

#include <algorithm>
#include <cctype>

#include "base/ascii.h"

namespace rampart::imap {
namespace {

constexpr std::size_t kMaxQuotedBytes = 1024;

void append_addresses(std::string& out, const std::vector<mime::Address>& addresses,
                      Encoding encoding) {
  if (addresses.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  for (const mime::Address& address : addresses) {
    // RFC 9051 §7.5.2: (name adl mailbox host); a group opens with (NIL NIL name NIL)
    // and closes with (NIL NIL NIL NIL).
    switch (address.kind) {
      case mime::Address::Kind::GroupStart:
        out += "(NIL NIL ";
        append_nstring(out, address.name_raw, encoding);
        out += " NIL)";
        break;
      case mime::Address::Kind::GroupEnd:
        out += "(NIL NIL NIL NIL)";
        break;
      case mime::Address::Kind::Mailbox:
        out += '(';
        append_nstring(out, address.name_raw, encoding);
        out += ' ';
        append_nstring(out, address.route, encoding);  // adl: the obsolete source route
        out += ' ';
        append_string(out, address.local, encoding);  // "" for a missing part: NIL means a group
        out += ' ';
        append_string(out, address.domain, encoding);
        out += ')';
        break;
    }
  }
  out += ')';
}

// Parameter values are stored decoded; a non-ASCII value goes back out as RFC 2231
// (charset'language'percent-encoding) unless the client takes UTF-8.
void append_parameters(std::string& out, const std::vector<mime::Parameter>& parameters,
                       std::string_view implied_charset, Encoding encoding) {
  const bool has_charset =
      std::any_of(parameters.begin(), parameters.end(),
                  [](const mime::Parameter& p) { return p.name == "charset"; });
  if (parameters.empty() && implied_charset.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  bool first = true;
  auto pair = [&](std::string_view name, std::string_view value) {
    if (!first) out += ' ';
    first = false;
    append_string(out, uppercase(name), encoding);
    out += ' ';
    append_string(out, value, encoding);
  };
  if (!has_charset && !implied_charset.empty()) pair("charset", implied_charset);
  for (const mime::Parameter& parameter : parameters) {
    if (encoding.utf8 || is_ascii(parameter.value)) {
      pair(parameter.name, parameter.value);
      continue;
    }
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string encoded = "utf-8''";
    for (unsigned char c : parameter.value) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        encoded += static_cast<char>(c);
      } else {
        encoded += '%';
        encoded += kHex[c >> 4];
        encoded += kHex[c & 15];
      }
    }
    pair(parameter.name + "*", encoded);
  }
  out += ')';
}

void append_disposition_and_more(std::string& out, const mime::Part& part, Encoding encoding) {
  out += ' ';
  if (part.disposition.empty()) {
    out += "NIL";
  } else {
    out += '(';
    append_string(out, uppercase(part.disposition), encoding);
    out += ' ';
    append_parameters(out, part.disposition_parameters, {}, encoding);
    out += ')';
  }
  out += ' ';
  if (part.language.empty()) {
    out += "NIL";
  } else if (part.language.size() == 1) {
    append_string(out, part.language[0], encoding);
  } else {
    out += '(';
    for (std::size_t i = 0; i < part.language.size(); ++i) {
      if (i) out += ' ';
      append_string(out, part.language[i], encoding);
    }
    out += ')';
  }
  out += ' ';
  append_nstring(out, part.location, encoding);
}

void append_body(std::string& out, const mime::Part& part, bool extended, Encoding encoding) {
  out += '(';
  if (part.is_multipart()) {
    for (const mime::Part& child : part.children) append_body(out, child, extended, encoding);
    out += ' ';
    append_string(out, uppercase(part.subtype), encoding);
    if (extended) {
      out += ' ';
      append_parameters(out, part.parameters, {}, encoding);
      append_disposition_and_more(out, part, encoding);
    }
    out += ')';
    return;
  }
  append_string(out, uppercase(part.type), encoding);
  out += ' ';
  append_string(out, uppercase(part.subtype), encoding);
  out += ' ';
  append_parameters(out, part.parameters, part.type == "text" ? std::string_view("us-ascii") : "",
                    encoding);
  out += ' ';
  append_nstring(out, part.id, encoding);
  out += ' ';
  append_nstring(out, part.description, encoding);
  out += ' ';
  append_string(out, uppercase(part.transfer_encoding), encoding);
  out += ' ';
  out += std::to_string(part.size());
  if (part.is_message() && !part.children.empty()) {
    out += ' ';
    out += format_envelope(*part.envelope, encoding);
    out += ' ';
    append_body(out, part.children.front(), extended, encoding);
    out += ' ';
    out += std::to_string(part.lines);
  } else if (part.type == "text") {
    out += ' ';
    out += std::to_string(part.lines);
  }
  if (extended) {
    out += ' ';
    append_nstring(out, part.md5, encoding);
    append_disposition_and_more(out, part, encoding);
  }
  out += ')';
}

}  // namespace

void append_string(std::string& out, std::string_view value, Encoding encoding) {
  const bool quotable =
      value.size() <= kMaxQuotedBytes && std::none_of(value.begin(), value.end(), [&](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte == 0 || byte == '\r' || byte == '\n' || (byte >= 0x80 && !encoding.utf8);
      });
  if (!quotable) {
    out += '{';
    out += std::to_string(value.size());
    out += "}\r\n";
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_nstring(std::string& out, std::string_view value, Encoding encoding) {
  if (value.empty()) {
    out += "NIL";
  } else {
    append_string(out, value, encoding);
  }
}

std::string format_envelope(const mime::Envelope& envelope, Encoding encoding) {
  std::string out = "(";
  append_nstring(out, envelope.date, encoding);
  out += ' ';
  append_nstring(out, envelope.subject_raw, encoding);
  // RFC 9051 §7.5.2: Sender and Reply-To default to From when absent.
  const auto& reply_to = envelope.reply_to.empty() ? envelope.from : envelope.reply_to;
  const auto& sender = envelope.sender.empty() ? envelope.from : envelope.sender;
  for (const auto* list :
       {&envelope.from, &sender, &reply_to, &envelope.to, &envelope.cc, &envelope.bcc}) {
    out += ' ';
    append_addresses(out, *list, encoding);
  }
  out += ' ';
  append_nstring(out, envelope.in_reply_to, encoding);
  out += ' ';
  append_nstring(out, envelope.message_id, encoding);
  out += ')';
  return out;
}

std::string format_body_structure(const mime::Part& part, bool extended, Encoding encoding) {
  std::string out;
  append_body(out, part, extended, encoding);
  return out;
}

}  // namespace rampart::imap
