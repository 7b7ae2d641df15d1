// The MIME tree: header sections, Content-* fields, multipart splitting (RFC 2046
// §5.1) and embedded messages, every part as offsets into the raw bytes.
#include <algorithm>
#include <cstring>

#include "mime/header.h"
#include "mime/message.h"
#include "mime/parse_internal.h"

namespace rampart::mime {
namespace {

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c <= 32 || c >= 127 ||
        std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string_view find_parameter(const std::vector<Parameter>& parameters, std::string_view name) {
  for (const Parameter& parameter : parameters) {
    if (parameter.name == name) return parameter.value;
  }
  return {};
}

class Parser {
 public:
  Parser(std::string_view raw, const Limits& limits, Message& message)
      : raw_(raw), limits_(limits), message_(message) {
    limits_.max_depth = std::clamp(limits_.max_depth, 0, kMaxDepthCap);
    limits_.max_parts = std::max<std::size_t>(limits_.max_parts, 1);
  }

  void parse() {
    message_.size = raw_.size();
    parse_entity(message_.root, 0, raw_.size(), 0, false, &message_.envelope);
  }

 private:
  Defects defects_at(std::size_t offset) { return Defects(&message_.defects, offset); }

  // Parses the entity in [begin, end) into `part`; `envelope` is set for a message's root.
  void parse_entity(Part& part, std::size_t begin, std::size_t end, int depth, bool in_digest,
                    Envelope* envelope) {
    ++parts_;
    const HeaderScan scan =
        scan_header(raw_, begin, end, limits_, fields_, defects_at(begin), begin == 0);
    part.header_begin = begin;
    part.header_end = scan.header_end;
    part.body_begin = scan.body_begin;
    part.body_end = end;
    read_content_fields(part, in_digest);
    if (envelope != nullptr) read_envelope(*envelope);

    const bool multipart = part.type == "multipart";
    const bool message =
        part.type == "message" && (part.subtype == "rfc822" || part.subtype == "global");
    if (multipart || message) {
      const std::string& cte = part.transfer_encoding;
      if (depth >= limits_.max_depth) {
        become_leaf(part, DefectKind::DepthLimit);
      } else if (message && cte != "7bit" && cte != "8bit" && cte != "binary") {
        // The embedded message is not in the raw bytes as such: no offsets to give.
        become_leaf(part, DefectKind::EncodedContainer);
      } else if (parts_ >= limits_.max_parts) {
        become_leaf(part, DefectKind::PartLimit);
      } else if (message) {
        Envelope embedded;
        part.children.emplace_back();
        parse_entity(part.children.back(), part.body_begin, part.body_end, depth + 1, false,
                     &embedded);
        part.envelope = std::move(embedded);
      } else {
        split_multipart(part, depth);
      }
    }
    count_lines(part);
  }

