// FETCH and UID FETCH (RFC 9051 §6.4.5), with BINARY (RFC 3516) and CONDSTORE /
// QRESYNC modifiers (RFC 7162 §3.1.4, §3.2.6).
#include <algorithm>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/log.h"
#include "imap/body_section.h"
#include "imap/responses_internal.h"
#include "imap/session_internal.h"
#include "mime/message.h"
#include "store/message_reader.h"
#include "store/object_id.h"

namespace rampart::imap {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kMessagesPerBatch = 100;
constexpr std::size_t kFlushBytes = 1 << 20;

struct WantedSection {
  BodyRequest request;
  std::string name;  // in the response
};

struct FetchItems {
  enum class Item {
    Flags,
    InternalDate,
    Size,
    Envelope,
    Body,
    BodyStructure,
    Uid,
    ModSeq,
    EmailId,
    ThreadId,
    Section
  };
  std::vector<Item> order;
  std::vector<WantedSection> sections;  // in the order of Item::Section entries
  bool needs_structure = false, needs_blob = false, sets_seen = false;
};

bool add_item(FetchItems& items, const Token& token) {
  using Item = FetchItems::Item;
  if (token.kind != Token::Kind::Atom) return false;
  const std::string name = uppercase(token.text);
  auto add = [&](Item item) { items.order.push_back(item); };
  auto add_section = [&](BodyRequest request, std::string response_name) {
    items.needs_structure = true;
    items.needs_blob = true;
    if (!request.peek && request.item != BodyRequest::Item::BinarySize) items.sets_seen = true;
    items.sections.push_back({std::move(request), std::move(response_name)});
    add(Item::Section);
  };
  if (name == "FLAGS") {
    add(Item::Flags);
  } else if (name == "INTERNALDATE") {
    add(Item::InternalDate);
  } else if (name == "RFC822.SIZE") {
    add(Item::Size);
  } else if (name == "ENVELOPE") {
    add(Item::Envelope);
    items.needs_structure = true;
  } else if (name == "BODY") {
    add(Item::Body);
    items.needs_structure = true;
  } else if (name == "BODYSTRUCTURE") {
    add(Item::BodyStructure);
    items.needs_structure = true;
  } else if (name == "UID") {
    add(Item::Uid);
  } else if (name == "MODSEQ") {
    add(Item::ModSeq);
  } else if (name == "EMAILID") {
    add(Item::EmailId);  // RFC 8474: the JMAP Email id
  } else if (name == "THREADID") {
    add(Item::ThreadId);
  } else if (name == "RFC822") {
    add_section({.item = BodyRequest::Item::Body, .peek = false, .section = {}}, "RFC822");
  } else if (name == "RFC822.HEADER") {
    BodyRequest request{.item = BodyRequest::Item::Body, .peek = true, .section = {}};
    request.section.text = imap::Section::Text::Header;
    add_section(std::move(request), "RFC822.HEADER");
  } else if (name == "RFC822.TEXT") {
    BodyRequest request{.item = BodyRequest::Item::Body, .peek = false, .section = {}};
    request.section.text = imap::Section::Text::Text;
    add_section(std::move(request), "RFC822.TEXT");
  } else if (auto request = parse_body_request(token.text)) {
    std::string response_name = request->response_name();
    add_section(std::move(*request), std::move(response_name));
  } else {
    return false;
  }
  return true;
}

std::optional<FetchItems> parse_items(const Token& token) {
  FetchItems items;
  if (token.kind == Token::Kind::List) {
    for (const Token& child : token.children) {
      if (!add_item(items, child)) return std::nullopt;
    }
    if (token.children.empty()) return std::nullopt;
    return items;
  }
  using Item = FetchItems::Item;
  if (token.is("ALL") || token.is("FAST") || token.is("FULL")) {
    items.order = {Item::Flags, Item::InternalDate, Item::Size};
    if (!token.is("FAST")) {
      items.order.push_back(Item::Envelope);
      items.needs_structure = true;
    }
    if (token.is("FULL")) items.order.push_back(Item::Body);
    return items;
  }
  if (!add_item(items, token)) return std::nullopt;
  return items;
}

}  // namespace

bool valid_fetch_items(const Token& items) { return parse_items(items).has_value(); }

