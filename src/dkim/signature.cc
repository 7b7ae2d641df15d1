#include "dkim/signature.h"

#include <algorithm>

#include "base/ascii.h"
#include "base/base64.h"

namespace rampart::dkim {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Section 3.2: VALCHAR = %x21-3A / %x3C-7E, printable ASCII but ";".
bool is_valchar(char c) { return c >= 0x21 && c <= 0x7e && c != ';'; }

// Folding white space (RFC 5322 FWS) at `pos`: spaces, tabs, and a CRLF when a space or
// tab follows it within `end`. Returns the position after it.
std::size_t skip_fws(std::string_view text, std::size_t pos, std::size_t end) {
  while (pos < end) {
    if (is_wsp(text[pos])) {
      ++pos;
    } else if (text[pos] == '\r' && pos + 2 < end && text[pos + 1] == '\n' &&
               is_wsp(text[pos + 2])) {
      pos += 3;
    } else {
      break;
    }
  }
  return pos;
}

std::string_view trim_fws(std::string_view text) {
  auto space = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// The items of a colon-separated list (h=, q=, and the key's h=, s=, t=), white space
// around each removed.
std::vector<std::string_view> colon_list(std::string_view value) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t colon = value.find(':');
    out.push_back(trim_fws(value.substr(0, colon)));
    if (colon == std::string_view::npos) return out;
    value.remove_prefix(colon + 1);
  }
}

bool contains(const std::vector<std::string_view>& items, std::string_view wanted) {
  return std::find(items.begin(), items.end(), wanted) != items.end();
}

// base64 with the folding white space section 3.5 allows inside it (b=, bh=, p=).
std::string without_space(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (!is_wsp(c) && c != '\r' && c != '\n') out += c;
  }
  return out;
}

// 1*max_digits DIGIT; larger than UINT64_MAX gives UINT64_MAX.
std::optional<std::uint64_t> decimal(std::string_view value, std::size_t max_digits) {
  if (value.empty() || value.size() > max_digits) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : value) {
    if (!is_digit(c)) return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    n = n > (UINT64_MAX - digit) / 10 ? UINT64_MAX : n * 10 + digit;
  }
  return n;
}

// Labels of letters, digits and hyphens (RFC 5321 sub-domain: no hyphen first or last),
// and underscores when `underscore`; at least `min_labels` of them, 253 bytes at most.
bool is_domain(std::string_view name, std::size_t min_labels, bool underscore) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t labels = 0;
  for (;;) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-' && !(underscore && c == '_')) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return labels >= min_labels;
}

// RFC 5322 ftext: printable ASCII but the colon.
bool is_field_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return c >= 33 && c <= 126 && c != ':'; });
}

// The domain of i= (after its last "@") lies in d=: the same, or a subdomain of it.
bool in_domain(std::string_view identity_domain, std::string_view domain) {
  if (iequals(identity_domain, domain)) return true;
  return identity_domain.size() > domain.size() &&
         identity_domain[identity_domain.size() - domain.size() - 1] == '.' &&
         iequals(identity_domain.substr(identity_domain.size() - domain.size()), domain);
}

const Tag* find_tag(const std::vector<Tag>& tags, std::string_view name) {
  for (const Tag& tag : tags) {
    if (tag.name == name) return &tag;
  }
  return nullptr;
}

std::optional<Canonicalization> canonicalization(std::string_view name) {
  if (name == "simple") return Canonicalization::Simple;
  if (name == "relaxed") return Canonicalization::Relaxed;
  return std::nullopt;
}

std::string check_times(Signature& sig, const std::vector<Tag>& tags);

