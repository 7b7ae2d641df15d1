// What SEARCH, SORT and THREAD share: evaluating a program over the messages a
// session knows of.
#pragma once

#include <optional>
#include <vector>

#include "imap/mailbox_view.h"
#include "imap/search_program.h"
#include "mime/message.h"
#include "store/store.h"

namespace rampart::imap {

struct Match {
  store::Uid uid = 0;
  std::uint32_t msn = 0;
  store::ModSeq modseq = 0;
  std::int64_t internal_date = 0;
  std::uint64_t size = 0;
  std::optional<mime::Envelope> envelope;  // for SORT and THREAD
};

// The messages of `mailbox` that the client knows of (in `view`) and `key` matches, in
// UID order. Reads the store: the session decides where it runs (Session::read).
Result<std::vector<Match>> evaluate(store::MailStore& store, store::BlobStore& blobs,
                                    store::MailboxId mailbox, const MailboxView& view,
                                    const SearchKey& key, const std::vector<store::Uid>& saved,
                                    bool with_envelopes);

// CHARSET values searches accept: UTF-8 and its subset US-ASCII (uppercased; empty = none).
bool supported_charset(std::string_view charset);

}  // namespace rampart::imap
