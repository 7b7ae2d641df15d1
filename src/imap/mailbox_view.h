// The selected mailbox as one session has shown it to its client: which UID each
// message sequence number stands for, up to which MODSEQ each message's flags have
// been reported, which keywords the client has been told of (FLAGS) and, for an
// IMAP4rev1 client, which messages are \Recent in this session. Turning the store's
// changes into the untagged EXPUNGE / VANISHED / EXISTS / RECENT / FLAGS / FETCH
// responses that bring the client up to date happens here, and only here. Pure: no
// I/O; about 16 bytes per message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imap/command_parser.h"
#include "store/store.h"

namespace rampart::imap {

class MailboxView {
 public:
  struct Reporting {
    bool expunges_allowed = true;  // false during FETCH, STORE, SEARCH (RFC 9051 §7.5.1)
    bool qresync = false;          // VANISHED instead of EXPUNGE (RFC 7162 §3.2.10)
    bool condstore = false;        // MODSEQ in FETCH responses
    bool recent = false;           // IMAP4rev1: \Recent in FLAGS, RECENT after EXISTS
  };

  MailboxView() = default;
  MailboxView(const store::MailboxSnapshot& snapshot, bool read_only);

  std::uint32_t exists() const { return static_cast<std::uint32_t>(entries_.size()); }
  store::Uid uid_at(std::uint32_t msn) const { return entries_[msn - 1].uid; }
  std::optional<std::uint32_t> msn_of(store::Uid uid) const;
  store::Uid largest_uid() const { return entries_.empty() ? 0 : entries_.back().uid; }
  // The MODSEQ up to which every change has been reported.
  store::ModSeq modseq() const { return modseq_; }

  // The UIDs a set names, ascending. A sequence-number set beyond EXISTS is nullopt
  // (BAD); a UID set simply skips UIDs that are not in the view.
  std::optional<std::vector<store::Uid>> resolve(const SequenceSet& set, bool uid,
                                                 const std::vector<store::Uid>& saved) const;

  // Applies what changed since modseq() and returns the untagged responses to send.
  // Flag changes already reported (note_reported) are not repeated; expunges that may
  // not be reported yet are kept back and reported by a later call.
  std::string apply(const store::MailboxChanges& changes, const Reporting& reporting);
  // The same from a full snapshot, when the change log does not reach back.
  std::string apply(const store::MailboxSnapshot& snapshot, const Reporting& reporting);

  // The FLAGS and PERMANENTFLAGS responses: the system flags and every keyword the
  // client has been told of (RFC 9051 section 7.3.5).
  std::string flags_responses() const;
  // Before a FETCH shows `flags`: the FLAGS and PERMANENTFLAGS responses when they hold
  // a keyword the client has not been told of yet, else nothing.
  std::string announce(const store::Flags& flags);

  // The messages with UIDs first..last are \Recent in this session (RFC 3501 section
  // 2.3.2: it is the first to be told of them).
  void add_recent(store::Uid first, store::Uid last);
  bool is_recent(store::Uid uid) const;
  // How many messages in the view are \Recent.
  std::uint32_t recent() const;
  // "FLAGS (...)" of one message, \Recent included when `reporting.recent`.
  std::string flags_item(store::Uid uid, const store::Flags& flags,
                         const Reporting& reporting) const;

  // Expunges seen in the store that could not be reported yet.
  bool has_unreported_expunges() const { return !removed_.empty(); }
  // This session just told the client about this message's flags at `modseq`.
  void note_reported(store::Uid uid, store::ModSeq modseq);

 private:
  struct Entry {
    store::Uid uid = 0;
    store::ModSeq modseq = 0;
  };
  Entry* find(store::Uid uid);
  std::string report_removed(const Reporting& reporting);

  std::vector<Entry> entries_;       // ascending UID
  std::vector<store::Uid> removed_;  // expunged in the store, not yet reported
  store::ModSeq modseq_ = 0;
  bool read_only_ = false;
  std::vector<std::string> keywords_;  // told to the client, sorted
  struct Range {
    store::Uid first = 0;
    store::Uid last = 0;
  };
  std::vector<Range> recent_;  // ascending, disjoint
};

}  // namespace rampart::imap
