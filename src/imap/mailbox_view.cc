#include "imap/mailbox_view.h"

#include <algorithm>

#include "imap/responses_internal.h"

namespace rampart::imap {

namespace {

constexpr const char* kSystemFlags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

bool is_keyword(const std::string& flag) { return flag.empty() || flag[0] != '\\'; }

}  // namespace

MailboxView::MailboxView(const store::MailboxSnapshot& snapshot, bool read_only)
    : modseq_(snapshot.mailbox.highest_modseq), read_only_(read_only) {
  entries_.reserve(snapshot.messages.size());
  for (const auto& message : snapshot.messages) {
    entries_.push_back({message.uid, message.modseq});
    for (const auto& flag : message.flags) {
      if (is_keyword(flag)) keywords_.push_back(flag);
    }
  }
  std::sort(keywords_.begin(), keywords_.end());
  keywords_.erase(std::unique(keywords_.begin(), keywords_.end()), keywords_.end());
}

std::string MailboxView::flags_responses() const {
  std::string flags = kSystemFlags;
  for (const auto& keyword : keywords_) flags += " " + keyword;
  return "* FLAGS (" + flags + ")\r\n" +
         (read_only_ ? "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n"
                     : "* OK [PERMANENTFLAGS (" + flags + " \\*)] Flags permitted\r\n");
}

std::string MailboxView::announce(const store::Flags& flags) {
  bool added = false;
  for (const auto& flag : flags) {
    if (!is_keyword(flag)) continue;
    const auto it = std::lower_bound(keywords_.begin(), keywords_.end(), flag);
    if (it != keywords_.end() && *it == flag) continue;
    keywords_.insert(it, flag);
    added = true;
  }
  return added ? flags_responses() : std::string();
}

void MailboxView::add_recent(store::Uid first, store::Uid last) {
  if (first > last) return;
  if (!recent_.empty() && recent_.back().last + 1 >= first) {
    recent_.back().last = std::max(recent_.back().last, last);
  } else {
    recent_.push_back({first, last});
  }
}

bool MailboxView::is_recent(store::Uid uid) const {
  const auto it =
      std::upper_bound(recent_.begin(), recent_.end(), uid,
                       [](store::Uid value, const Range& range) { return value < range.first; });
  return it != recent_.begin() && uid <= std::prev(it)->last;
}

std::uint32_t MailboxView::recent() const {
  std::uint32_t count = 0;
  for (const Range& range : recent_) {
    const auto from =
        std::lower_bound(entries_.begin(), entries_.end(), range.first,
                         [](const Entry& entry, store::Uid value) { return entry.uid < value; });
    const auto to =
        std::upper_bound(from, entries_.end(), range.last,
                         [](store::Uid value, const Entry& entry) { return value < entry.uid; });
    count += static_cast<std::uint32_t>(to - from);
  }
  return count;
}

std::string MailboxView::flags_item(store::Uid uid, const store::Flags& flags,
                                    const Reporting& reporting) const {
  return "FLAGS " + format_flags(flags, reporting.recent && is_recent(uid));
}

std::optional<std::uint32_t> MailboxView::msn_of(store::Uid uid) const {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), uid,
                       [](const Entry& entry, store::Uid value) { return entry.uid < value; });
  if (it == entries_.end() || it->uid != uid) return std::nullopt;
  return static_cast<std::uint32_t>(it - entries_.begin() + 1);
}

MailboxView::Entry* MailboxView::find(store::Uid uid) {
  const auto msn = msn_of(uid);
  return msn ? &entries_[*msn - 1] : nullptr;
}

std::optional<std::vector<store::Uid>> MailboxView::resolve(
    const SequenceSet& set, bool uid, const std::vector<store::Uid>& saved) const {
  if (set.saved) {
    std::vector<store::Uid> uids;
    for (store::Uid value : saved) {
      if (msn_of(value)) uids.push_back(value);
    }
    return uids;
  }
  std::vector<store::Uid> uids;
  if (uid) {
    for (const auto& range : set.resolve(largest_uid())) {
      auto it =
          std::lower_bound(entries_.begin(), entries_.end(), range.first,
                           [](const Entry& entry, store::Uid value) { return entry.uid < value; });
      for (; it != entries_.end() && it->uid <= range.last; ++it) uids.push_back(it->uid);
    }
  } else {
    for (const auto& range : set.resolve(exists())) {
      if (range.last > exists()) return std::nullopt;
      for (std::uint32_t msn = range.first; msn <= range.last; ++msn) uids.push_back(uid_at(msn));
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

std::string MailboxView::report_removed(const Reporting& reporting) {
  if (removed_.empty() || !reporting.expunges_allowed) return {};
  std::string out;
  std::vector<store::Uid> vanished;
  std::sort(removed_.begin(), removed_.end());
  // Ascending UIDs, each reported at its sequence number at that moment.
  for (store::Uid uid : removed_) {
    const auto msn = msn_of(uid);
    if (!msn) continue;
    entries_.erase(entries_.begin() + (*msn - 1));
    if (reporting.qresync) {
      vanished.push_back(uid);
    } else {
      out += "* " + std::to_string(*msn) + " EXPUNGE\r\n";
    }
  }
  removed_.clear();
  if (!vanished.empty()) out += "* VANISHED " + format_number_set(std::move(vanished)) + "\r\n";
  return out;
}

std::string MailboxView::apply(const store::MailboxChanges& changes, const Reporting& reporting) {
  for (store::Uid uid : changes.removed) {
    if (msn_of(uid)) removed_.push_back(uid);
  }
  std::string out = report_removed(reporting);
  const store::Uid largest = largest_uid();
  const std::uint32_t before = exists();
  for (const auto& message : changes.changed) {
    if (message.uid > largest) {
      entries_.push_back({message.uid, message.modseq});
      out += announce(message.flags);
      continue;
    }
    Entry* entry = find(message.uid);
    if (!entry || message.modseq <= entry->modseq) continue;
    entry->modseq = message.modseq;
    out += announce(message.flags);
    out += "* " + std::to_string(*msn_of(message.uid)) + " FETCH (UID " +
           std::to_string(message.uid) + " " + flags_item(message.uid, message.flags, reporting);
    if (reporting.condstore) out += " MODSEQ (" + std::to_string(message.modseq) + ")";
    out += ")\r\n";
  }
  if (exists() != before) {
    out += "* " + std::to_string(exists()) + " EXISTS\r\n";
    if (reporting.recent) out += "* " + std::to_string(recent()) + " RECENT\r\n";
  }
  modseq_ = std::max(modseq_, changes.mailbox.highest_modseq);
  return out;
}

std::string MailboxView::apply(const store::MailboxSnapshot& snapshot, const Reporting& reporting) {
  store::MailboxChanges changes{.mailbox = snapshot.mailbox, .changed = {}, .removed = {}};
  std::size_t next = 0;
  for (const Entry& entry : entries_) {
    while (next < snapshot.messages.size() && snapshot.messages[next].uid < entry.uid) ++next;
    if (next == snapshot.messages.size() || snapshot.messages[next].uid != entry.uid) {
      changes.removed.push_back(entry.uid);
    }
  }
  for (const auto& message : snapshot.messages) {
    if (message.modseq > modseq_ || message.uid > largest_uid()) changes.changed.push_back(message);
  }
  return apply(changes, reporting);
}

void MailboxView::note_reported(store::Uid uid, store::ModSeq modseq) {
  if (Entry* entry = find(uid)) entry->modseq = std::max(entry->modseq, modseq);
}

}  // namespace rampart::imap