// The tags that say who signed and how, taken first so that a field with an error still
// says them; then every other rule of section 3.5. Returns why the field is no valid
// signature, or nothing.
std::string check_signature(Signature& sig, const std::vector<Tag>& tags, std::string_view field,
                            SignatureKind kind) {
  const bool dkim = kind == SignatureKind::Dkim;
  const bool seal = kind == SignatureKind::ArcSeal;
  const Tag* a = find_tag(tags, "a");
  if (a) sig.algorithm_name = a->value;
  const Tag* d = find_tag(tags, "d");
  if (d && is_domain(d->value, 2, false)) sig.domain = d->value;
  const Tag* s = find_tag(tags, "s");
  if (s && is_domain(s->value, 1, true)) sig.selector = s->value;
  const Tag* b = find_tag(tags, "b");
  if (b) {
    sig.signature_text = without_space(b->value);
    sig.b_begin = static_cast<std::size_t>(b->raw.data() - field.data());
    sig.b_end = sig.b_begin + b->raw.size();
  }
  const Tag* i = find_tag(tags, "i");
  if (i && dkim) {
    sig.identity = i->value;
  } else if (!sig.domain.empty()) {
    sig.identity = "@" + std::string(sig.domain);
  }

  const Tag* v = find_tag(tags, "v");
  const Tag* bh = find_tag(tags, "bh");
  const Tag* h = find_tag(tags, "h");
  if (!dkim) {
    // RFC 8617 section 4.1: i= is the instance, 1 to 50.
    const auto instance = i ? decimal(i->value, 2) : std::nullopt;
    if (!instance || *instance < 1 || *instance > 50) return "malformed ARC instance (i=)";
    sig.instance = static_cast<std::uint32_t>(*instance);
  }
  if (seal) {
    const Tag* cv = find_tag(tags, "cv");
    if (!a || !b || !d || !s || !cv) return "ARC-Seal missing required tag";
    if (h) return "ARC-Seal with h=";
    if (cv->value != "none" && cv->value != "pass" && cv->value != "fail") return "malformed cv=";
    sig.chain_validation = cv->value;
    sig.header_canonicalization = Canonicalization::Relaxed;
  } else if (!a || !b || !bh || !d || !h || !s || (dkim && !v)) {
    return "signature missing required tag";
  }
  if (dkim && v->value != "1") return "incompatible version";
  if (a->value == "rsa-sha256") {
    sig.algorithm = SigningAlgorithm::RsaSha256;
  } else if (a->value == "ed25519-sha256") {
    sig.algorithm = SigningAlgorithm::Ed25519Sha256;
  } else if (a->value == "rsa-sha1") {
    sig.algorithm = SigningAlgorithm::RsaSha1;
  } else {
    return "unknown algorithm (a=)";
  }
  if (sig.domain.empty()) return "malformed d=";
  if (sig.selector.empty()) return "malformed s=";
  // The key's name must fit in DNS.
  if (sig.selector.size() + sizeof("._domainkey.") - 1 + sig.domain.size() > 253) {
    return "selector and domain too long";
  }
  auto signature = base64_decode(sig.signature_text);
  if (!signature || signature->empty()) return "malformed b=";
  sig.signature = std::move(*signature);
  if (seal) return check_times(sig, tags);
  auto body_hash = base64_decode(without_space(bh->value));
  if (!body_hash || body_hash->empty()) return "malformed bh=";
  sig.body_hash = std::move(*body_hash);

  // Section 5.4: From must be signed.
  bool from = false;
  for (std::string_view name : colon_list(h->value)) {
    if (!is_field_name(name)) return "malformed h=";
    if (sig.signed_fields.size() == kMaxSignedFields) return "too many fields in h=";
    from = from || iequals(name, "from");
    sig.signed_fields.push_back(name);
  }
  if (!from) return "From field not signed";

  if (i && dkim) {
    const std::size_t at = i->value.rfind('@');
    if (at == std::string_view::npos) return "malformed i=";
    const std::string_view identity_domain = i->value.substr(at + 1);
    if (!is_domain(identity_domain, 1, false)) return "malformed i=";
    if (!in_domain(identity_domain, sig.domain)) return "domain mismatch (i= not within d=)";
  }

  if (const Tag* c = find_tag(tags, "c")) {
    const std::size_t slash = c->value.find('/');
    const auto header = canonicalization(c->value.substr(0, slash));
    const auto body = slash == std::string_view::npos
                          ? std::optional(Canonicalization::Simple)
                          : canonicalization(c->value.substr(slash + 1));
    if (!header || !body) return "unknown canonicalization (c=)";
    sig.header_canonicalization = *header;
    sig.body_canonicalization = *body;
  }
  // Section 3.5: q= lists query methods; dns/txt is the one defined, others are ignored.
  if (const Tag* q = find_tag(tags, "q"); q && !contains(colon_list(q->value), "dns/txt")) {
    return "no known query method (q=)";
  }
  if (const Tag* l = find_tag(tags, "l")) {
    sig.body_length = decimal(l->value, 76);
    if (!sig.body_length) return "malformed l=";
  }
  return check_times(sig, tags);
}