namespace {

struct Loaded {
  store::MessageReader reader;
  bool flags_changed = false;  // \Seen was just set
};

void append_literal(std::string& out, std::string_view bytes, bool binary) {
  const bool nul = binary && bytes.find('\0') != std::string_view::npos;
  out += nul ? "~{" : "{";
  out += std::to_string(bytes.size()) + "}\r\n";
  out.append(bytes);
}

// The items of one FETCH response, separated by spaces.
struct ItemWriter {
  std::string& out;
  bool first = true;
  void next(std::string_view item) {
    if (!first) out += ' ';
    first = false;
    out += item;
  }
};

// Writes `items` of one message (all but UID and MODSEQ, which go first and last; FLAGS
// as `flags`); true when FLAGS was among them. A BINARY section whose encoding cannot
// be undone sets `unknown_encoding` (RFC 3516 §4.3).
bool append_items(ItemWriter& writer, store::MessageReader& message, const FetchItems& items,
                  std::string_view flags, Encoding encoding, bool& unknown_encoding) {
  using Item = FetchItems::Item;
  const store::MessageMeta& meta = message.meta();
  std::size_t section = 0;
  bool flags_sent = false;
  for (Item item : items.order) {
    switch (item) {
      case Item::Flags:
        writer.next(flags);
        flags_sent = true;
        break;
      case Item::EmailId:
        writer.next("EMAILID (" + store::object_id(store::kEmailPrefix, meta.id) + ")");
        break;
      case Item::ThreadId:
        writer.next(meta.thread == 0
                        ? std::string("THREADID NIL")
                        : "THREADID (" + store::object_id(store::kThreadPrefix, meta.thread) + ")");
        break;
      case Item::InternalDate:
        writer.next("INTERNALDATE " + format_date_time(meta.internal_date));
        break;
      case Item::Size:
        writer.next("RFC822.SIZE " + std::to_string(meta.size));
        break;
      case Item::Envelope:
        writer.next("ENVELOPE " + format_envelope(message.message().envelope, encoding));
        break;
      case Item::Body:
        writer.next("BODY " + format_body_structure(message.message().root, false, encoding));
        break;
      case Item::BodyStructure:
        writer.next("BODYSTRUCTURE " +
                    format_body_structure(message.message().root, true, encoding));
        break;
      case Item::Uid:
      case Item::ModSeq:
        break;  // UID first, MODSEQ last
      case Item::Section: {
        const WantedSection& wanted = items.sections[section++];
        auto bytes = extract_section(message.raw(), message.message(), wanted.request);
        writer.next(wanted.name + " ");
        if (wanted.request.item == BodyRequest::Item::BinarySize) {
          if (bytes) {
            writer.out += std::to_string(bytes->size());
          } else {
            writer.out += "NIL";
            unknown_encoding = true;
          }
          break;
        }
        if (!bytes) {
          writer.out += "NIL";
          if (wanted.request.item == BodyRequest::Item::Binary) unknown_encoding = true;
          break;
        }
        std::string_view view_bytes = *bytes;
        if (wanted.request.partial_offset) {
          const auto offset =
              std::min<std::uint64_t>(*wanted.request.partial_offset, view_bytes.size());
          view_bytes = view_bytes.substr(offset, *wanted.request.partial_length);
        }
        append_literal(writer.out, view_bytes, wanted.request.item == BodyRequest::Item::Binary);
        break;
      }
    }
  }
  return flags_sent;
}

// Whether loading a batch is a small read (Session::read): no \Seen to set, and few
// bytes to read.
bool small_batch(const std::vector<store::MessageMeta>& metas, const FetchItems& items,
                 std::optional<store::ModSeq> changed_since, bool set_seen) {
  std::uint64_t bytes = 0;
  for (const auto& meta : metas) {
    if (changed_since && meta.modseq <= *changed_since) continue;
    if (set_seen && !has_flag(meta.flags, "\\Seen")) return false;
    if (items.needs_blob) bytes += meta.size;
  }
  return bytes <= kInlineBytes;
}

// One batch of FETCH's messages from their metadata: those changed since
// `changed_since`, if given, \Seen set where the items read a body, and the bytes and
// structure the items need, read and parsed here. A message another session expunged
// meanwhile is left out and counted in `gone`.
Result<std::vector<Loaded>> load_batch(std::size_t& gone, Services& services, store::MailboxId id,
                                       std::vector<store::MessageMeta> metas,
                                       const FetchItems& items,
                                       std::optional<store::ModSeq> changed_since, bool set_seen) {
  std::vector<store::MessageMeta> selected;
  std::vector<store::Uid> unseen;
  for (auto& meta : metas) {
    if (changed_since && meta.modseq <= *changed_since) continue;
    if (set_seen && !has_flag(meta.flags, "\\Seen")) {
      unseen.push_back(meta.uid);
    }
    selected.push_back(std::move(meta));
  }
  std::vector<bool> flags_changed(selected.size());
  if (!unseen.empty()) {
    auto seen = services.store.change_flags(
        id, unseen, {.operation = store::FlagOperation::Add, .flags = {"\\Seen"}});
    if (!seen) return tl::unexpected(seen.error());
    for (auto& changed : seen->changed) {
      for (std::size_t i = 0; i < selected.size(); ++i) {
        if (selected[i].uid != changed.uid) continue;
        selected[i].flags = changed.flags;
        selected[i].modseq = changed.modseq;
        flags_changed[i] = true;
      }
    }
  }
  std::vector<std::string> structures;
  if (items.needs_structure) {
    std::vector<store::MessageId> ids;
    for (const auto& meta : selected) ids.push_back(meta.id);
    auto read = services.store.read_structures(ids);
    if (!read) return tl::unexpected(read.error());
    structures = std::move(*read);
  }
  std::vector<Loaded> out;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    out.push_back({store::MessageReader::stored(
                       services.store, services.blobs, std::move(selected[i]),
                       items.needs_structure ? std::optional<std::string>(std::move(structures[i]))
                                             : std::nullopt),
                   flags_changed[i]});
    // Read and parsed now; a damaged stored structure is rebuilt from the message's bytes.
    store::MessageReader& reader = out.back().reader;
    if (items.needs_blob) reader.raw();
    if (items.needs_structure) reader.message();
    if (reader.read_error() && reader.read_error()->code == Errc::NotFound) {
      out.pop_back();  // expunged between its metadata and its bytes
      ++gone;
    } else if (reader.read_error()) {
      return tl::unexpected(*reader.read_error());
    }
  }
  return out;
}

}  // namespace

