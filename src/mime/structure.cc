// The stored form of a Message:
//   "RMS" version(2)  message
//   message  = varint(size) envelope varint(#defects) *(u8 kind, varint offset) part
//   part     = varint(header_begin) varint(header_end - header_begin)
//              varint(body_begin - header_end) varint(body_end - body_begin)
//              str(type) str(subtype) params str(charset) str(transfer_encoding) str(id)
//              str(description) str(disposition) params varint(#language) *str
//              str(location) str(md5) varint(lines) u8(has_envelope) [envelope]
//              varint(#children) *part
//   envelope = str(date) u8(has_unix) [zigzag(date_unix)] zigzag(zone) str(subject_raw)
//              str(subject) 6*addresses str(in_reply_to) str(message_id) str(references)
//   addresses = varint(#) *(u8(kind) str(name_raw) str(name) str(local) str(domain)
//               str(route))
//   str = varint(length) bytes; varints are LEB128 and minimal.
// The decoder accepts exactly what the encoder writes, so decode∘encode is the identity;
// it also reads version 1, the same without an address's route, written before 2026-12.
#include <cstdint>
#include <limits>

#include "mime/message.h"

namespace rampart::mime {
namespace {

constexpr std::string_view kMagic = "RMS";
constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kVersionWithoutRoutes = 1;
constexpr std::uint8_t kLastDefectKind = static_cast<std::uint8_t>(DefectKind::InvalidAddress);

class Writer {
 public:
  void varint(std::uint64_t value) {
    while (value >= 0x80) {
      out_.push_back(static_cast<char>((value & 0x7F) | 0x80));
      value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
  }
  void signed_varint(std::int64_t value) {
    varint((static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63));
  }
  void byte(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void string(std::string_view text) {
    varint(text.size());
    out_.append(text);
  }
  void parameters(const std::vector<Parameter>& parameters) {
    varint(parameters.size());
    for (const Parameter& parameter : parameters) {
      string(parameter.name);
      string(parameter.value);
    }
  }
  void addresses(const std::vector<Address>& addresses) {
    varint(addresses.size());
    for (const Address& address : addresses) {
      byte(static_cast<std::uint8_t>(address.kind));
      string(address.name_raw);
      string(address.name);
      string(address.local);
      string(address.domain);
      string(address.route);
    }
  }
  void envelope(const Envelope& envelope) {
    string(envelope.date);
    byte(envelope.date_unix.has_value());
    if (envelope.date_unix) signed_varint(*envelope.date_unix);
    signed_varint(envelope.date_zone_minutes);
    string(envelope.subject_raw);
    string(envelope.subject);
    for (const auto* list : {&envelope.from, &envelope.sender, &envelope.reply_to, &envelope.to,
                             &envelope.cc, &envelope.bcc}) {
      addresses(*list);
    }
    string(envelope.in_reply_to);
    string(envelope.message_id);
    string(envelope.references);
  }
  void part(const Part& part) {
    varint(part.header_begin);
    varint(part.header_end - part.header_begin);
    varint(part.body_begin - part.header_end);
    varint(part.body_end - part.body_begin);
    string(part.type);
    string(part.subtype);
    parameters(part.parameters);
    string(part.charset);
    string(part.transfer_encoding);
    string(part.id);
    string(part.description);
    string(part.disposition);
    parameters(part.disposition_parameters);
    varint(part.language.size());
    for (const std::string& tag : part.language) string(tag);
    string(part.location);
    string(part.md5);
    varint(part.lines);
    byte(part.envelope.has_value());
    if (part.envelope) envelope(*part.envelope);
    varint(part.children.size());
    for (const Part& child : part.children) this->part(child);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, std::uint8_t version) : in_(in), version_(version) {}

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  void fail() { ok_ = false; }

  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || pos_ >= in_.size()) break;
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) break;  // beyond 64 bits
      value |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) break;  // not minimal
        return value;
      }
    }
    ok_ = false;
    return 0;
  }
  std::int64_t signed_varint() {
    const std::uint64_t value = varint();
    return static_cast<std::int64_t>((value >> 1) ^ (~(value & 1) + 1));
  }
  std::uint8_t byte(std::uint8_t max) {
    if (!ok_ || pos_ >= in_.size() || static_cast<std::uint8_t>(in_[pos_]) > max) {
      ok_ = false;
      return 0;
    }
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  bool flag() { return byte(1) == 1; }
  std::string string() {
    const std::uint64_t length = varint();
    if (!ok_ || length > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string text(in_.substr(pos_, length));
    pos_ += length;
    return text;
  }
  // A count of elements of at least one byte each: no more than the bytes left.
  std::size_t count() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return 0;
    }
    return static_cast<std::size_t>(n);
  }
  std::vector<Parameter> parameters() {
    std::vector<Parameter> parameters(count());
    for (Parameter& parameter : parameters) {
      parameter.name = string();
      parameter.value = string();
      if (!ok_) return {};
    }
    return parameters;
  }
  std::vector<Address> addresses() {
    std::vector<Address> addresses(count());
    for (Address& address : addresses) {
      address.kind = static_cast<Address::Kind>(byte(2));
      address.name_raw = string();
      address.name = string();
      address.local = string();
      address.domain = string();
      if (version_ != kVersionWithoutRoutes) address.route = string();
      if (!ok_) return {};
    }
    return addresses;
  }
  Envelope envelope() {
    Envelope envelope;
    envelope.date = string();
    if (flag()) envelope.date_unix = signed_varint();
    const std::int64_t zone = signed_varint();
    if (zone < std::numeric_limits<std::int32_t>::min() ||
        zone > std::numeric_limits<std::int32_t>::max()) {
      ok_ = false;
    }
    envelope.date_zone_minutes = static_cast<std::int32_t>(zone);
    envelope.subject_raw = string();
    envelope.subject = string();
    for (auto* list : {&envelope.from, &envelope.sender, &envelope.reply_to, &envelope.to,
                       &envelope.cc, &envelope.bcc}) {
      *list = addresses();
    }
    envelope.in_reply_to = string();
    envelope.message_id = string();
    envelope.references = string();
    return envelope;
  }
  // Offsets must lie within the message and in order.
  void part(Part& part, std::size_t size, int depth) {
    if (depth > kMaxDepthCap + 1) ok_ = false;
    auto offset = [&](std::uint64_t base) -> std::size_t {
      const std::uint64_t delta = varint();
      if (!ok_ || delta > size || base > size - delta) {
        ok_ = false;
        return 0;
      }
      return static_cast<std::size_t>(base + delta);
    };
    part.header_begin = offset(0);
    part.header_end = offset(part.header_begin);
    part.body_begin = offset(part.header_end);
    part.body_end = offset(part.body_begin);
    part.type = string();
    part.subtype = string();
    part.parameters = parameters();
    part.charset = string();
    part.transfer_encoding = string();
    part.id = string();
    part.description = string();
    part.disposition = string();
    part.disposition_parameters = parameters();
    part.language.resize(count());
    for (std::string& tag : part.language) tag = string();
    part.location = string();
    part.md5 = string();
    part.lines = static_cast<std::size_t>(varint());
    if (flag()) part.envelope = envelope();
    if (!ok_) return;
    part.children.resize(count());
    for (Part& child : part.children) {
      this->part(child, size, depth + 1);
      if (!ok_) return;
    }
  }

 private:
  std::string_view in_;
  std::uint8_t version_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