// t= and x= (section 3.5).
std::string check_times(Signature& sig, const std::vector<Tag>& tags) {
  if (const Tag* t = find_tag(tags, "t")) {
    const auto value = decimal(t->value, 12);
    if (!value) return "malformed t=";
    sig.timestamp = static_cast<std::int64_t>(*value);
  }
  if (const Tag* x = find_tag(tags, "x")) {
    const auto value = decimal(x->value, 12);
    if (!value) return "malformed x=";
    sig.expiry = static_cast<std::int64_t>(*value);
  }
  // Section 3.5: "the value of the x= tag MUST be greater than the value of the t= tag".
  if (sig.timestamp && sig.expiry && *sig.expiry <= *sig.timestamp) return "x= not after t=";
  return {};
}

}  // namespace

Result<std::vector<Tag>> parse_tag_list(std::string_view text, std::size_t max_tags) {
  std::vector<Tag> tags;
  std::size_t pos = 0;
  for (;;) {
    pos = skip_fws(text, pos, text.size());
    if (pos == text.size()) return tags;  // the end, or a ";" ending the list
    if (tags.size() == max_tags) return fail(Errc::TooBig, "too many tags");
    // tag-name = ALPHA *ALNUMPUNC
    const std::size_t name_begin = pos;
    if (!is_alpha(text[pos])) return fail(Errc::BadInput, "malformed tag-list");
    while (pos < text.size() && (is_alpha(text[pos]) || is_digit(text[pos]) || text[pos] == '_')) {
      ++pos;
    }
    const std::string_view name = text.substr(name_begin, pos - name_begin);
    pos = skip_fws(text, pos, text.size());
    if (pos == text.size() || text[pos] != '=') return fail(Errc::BadInput, "malformed tag-list");
    ++pos;
    const std::size_t end = std::min(text.find(';', pos), text.size());
    // tag-value = [ tval *( 1*(WSP / FWS) tval ) ], with FWS around it
    std::size_t value_begin = end, value_end = end;
    for (std::size_t at = pos; at < end;) {
      if (is_valchar(text[at])) {
        if (value_begin == end) value_begin = at;
        value_end = ++at;
        continue;
      }
      const std::size_t after = skip_fws(text, at, end);
      if (after == at) return fail(Errc::BadInput, "malformed tag-list");
      at = after;
    }
    if (value_begin == end) value_begin = value_end = pos;
    for (const Tag& tag : tags) {
      if (tag.name == name) return fail(Errc::BadInput, "tag given twice");
    }
    tags.push_back(
        {name, text.substr(value_begin, value_end - value_begin), text.substr(pos, end - pos)});
    pos = end == text.size() ? end : end + 1;
  }
}

Signature parse_signature(std::string_view field, SignatureKind kind) {
  Signature sig;
  const std::size_t colon = field.find(':');
  if (colon == std::string_view::npos) {
    sig.error = "malformed signature";
    return sig;
  }
  auto tags = parse_tag_list(field.substr(colon + 1));
  if (!tags) {
    sig.error = "malformed signature: " + tags.error().detail;
    return sig;
  }
  sig.error = check_signature(sig, *tags, field, kind);
  return sig;
}