  void read_content_fields(Part& part, bool in_digest) {
    const HeaderField* content_type = nullptr;
    const HeaderField* encoding = nullptr;
    const HeaderField* id = nullptr;
    const HeaderField* description = nullptr;
    const HeaderField* disposition = nullptr;
    const HeaderField* language = nullptr;
    const HeaderField* location = nullptr;
    const HeaderField* md5 = nullptr;
    for (const HeaderField& field : fields_) {
      const std::string_view name = field.name;
      if (name.size() < 8 || !iequals(name.substr(0, 8), "content-")) continue;
      const std::string_view rest = name.substr(8);
      // The first of each counts, as in most clients.
      auto take = [&](const HeaderField*& slot, std::string_view want) {
        if (slot == nullptr && iequals(rest, want)) slot = &field;
      };
      take(content_type, "type");
      take(encoding, "transfer-encoding");
      take(id, "id");
      take(description, "description");
      take(disposition, "disposition");
      take(language, "language");
      take(location, "location");
      take(md5, "md5");
    }

    // RFC 2046 §5.1.5: in a multipart/digest the default is message/rfc822.
    part.type = in_digest ? "message" : "text";
    part.subtype = in_digest ? "rfc822" : "plain";
    if (content_type != nullptr) {
      const Defects defects = defects_at(content_type->offset);
      ContentValue value = parse_content_value(content_type->value, charsets_, defects);
      const std::size_t slash = value.value.find('/');
      const std::string_view type = std::string_view(value.value).substr(0, slash);
      const std::string_view subtype = slash == std::string::npos
                                           ? std::string_view()
                                           : std::string_view(value.value).substr(slash + 1);
      if (is_token(type) && is_token(subtype)) {
        part.type = std::string(type);
        part.subtype = std::string(subtype);
        part.parameters = std::move(value.parameters);
      } else {
        // RFC 2045 §5.2: an unusable Content-Type means text/plain; charset=us-ascii.
        defects.add(DefectKind::InvalidContentType);
        part.type = "text";
        part.subtype = "plain";
      }
    }
    part.charset = lowercase(trim(find_parameter(part.parameters, "charset")));
    if (part.charset.empty() && part.type == "text") part.charset = "us-ascii";

    if (encoding != nullptr) {
      part.transfer_encoding =
          parse_content_value(encoding->value, charsets_, defects_at(encoding->offset)).value;
    }
    if (part.transfer_encoding.empty()) part.transfer_encoding = "7bit";
    if (id != nullptr) part.id = std::string(trim(unfold(id->value)));
    if (description != nullptr) {
      part.description =
          decode_text(description->value, charsets_, defects_at(description->offset));
    }
    if (disposition != nullptr) {
      ContentValue value =
          parse_content_value(disposition->value, charsets_, defects_at(disposition->offset));
      part.disposition = std::move(value.value);
      part.disposition_parameters = std::move(value.parameters);
    }
    if (language != nullptr) {
      std::string tag;
      for (char c : unfold(language->value)) {
        if (c == ',' || is_space(c)) {
          if (!tag.empty()) part.language.push_back(std::move(tag));
          tag.clear();
        } else {
          tag.push_back(c);
        }
      }
      if (!tag.empty()) part.language.push_back(std::move(tag));
    }
    if (location != nullptr) {
      // RFC 2557 §4.4.2: a folded URI loses its whitespace.
      for (char c : location->value) {
        if (!is_space(c)) part.location.push_back(c);
      }
    }
    if (md5 != nullptr) part.md5 = std::string(trim(unfold(md5->value)));
  }

  void read_envelope(Envelope& envelope) {
    enum Slot {
      kDate,
      kSubject,
      kFrom,
      kSender,
      kReplyTo,
      kTo,
      kCc,
      kBcc,
      kInReplyTo,
      kMessageId,
      kReferences,
      kSlots
    };
    static constexpr std::string_view kNames[kSlots] = {
        "date", "subject", "from",        "sender",     "reply-to",  "to",
        "cc",   "bcc",     "in-reply-to", "message-id", "references"};
    const HeaderField* found[kSlots] = {};
    for (const HeaderField& field : fields_) {
      for (int slot = 0; slot < kSlots; ++slot) {
        if (found[slot] == nullptr && iequals(field.name, kNames[slot])) found[slot] = &field;
      }
    }
    auto raw_text = [&](Slot slot) {
      return found[slot] ? std::string(trim(unfold(found[slot]->value))) : std::string();
    };
    auto addresses = [&](Slot slot) {
      if (found[slot] == nullptr) return std::vector<Address>();
      return parse_address_list(found[slot]->value, charsets_, defects_at(found[slot]->offset));
    };
    envelope.date = raw_text(kDate);
    if (auto date = parse_date(envelope.date)) {
      envelope.date_unix = date->unix_seconds;
      envelope.date_zone_minutes = date->zone_minutes;
    }
    envelope.subject_raw = raw_text(kSubject);
    if (found[kSubject] != nullptr) {
      envelope.subject =
          decode_text(found[kSubject]->value, charsets_, defects_at(found[kSubject]->offset));
    }
    envelope.from = addresses(kFrom);
    envelope.sender = addresses(kSender);
    envelope.reply_to = addresses(kReplyTo);
    envelope.to = addresses(kTo);
    envelope.cc = addresses(kCc);
    envelope.bcc = addresses(kBcc);
    envelope.in_reply_to = raw_text(kInReplyTo);
    envelope.message_id = raw_text(kMessageId);
    envelope.references = raw_text(kReferences);
  }

