// Numbers as a compact set, "1:3,5,9:10": IMAP's sequence-set syntax (RFC 9051), in
// IMAP responses (VANISHED, COPYUID, ESEARCH ALL) and in the audit trail's records of
// which messages IMAP and POP3 touched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rampart {

// Sorted, duplicates dropped, runs joined; empty for none.
std::string format_number_set(std::vector<std::uint32_t> numbers);

}  // namespace rampart
