// SEARCH, ESEARCH (RFC 4731), SEARCHRES (RFC 5182), SORT and THREAD (RFC 5256):
// evaluating a SearchProgram against the messages this session can see. Flags, sizes
// and dates come from the store's metadata; header and text keys read the message.
#include <algorithm>
#include <ctime>

#include "base/ascii.h"
#include "imap/responses_internal.h"
#include "imap/search_internal.h"
#include "imap/search_program.h"
#include "imap/session_internal.h"
#include "mime/body.h"
#include "mime/header.h"
#include "mime/message.h"
#include "store/message_reader.h"
#include "store/object_id.h"

namespace rampart::imap {

namespace asio = boost::asio;

namespace {

// One message while a program is evaluated: what the store keeps, and the message
// itself (store/message_reader.h), read only when a key needs it.
class Candidate {
 public:
  // `structure` was read in bulk beforehand when the program needs it.
  Candidate(const store::MessageMeta& meta, std::uint32_t msn, std::optional<std::string> structure,
            store::MailStore& store, store::BlobStore& blobs)
      : meta_(meta), msn_(msn), structure_(std::move(structure)), store_(store), blobs_(blobs) {}

  const store::MessageMeta& meta() const { return meta_; }
  std::uint32_t msn() const { return msn_; }
  const mime::Message& message() { return reader().message(); }
  const std::string& raw() { return reader().raw(); }
  std::string_view header() { return reader().header(); }
  const std::string& decoded_text(const mime::Part& part) { return reader().decoded_text(part); }

 private:
  // Made when a key first looks past the metadata: most programs (flags, UIDs, sizes)
  // never do.
  store::MessageReader& reader() {
    if (!reader_) {
      reader_.emplace(store::MessageReader::stored(store_, blobs_, meta_, std::move(structure_)));
    }
    return *reader_;
  }