  void split_multipart(Part& part, int depth) {
    const std::string_view boundary = find_parameter(part.parameters, "boundary");
    const bool digest = part.subtype == "digest";
    const std::size_t body_begin = part.body_begin;
    const std::size_t end = part.body_end;
    ranges_.clear();
    bool found = false;
    bool closed = false;
    if (boundary.empty()) {
      defects_at(part.header_begin).add(DefectKind::MissingBoundary);
    } else {
      std::string needle = "--";
      needle += boundary;
      std::size_t child_begin = 0;
      std::size_t pos = body_begin;
      while (pos < end) {
        const void* hit = memmem(raw_.data() + pos, end - pos, needle.data(), needle.size());
        if (hit == nullptr) break;
        const std::size_t p = static_cast<const char*>(hit) - raw_.data();
        pos = p + 1;
        if (p != body_begin && raw_[p - 1] != '\n') continue;  // not at a line start
        // RFC 2046 §5.1.1: "--" boundary ["--"] *LWSP CRLF; a longer boundary that merely
        // starts with this one is not a delimiter.
        std::size_t q = p + needle.size();
        const bool close = end - q >= 2 && raw_[q] == '-' && raw_[q + 1] == '-';
        if (close) q += 2;
        while (q < end && is_wsp(raw_[q])) ++q;
        std::size_t next;
        if (q == end) {
          next = end;
        } else if (raw_[q] == '\n') {
          next = q + 1;
        } else if (raw_[q] == '\r' && (q + 1 == end || raw_[q + 1] == '\n')) {
          next = std::min(q + 2, end);
        } else {
          continue;
        }
        // The line end before a delimiter belongs to the delimiter.
        std::size_t before = p;
        if (p > body_begin) {
          before = p - 1;
          if (before > body_begin && raw_[before - 1] == '\r') --before;
        }
        if (found) ranges_.push_back({child_begin, std::max(before, child_begin)});
        found = true;
        if (close) {
          closed = true;
          break;
        }
        child_begin = next;
        pos = next;
      }
      if (!found) {
        defects_at(body_begin).add(DefectKind::NoBoundaryFound);
      } else if (!closed) {
        defects_at(end).add(DefectKind::MissingCloseDelimiter);
        ranges_.push_back({child_begin, end});
      }
    }
    if (ranges_.empty()) {
      // No parts to split off (no boundary, or it never occurs, or only a close
      // delimiter): the whole body is one text/plain part without a header.
      if (found) {
        ranges_.push_back({body_begin, body_begin});
      } else {
        ++parts_;
        Part& child = part.children.emplace_back();
        child.header_begin = child.header_end = child.body_begin = body_begin;
        child.body_end = end;
        child.charset = "us-ascii";
        count_lines(child);
        return;
      }
    }
    // Recursion reuses ranges_: take this level's copy first.
    const std::vector<std::pair<std::size_t, std::size_t>> ranges = std::move(ranges_);
    ranges_ = {};
    part.children.reserve(ranges.size());
    for (const auto& [child_begin, child_end] : ranges) {
      if (parts_ >= limits_.max_parts) {
        defects_at(child_begin).add(DefectKind::PartLimit);
        // The rest of the body stays in the last part.
        Part& last = part.children.back();
        last.body_end = end;
        count_lines(last);
        break;
      }
      Part& child = part.children.emplace_back();
      parse_entity(child, child_begin, child_end, depth + 1, digest, nullptr);
    }
  }

  void become_leaf(Part& part, DefectKind why) {
    defects_at(part.header_begin).add(why);
    part.type = "application";
    part.subtype = "octet-stream";
    part.charset.clear();
    part.children.clear();
    part.envelope.reset();
  }

  void count_lines(Part& part) {
    const char* body = raw_.data() + part.body_begin;
    const std::size_t size = part.body_end - part.body_begin;
    part.lines = static_cast<std::size_t>(std::count(body, body + size, '\n'));
    if (size > 0 && body[size - 1] != '\n') ++part.lines;
  }

  std::string_view raw_;
  Limits limits_;
  Message& message_;
  CharsetConverter charsets_;
  std::vector<HeaderField> fields_;  // the current header section's, reused
  std::vector<std::pair<std::size_t, std::size_t>> ranges_;
  std::size_t parts_ = 0;
};

}  // namespace

std::string_view Part::filename() const {
  std::string_view name = find_parameter(disposition_parameters, "filename");
  return name.empty() ? find_parameter(parameters, "name") : name;
}

std::string_view Part::parameter(std::string_view name) const {
  return find_parameter(parameters, name);
}

Message parse(std::string_view raw, const Limits& limits) {
  Message message;
  Parser(raw, limits, message).parse();
  return message;
}

}  // namespace rampart::mime
