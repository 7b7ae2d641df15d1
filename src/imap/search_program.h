// SEARCH criteria (RFC 9051 §6.4.4, RFC 3501 §6.4.4, CONDSTORE MODSEQ, RFC 5032
// WITHIN) turned from the command parser's tokens into a tree the session evaluates
// against a mailbox snapshot. Pure; limits come from the command parser (nesting).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imap/command_parser.h"

namespace rampart::imap {

struct SearchKey {
  enum class Kind {
    All,
    And,
    Or,
    Not,  // And: children; Or/Not: children[0..1]
    SequenceSet,
    Uid,  // set
    Flag,
    NotFlag,  // text: "\\Seen", "\\Deleted", a keyword ...
    New,
    Old,
    Recent,  // IMAP4rev1 session flags
    Bcc,
    Body,
    Cc,
    From,
    Subject,
    Text,
    To,      // text: substring
    Header,  // text: field name, text2: substring
    Before,
    On,
    Since,  // date: internal date (days since 1970-01-01)
    SentBefore,
    SentOn,
    SentSince,  // date: Date: header
    Larger,
    Smaller,  // number: RFC822.SIZE
    Older,
    Younger,  // number: seconds (WITHIN)
    ModSeq,   // number: MODSEQ >= number
    EmailId,
    ThreadId,  // text: an RFC 8474 objectid ("E12", "T7")
  };
  Kind kind = Kind::All;
  std::string text, text2;
  std::uint64_t number = 0;
  std::int64_t date = 0;
  SequenceSet set;
  std::vector<SearchKey> children;
  bool operator==(const SearchKey&) const = default;
};

// What ESEARCH (RFC 4731) / SEARCHRES (RFC 5182) asked for with RETURN (...).
struct SearchReturn {
  bool min = false, max = false, all = false, count = false, save = false;
  bool requested = false;  // RETURN was given: answer with ESEARCH
  bool operator==(const SearchReturn&) const = default;
};

struct SearchProgram {
  SearchReturn result;
  std::string charset;  // uppercased; empty when absent
  SearchKey key;        // an And of the top-level keys
};

// `arguments` are SEARCH's arguments after the command name. On failure, the text to
// send with BAD; an unsupported CHARSET is reported by the caller as
// NO [BADCHARSET (UTF-8 US-ASCII)].
struct SearchError {
  std::string text;
};
std::optional<SearchProgram> parse_search(const std::vector<Token>& arguments, SearchError& error);

// "1-Feb-1994" (RFC 9051 date, day of 1 or 2 digits) as days since 1970-01-01.
std::optional<std::int64_t> parse_search_date(std::string_view text);

}  // namespace rampart::imap