std::string encode_structure(const Message& message) {
  Writer writer;
  for (char c : kMagic) writer.byte(static_cast<std::uint8_t>(c));
  writer.byte(kVersion);
  writer.varint(message.size);
  writer.envelope(message.envelope);
  writer.varint(message.defects.size());
  for (const Defect& defect : message.defects) {
    writer.byte(static_cast<std::uint8_t>(defect.kind));
    writer.varint(defect.offset);
  }
  writer.part(message.root);
  return writer.take();
}

Result<Message> decode_structure(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 1 || bytes.substr(0, kMagic.size()) != kMagic) {
    return fail(Errc::BadInput, "not a MIME structure");
  }
  const auto version = static_cast<std::uint8_t>(bytes[kMagic.size()]);
  if (version != kVersion && version != kVersionWithoutRoutes) {
    return fail(Errc::BadInput, "unknown MIME structure version");
  }
  Reader reader(bytes.substr(kMagic.size() + 1), version);
  Message message;
  const std::uint64_t size = reader.varint();
  message.size = static_cast<std::size_t>(size);
  if (size != message.size) reader.fail();
  message.envelope = reader.envelope();
  const std::size_t defects = reader.count();
  if (defects > kMaxDefects) reader.fail();
  for (std::size_t i = 0; i < defects && reader.ok(); ++i) {
    const auto kind = static_cast<DefectKind>(reader.byte(kLastDefectKind));
    const std::uint64_t offset = reader.varint();
    if (offset > size) reader.fail();
    message.defects.push_back({kind, static_cast<std::size_t>(offset)});
  }
  if (reader.ok()) reader.part(message.root, message.size, 0);
  if (!reader.ok() || !reader.at_end()) return fail(Errc::BadInput, "corrupt MIME structure");
  return message;
}

}  // namespace rampart::mime