  const store::MessageMeta& meta_;
  std::uint32_t msn_;
  std::optional<std::string> structure_;
  store::MailStore& store_;
  store::BlobStore& blobs_;
  std::optional<store::MessageReader> reader_;
};

struct Context {
  const MailboxView& view;  // \Recent (an IMAP4rev1 session's only)
  std::uint32_t exists = 0;
  store::Uid largest_uid = 0;
  const std::vector<store::Uid>& saved;
  std::int64_t now = 0;
};

// RFC 9051 §6.4.4: FROM, TO, CC and BCC match the envelope's address fields.
bool addresses_contain(const std::vector<mime::Address>& addresses, std::string_view text) {
  for (const auto& address : addresses) {
    if (contains_folded(address.name + " <" + address.local + "@" + address.domain + ">", text)) {
      return true;
    }
  }
  return false;
}

bool header_contains(Candidate& candidate, std::string_view field, std::string_view text) {
  for (std::string_view value : mime::find_header(candidate.header(), field)) {
    if (contains_folded(mime::decode_text(mime::unfold(value)), text)) return true;
  }
  return false;
}

bool body_contains(Candidate& candidate, const mime::Part& part, std::string_view text) {
  if (part.is_multipart() || part.is_message()) {
    for (const auto& child : part.children) {
      if (body_contains(candidate, child, text)) return true;
    }
    return part.is_message() && part.children.empty() &&
           contains_folded(std::string_view(candidate.raw()).substr(part.body_begin, part.size()),
                           text);
  }
  if (part.type != "text") return false;
  return contains_folded(candidate.decoded_text(part), text);
}

std::int64_t day_of(std::int64_t unix_seconds) {
  return unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
}

std::int64_t sent_day(Candidate& candidate) {
  const mime::Envelope& envelope = candidate.message().envelope;
  // RFC 9051 §6.4.4: the Date: header's own date, "disregarding time and timezone".
  const std::int64_t when = envelope.date_unix
                                ? *envelope.date_unix + envelope.date_zone_minutes * 60
                                : candidate.meta().internal_date;
  return day_of(when);
}

bool matches(const SearchKey& key, Candidate& candidate, const Context& context) {
  using Kind = SearchKey::Kind;
  const store::MessageMeta& meta = candidate.meta();
  switch (key.kind) {
    case Kind::All:
      return true;
    case Kind::And:
      return std::all_of(key.children.begin(), key.children.end(), [&](const SearchKey& child) {
        return matches(child, candidate, context);
      });
    case Kind::Or:
      return matches(key.children[0], candidate, context) ||
             matches(key.children[1], candidate, context);
    case Kind::Not:
      return !matches(key.children[0], candidate, context);
    case Kind::SequenceSet:
      if (key.set.saved) {
        return std::binary_search(context.saved.begin(), context.saved.end(), meta.uid);
      }
      return key.set.contains(candidate.msn(), context.exists);
    case Kind::Uid:
      if (key.set.saved) {
        return std::binary_search(context.saved.begin(), context.saved.end(), meta.uid);
      }
      return key.set.contains(meta.uid, context.largest_uid);
    case Kind::Flag:
      return has_flag(meta.flags, key.text);
    case Kind::NotFlag:
      return !has_flag(meta.flags, key.text);
    case Kind::New:
      return context.view.is_recent(meta.uid) && !has_flag(meta.flags, "\\Seen");
    case Kind::Recent:
      return context.view.is_recent(meta.uid);
    case Kind::Old:
      return !context.view.is_recent(meta.uid);
    case Kind::Bcc:
      return addresses_contain(candidate.message().envelope.bcc, key.text);
    case Kind::Cc:
      return addresses_contain(candidate.message().envelope.cc, key.text);
    case Kind::From:
      return addresses_contain(candidate.message().envelope.from, key.text);
    case Kind::To:
      return addresses_contain(candidate.message().envelope.to, key.text);
    case Kind::Subject:
      return contains_folded(candidate.message().envelope.subject, key.text);
    case Kind::Header:
      if (key.text2.empty()) return !mime::find_header(candidate.header(), key.text).empty();
      return header_contains(candidate, key.text, key.text2);
    case Kind::Body:
      return body_contains(candidate, candidate.message().root, key.text);
    case Kind::Text:
      return contains_folded(candidate.header(), key.text) ||
             contains_folded(candidate.message().envelope.subject, key.text) ||
             body_contains(candidate, candidate.message().root, key.text);
    case Kind::Before:
      return day_of(meta.internal_date) < key.date;
    case Kind::On:
      return day_of(meta.internal_date) == key.date;
    case Kind::Since:
      return day_of(meta.internal_date) >= key.date;
    case Kind::SentBefore:
      return sent_day(candidate) < key.date;
    case Kind::SentOn:
      return sent_day(candidate) == key.date;
    case Kind::SentSince:
      return sent_day(candidate) >= key.date;
    case Kind::Larger:
      return meta.size > key.number;
    case Kind::Smaller:
      return meta.size < key.number;
    case Kind::Older:
      return context.now - meta.internal_date > static_cast<std::int64_t>(key.number);
    case Kind::Younger:
      return context.now - meta.internal_date <= static_cast<std::int64_t>(key.number);
    case Kind::ModSeq:
      return meta.modseq >= key.number;
    case Kind::EmailId:
      return store::object_id(store::kEmailPrefix, meta.id) == key.text;
    case Kind::ThreadId:
      return meta.thread != 0 && store::object_id(store::kThreadPrefix, meta.thread) == key.text;
  }
  return false;
}

// Keys that read the stored structure (the envelope, the part tree).
bool needs_structure(const SearchKey& key) {
  using Kind = SearchKey::Kind;
  switch (key.kind) {
    case Kind::Bcc:
    case Kind::Body:
    case Kind::Cc:
    case Kind::From:
    case Kind::Subject:
    case Kind::Text:
    case Kind::To:
    case Kind::Header:
    case Kind::SentBefore:
    case Kind::SentOn:
    case Kind::SentSince:
      return true;
    default:
      return std::any_of(key.children.begin(), key.children.end(), needs_structure);
  }
}

// Keys that read a message's bytes (its header or its text).
bool reads_bytes(const SearchKey& key) {
  using Kind = SearchKey::Kind;
  if (key.kind == Kind::Body || key.kind == Kind::Text || key.kind == Kind::Header) return true;
  return std::any_of(key.children.begin(), key.children.end(), reads_bytes);
}

bool uses_modseq(const SearchKey& key) {
  if (key.kind == SearchKey::Kind::ModSeq) return true;
  return std::any_of(key.children.begin(), key.children.end(), uses_modseq);
}

}  // namespace

bool supported_charset(std::string_view charset) {
  return charset.empty() || charset == "UTF-8" || charset == "US-ASCII";
}

Result<std::vector<Match>> evaluate(store::MailStore& store, store::BlobStore& blobs,
                                    store::MailboxId mailbox, const MailboxView& view,
                                    const SearchKey& key, const std::vector<store::Uid>& saved,
                                    bool with_envelopes) {
  auto snapshot = store.snapshot(mailbox);
  if (!snapshot) return tl::unexpected(snapshot.error());
  const Context context{.view = view,
                        .exists = view.exists(),
                        .largest_uid = view.largest_uid(),
                        .saved = saved,
                        .now = static_cast<std::int64_t>(std::time(nullptr))};
  std::vector<std::pair<const store::MessageMeta*, std::uint32_t>> visible;
  for (const auto& meta : snapshot->messages) {
    // Not what arrived since the client's last update.
    if (const auto msn = view.msn_of(meta.uid)) visible.emplace_back(&meta, *msn);
  }
  std::vector<std::string> structures;
  const bool bulk_structures = with_envelopes || needs_structure(key);
  if (bulk_structures) {
    std::vector<store::MessageId> ids;
    for (const auto& [meta, msn] : visible) ids.push_back(meta->id);
    auto read = store.read_structures(ids);
    if (!read) return tl::unexpected(read.error());
    structures = std::move(*read);
  }
  std::vector<Match> found;
  for (std::size_t i = 0; i < visible.size(); ++i) {
    const store::MessageMeta& meta = *visible[i].first;
    Candidate candidate(
        meta, visible[i].second,
        bulk_structures ? std::optional<std::string>(std::move(structures[i])) : std::nullopt,
        store, blobs);
    if (!matches(key, candidate, context)) continue;
    Match match{meta.uid,           visible[i].second, meta.modseq,
                meta.internal_date, meta.size,         std::nullopt};
    if (with_envelopes) match.envelope = candidate.message().envelope;
    found.push_back(std::move(match));
  }
  return found;
}

asio::awaitable<void> Session::search(const Command& command) {
  SearchError error;
  auto program = parse_search(command.arguments, error);
  if (!program) {
    reply(command, "BAD " + error.text);
    co_return;
  }
  if (!supported_charset(program->charset)) {
    reply(command, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    co_return;
  }
  const bool modseq = uses_modseq(program->key);
  if (modseq) enable_condstore();
  const store::MailboxId id = selected_->mailbox.id;
  // Metadata and stored structures only, of a mailbox of modest size: small.
  const bool small = selected_->view.exists() <= kInlineMessages && !reads_bytes(program->key);
  auto found = co_await read(small, [&] {
    return evaluate(services_.store, services_.blobs, id, selected_->view, program->key, saved_,
                    false);
  });
  if (!found) {
    reply(command, no_for(found.error().code, "SEARCH failed"));
    co_return;
  }
  std::vector<std::uint32_t> numbers;
  store::ModSeq highest = 0;
  for (const Match& match : *found) {
    numbers.push_back(command.uid ? match.uid : match.msn);
    highest = std::max(highest, match.modseq);
  }
  SearchReturn result = program->result;
  if (result.save) {
    saved_.clear();
    for (const Match& match : *found) saved_.push_back(match.uid);
  }
  if (!result.requested && !rev2_) {
    std::string line = "SEARCH";
    for (std::uint32_t number : numbers) line += " " + std::to_string(number);
    if (modseq && !numbers.empty()) line += " (MODSEQ " + std::to_string(highest) + ")";
    untagged(line);
    reply(command, "OK SEARCH completed");
    co_return;
  }
  // RFC 4731 §3.1: RETURN () means ALL; RFC 5182 §2.4: SAVE alone answers nothing.
  if (!result.min && !result.max && !result.count && !result.all) {
    if (result.save) {
      reply(command, "OK SEARCH completed");
      co_return;
    }
    result.all = true;
  }
  std::string line = "ESEARCH (TAG ";
  append_string(line, command.tag, encoding());
  line += ")";
  if (command.uid) line += " UID";
  if (!numbers.empty()) {
    if (result.min) line += " MIN " + std::to_string(numbers.front());
    if (result.max) line += " MAX " + std::to_string(numbers.back());
  }
  if (result.count) line += " COUNT " + std::to_string(numbers.size());
  if (result.all && !numbers.empty()) line += " ALL " + format_number_set(numbers);
  if (modseq && !numbers.empty()) {
    // RFC 7162 section 3.1.5: with MIN and/or MAX alone, the highest MODSEQ of the
    // messages they return; otherwise of every message found.
    if (!result.all && !result.count) {
      highest = 0;
      if (result.min) highest = found->front().modseq;
      if (result.max) highest = std::max(highest, found->back().modseq);
    }
    line += " MODSEQ " + std::to_string(highest);
  }
  untagged(line);
  reply(command, "OK SEARCH completed");
}

}  // namespace rampart::imap