asio::awaitable<void> Session::fetch(const Command& command) {
  const Arguments& arguments = command.arguments;
  if (arguments.size() < 2 || arguments.size() > 3) {
    reply(command, "BAD FETCH takes a message set, items and optional modifiers");
    co_return;
  }
  auto uids = message_set(command, arguments[0]);
  if (!uids) co_return;
  auto items = parse_items(arguments[1]);
  if (!items) {
    reply(command, "BAD Invalid FETCH item");
    co_return;
  }
  std::optional<store::ModSeq> changed_since;
  bool vanished = false;
  if (arguments.size() == 3) {
    const Token& modifiers = arguments[2];
    if (modifiers.kind != Token::Kind::List) {
      reply(command, "BAD Invalid FETCH modifier");
      co_return;
    }
    for (std::size_t i = 0; i < modifiers.children.size(); ++i) {
      const Token& modifier = modifiers.children[i];
      if (modifier.is("CHANGEDSINCE") && i + 1 < modifiers.children.size() &&
          modifiers.children[i + 1].number()) {
        changed_since = *modifiers.children[++i].number();
      } else if (modifier.is("VANISHED") && command.uid && qresync_) {
        vanished = true;
      } else {
        reply(command, "BAD Invalid FETCH modifier");
        co_return;
      }
    }
    // RFC 7162 §3.2.6: VANISHED only with CHANGEDSINCE.
    if (vanished && !changed_since) {
      reply(command, "BAD VANISHED needs CHANGEDSINCE");
      co_return;
    }
  }
  using Item = FetchItems::Item;
  if (changed_since || std::count(items->order.begin(), items->order.end(), Item::ModSeq) > 0) {
    enable_condstore();
  }
  const bool with_uid =
      command.uid || std::count(items->order.begin(), items->order.end(), Item::Uid);
  const bool with_modseq =
      changed_since || std::count(items->order.begin(), items->order.end(), Item::ModSeq);
  const bool set_seen = items->sets_seen && !selected_->read_only;
  const store::MailboxId id = selected_->mailbox.id;

  if (vanished) {
    const bool small = selected_->view.exists() <= kInlineMessages;
    auto changes =
        co_await read(small, [&] { return services_.store.mailbox_changes(id, *changed_since); });
    if (changes) {
      // Expunged UIDs within the requested set (the set may name UIDs no longer here).
      auto set = parse_sequence_set(arguments[0].text);
      std::vector<store::Uid> gone;
      for (store::Uid uid : changes->removed) {
        if (set && set->contains(uid, selected_->mailbox.uidnext) && !selected_->view.msn_of(uid)) {
          gone.push_back(uid);
        }
      }
      if (!gone.empty()) untagged("VANISHED (EARLIER) " + format_number_set(std::move(gone)));
    }
  }

  bool unknown_encoding = false;
  std::size_t gone = 0;
  const bool wants_flags = std::find(items->order.begin(), items->order.end(),
                                     FetchItems::Item::Flags) != items->order.end();
  for (std::size_t start = 0; start < uids->size(); start += kMessagesPerBatch) {
    const std::vector<store::Uid> batch(
        uids->begin() + start, uids->begin() + std::min(uids->size(), start + kMessagesPerBatch));
    auto metas = co_await read(true, [&] { return services_.store.get_messages(id, batch); });
    Result<std::vector<Loaded>> loaded = tl::unexpected(Error{});
    if (!metas) {
      loaded = tl::unexpected(metas.error());
    } else {
      gone += batch.size() - metas->size();
      const bool small = small_batch(*metas, *items, changed_since, set_seen);
      loaded = co_await read(small, [&] {
        return load_batch(gone, services_, id, std::move(*metas), *items, changed_since, set_seen);
      });
    }
    if (!loaded) {
      log::error("imap: FETCH in " + selected_->mailbox.name + ": " + loaded.error().detail);
      reply(command, no_for(loaded.error().code, "FETCH failed"));
      co_return;
    }
    if (items->needs_structure && !loaded->empty()) {
      // Content served (envelope, structure, headers or bodies): which messages, for
      // the audit trail. Flags and sizes alone are not recorded.
      std::vector<std::uint32_t> read;
      for (const Loaded& message : *loaded) read.push_back(message.reader.meta().uid);
      audit(audit::kRead, selected_->mailbox.name, static_cast<std::int64_t>(loaded->size()),
            "UID " + format_number_set(std::move(read)) +
                (items->needs_blob ? " with content" : " envelope and structure"));
    }
    MailboxView& view = selected_->view;
    for (Loaded& loaded_message : *loaded) {
      store::MessageReader& message = loaded_message.reader;
      const store::MessageMeta& meta = message.meta();
      const auto msn = view.msn_of(meta.uid);
      if (!msn) continue;
      // Any new keyword is announced before the FETCH that shows it.
      const std::string flags = wants_flags || loaded_message.flags_changed
                                    ? flags_item(meta.uid, meta.flags)
                                    : std::string();
      ItemWriter writer{connection_.output()};
      writer.out += "* " + std::to_string(*msn) + " FETCH (";
      if (with_uid) writer.next("UID " + std::to_string(meta.uid));
      const bool flags_sent =
          append_items(writer, message, *items, flags, encoding(), unknown_encoding);
      if (loaded_message.flags_changed) {
        view.note_reported(meta.uid, meta.modseq);
        if (!flags_sent) writer.next(flags);
      }
      if (with_modseq) writer.next("MODSEQ (" + std::to_string(meta.modseq) + ")");
      writer.out += ")\r\n";
    }
    if (connection_.output().size() > kFlushBytes && !co_await connection_.flush()) co_return;
  }
  if (unknown_encoding) {
    reply(command, "NO [UNKNOWN-CTE] Cannot decode a part's content transfer encoding");
    co_return;
  }
  // RFC 5530: what another session expunged is left out; the rest is answered.
  reply(command, gone > 0 ? "OK [EXPUNGEISSUED] Some messages were expunged meanwhile"
                          : "OK FETCH completed");
}

}  // namespace rampart::imap
