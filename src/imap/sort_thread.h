// SORT and THREAD (RFC 5256, with DISPLAYFROM/DISPLAYTO from RFC 5957): ordering and
// threading the messages a search selected, from their stored envelopes. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imap/command_parser.h"
#include "mime/message.h"

namespace rampart::imap {

struct SortItem {
  std::uint32_t number = 0;                  // what the response lists: sequence number or UID
  std::int64_t internal_date = 0;            // Unix seconds (ARRIVAL)
  std::uint64_t size = 0;                    // RFC822.SIZE
  const mime::Envelope* envelope = nullptr;  // never null
};

enum class SortKey { Arrival, Cc, Date, From, Size, Subject, To, DisplayFrom, DisplayTo };
struct SortCriterion {
  SortKey key = SortKey::Arrival;
  bool reverse = false;
};

// SORT's parenthesised criteria; nullopt when malformed (empty, an unknown key,
// REVERSE not followed by a key).
std::optional<std::vector<SortCriterion>> parse_sort_criteria(const Token& list);

// RFC 5256 §2.1: the subject without "Re:", "Fwd:", "[list]" tags and "(fwd)"
// trailers, whitespace collapsed. `is_reply` (if given) says whether any of those
// reply or forward markers was removed.
std::string base_subject(std::string_view subject, bool* is_reply = nullptr);

// The numbers in sorted order; ties keep `number` order (RFC 5256 §3).
std::vector<std::uint32_t> sort_items(std::vector<SortItem> items,
                                      const std::vector<SortCriterion>& criteria);

enum class ThreadAlgorithm { OrderedSubject, References };
std::optional<ThreadAlgorithm> parse_thread_algorithm(std::string_view atom);

// The THREAD response after "* THREAD": "(1 2)(3 (4)(5))"; empty for no items.
std::string thread_items(const std::vector<SortItem>& items, ThreadAlgorithm algorithm);

}  // namespace rampart::imap