Result<KeyRecord> parse_key_record(std::string_view record) {
  if (record.size() > kMaxKeyRecordBytes) return fail(Errc::TooBig, "key record too large");
  auto tags = parse_tag_list(record);
  if (!tags) return fail(Errc::BadInput, "key syntax error: " + tags.error().detail);
  KeyRecord key;
  // Section 3.6.1: v= must come first, and records with another version are discarded.
  for (std::size_t n = 0; n < tags->size(); ++n) {
    if ((*tags)[n].name == "v" && (n > 0 || (*tags)[n].value != "DKIM1")) {
      return fail(Errc::BadInput, "key syntax error: v= not DKIM1 first");
    }
  }
  if (const Tag* h = find_tag(*tags, "h"))
    key.allows_sha256 = contains(colon_list(h->value), "sha256");
  if (const Tag* k = find_tag(*tags, "k")) {
    if (k->value == "rsa") {
      key.type = KeyType::Rsa;
    } else if (k->value == "ed25519") {
      key.type = KeyType::Ed25519;
    } else {
      return fail(Errc::BadInput, "unknown key type (k=)");
    }
  }
  if (const Tag* s = find_tag(*tags, "s")) {
    const auto services = colon_list(s->value);
    key.allows_email = contains(services, "*") || contains(services, "email");
  }
  if (const Tag* t = find_tag(*tags, "t")) {
    const auto flags = colon_list(t->value);  // unknown flags are ignored
    key.testing = contains(flags, "y");
    key.strict = contains(flags, "s");
  }
  const Tag* p = find_tag(*tags, "p");
  if (!p) return fail(Errc::BadInput, "key syntax error: no p=");
  const std::string text = without_space(p->value);
  if (!text.empty()) {
    auto decoded = base64_decode(text);
    if (!decoded || decoded->empty()) return fail(Errc::BadInput, "key syntax error: malformed p=");
    key.public_key = std::move(*decoded);
  }
  return key;
}

bool field_is(std::string_view field, std::string_view name) {
  const std::size_t colon = field.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view written = field.substr(0, colon);
  while (!written.empty() && is_wsp(written.back())) written.remove_suffix(1);
  return iequals(written, name);
}

SignedHeader read_header(std::string_view message) {
  SignedHeader header;
  header.split = split_message(message, kMaxHeaderFields);
  const auto& fields = header.split.fields;
  const std::size_t header_bytes =
      fields.empty()
          ? 0
          : static_cast<std::size_t>(fields.back().data() - message.data()) + fields.back().size();
  header.over_limit = header.split.over_limit || header_bytes > kMaxHeaderBytes;
  for (std::size_t n = 0; n < fields.size(); ++n) {
    if (field_is(fields[n], "DKIM-Signature")) header.signature_fields.push_back(n);
  }
  return header;
}

std::vector<SignatureRef> signatures(std::string_view message) {
  const SignedHeader header = read_header(message);
  std::vector<SignatureRef> refs;
  for (std::size_t index = 0; index < header.signature_fields.size() && index < kMaxSignatures;
       ++index) {
    SignatureRef ref{index, {}, {}};
    if (!header.over_limit) {
      const Signature sig = parse_signature(header.split.fields[header.signature_fields[index]]);
      // rsa-sha1 is refused without its key (RFC 8301), so it needs no lookup either.
      if (sig.error.empty() && sig.algorithm != SigningAlgorithm::RsaSha1) {
        ref.domain = sig.domain;
        ref.selector = sig.selector;
      }
    }
    refs.push_back(std::move(ref));
  }
  return refs;
}

std::size_t signature_count(std::string_view message) {
  return read_header(message).signature_fields.size();
}

}  // namespace rampart::dkim
