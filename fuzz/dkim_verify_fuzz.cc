// DKIM-Signature fields, ARC-Message-Signature and ARC-Seal fields and key records take
// any bytes: the tags found lie inside the input, b='s place lies inside its field, a
// well-formed signature names a domain and a selector (and an ARC one an instance from 1
// to 50, a seal its cv=), and signatures() stays within its limit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dkim/signature.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rampart::dkim;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // As a message.
  const auto refs = signatures(bytes);
  if (refs.size() > kMaxSignatures) __builtin_trap();
  for (std::size_t n = 0; n < refs.size(); ++n) {
    if (refs[n].index != n || refs[n].domain.empty() != refs[n].selector.empty()) {
      __builtin_trap();
    }
  }
  const SignedHeader header = read_header(bytes);
  if (header.split.fields.size() > kMaxHeaderFields) __builtin_trap();
  for (std::size_t index : header.signature_fields) {
    const std::string_view field = header.split.fields[index];
    const Signature sig = parse_signature(field);
    if (sig.b_begin > sig.b_end || sig.b_end > field.size()) __builtin_trap();
    if (sig.error.empty() && (sig.domain.empty() || sig.selector.empty() || sig.signature.empty() ||
                              sig.identity.find('@') == std::string::npos)) {
      __builtin_trap();
    }
  }

  // As ARC fields (dkim/arc.h reads them with parse_signature).
  for (const SignatureKind kind : {SignatureKind::ArcMessage, SignatureKind::ArcSeal}) {
    const Signature sig = parse_signature(bytes, kind);
    if (sig.b_begin > sig.b_end || sig.b_end > bytes.size()) __builtin_trap();
    if (sig.error.empty() &&
        (sig.domain.empty() || sig.selector.empty() || sig.instance < 1 || sig.instance > 50 ||
         (kind == SignatureKind::ArcSeal) == sig.chain_validation.empty())) {
      __builtin_trap();
    }
  }

  // As a tag-list and as a key record.
  if (auto tags = parse_tag_list(bytes)) {
    if (tags->size() > kMaxTags) __builtin_trap();
    for (const Tag& tag : *tags) {
      if (tag.name.empty() || !inside(tag.name, bytes) || !inside(tag.raw, bytes) ||
          !inside(tag.value, tag.raw)) {
        __builtin_trap();
      }
    }
  }
  (void)parse_key_record(bytes);
  return 0;
}
