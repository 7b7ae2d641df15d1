// IMAP mailbox names on the wire: modified UTF-7 (RFC 3501 §5.1.3) for IMAP4rev1
// clients, UTF-8 for IMAP4rev2 / UTF8=ACCEPT. The store keeps UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rampart::imap {

// UTF-8 to modified UTF-7. Input must be valid UTF-8 (the store guarantees it).
std::string encode_mutf7(std::string_view utf8);

// Modified UTF-7 to UTF-8; nullopt for anything RFC 3501 forbids: a bare '&' run that
// does not close, bad base64, non-zero padding bits, an encoded printable ASCII
// character, an empty "&-" other than "&" itself, two adjacent encoded runs, unpaired
// surrogates, or raw bytes outside 0x20-0x7e.
std::optional<std::string> decode_mutf7(std::string_view mutf7);

}  // namespace rampart::imap
