// The selected mailbox as one session has shown it to its client: which UID each
// message sequence number stands for, and up to which MODSEQ each message's flags have
// been reported. Turning the store's changes into the untagged EXPUNGE / VANISHED /
// EXISTS / FETCH responses that bring the client up to date happens here, and only
// here. Pure: no I/O; about 16 bytes per message.
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
  };

  MailboxView() = default;
  explicit MailboxView(const store::MailboxSnapshot& snapshot);

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
};

}  // namespace rampart::imap
