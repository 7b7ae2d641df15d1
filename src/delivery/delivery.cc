#include "delivery/delivery.h"

#include <algorithm>

#include "audit/trail.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "delivery/vacation.h"
#include "directory/directory.h"
#include "dkim/arc.h"
#include "dkim/signer.h"
#include "mime/header.h"
#include "mime/message.h"

namespace rampart::delivery {

store::NewMessage prepare_message(std::string raw, store::Flags flags, std::int64_t internal_date) {
  const mime::Message parsed = mime::parse(raw);
  store::NewMessage prepared;
  prepared.structure = mime::encode_structure(parsed);
  const auto own = mime::parse_message_ids(parsed.envelope.message_id);
  if (!own.empty()) prepared.message_id = own.front();
  // The direct parent first, then the References from the newest back.
  for (auto& id : mime::parse_message_ids(parsed.envelope.in_reply_to)) {
    prepared.parent_ids.push_back(std::move(id));
  }
  auto references = mime::parse_message_ids(parsed.envelope.references);
  for (auto it = references.rbegin(); it != references.rend(); ++it) {
    prepared.parent_ids.push_back(std::move(*it));
  }
  prepared.raw = std::move(raw);
  prepared.flags = std::move(flags);
  prepared.internal_date = internal_date;
  return prepared;
}

Result<bool> Delivery::is_local_domain(std::string_view domain) {
  return store_.has_domain(lowercase(domain));
}

Result<bool> Delivery::is_full(const store::Account& account) {
  if (account.quota_bytes == 0) return false;
  auto usage = store_.usage(account.id);
  if (!usage) return tl::unexpected(usage.error());
  return usage->bytes >= account.quota_bytes;
}

namespace {

// Whether every line of the header section is a field or a continuation, with no CR
// but before LF: what another program reads as more fields (a bare CR taken for a line
// break, a line skipped as junk) must not hide an author we did not check.
bool plain_header_section(std::string_view header) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == '\r' && (i + 1 == header.size() || header[i + 1] != '\n')) return false;
  }
  std::size_t at = 0;
  while (at < header.size()) {
    std::size_t end = header.find('\n', at);
    if (end == std::string_view::npos) end = header.size();
    std::string_view line = header.substr(at, end - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    at = end + 1;
    if (line.empty() || line.front() == ' ' || line.front() == '\t') continue;
    // RFC 5322 §2.2: a field name is printable ASCII but ':', then ':'.
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    for (char c : line.substr(0, colon)) {
      if (c <= ' ' || c > '~') return false;
    }
  }
  return true;
}

}  // namespace

Result<void> Delivery::check_authors(std::string_view message, store::AccountId account) {
  const std::string_view header = mime::header_block(message);
  if (!plain_header_section(header)) {
    return fail(Errc::BadInput, "the header has a line that is not a field, or a bare CR");
  }
  const auto from = mime::find_header(header, "From");
  const auto sender = mime::find_header(header, "Sender");
  if (from.empty()) return fail(Errc::BadInput, "the message has no From field");
  // A second From or Sender would name an author that a reader may see and we never
  // checked: one of each, as RFC 5322 §3.6 allows.
  if (from.size() > 1 || sender.size() > 1) {
    return fail(Errc::BadInput, "the message has more than one From or Sender field");
  }
  bool any = false;
  // Resent-From and Resent-Sender (RFC 5322 §3.6.6) name authors too.
  for (const auto& field : {from, sender, mime::find_header(header, "Resent-From"),
                            mime::find_header(header, "Resent-Sender")}) {
    for (std::string_view value : field) {
      for (const mime::Address& address : mime::parse_address_list(value)) {
        if (address.kind != mime::Address::Kind::Mailbox) continue;
        const std::string spec = lowercase(mime::address_spec(address));
        any = true;
        if (!directory_.owns(spec, account)) return fail(Errc::NoPermission, spec);
      }
    }
  }
  if (!any) return fail(Errc::BadInput, "the From field names no mailbox");
  return {};
}

Result<std::vector<Outcome>> Delivery::submit(const Envelope& envelope, std::string message,
                                              const Origin& origin, store::AccountId account) {
  std::vector<Outcome> outcomes;
  std::vector<LocalRecipient> local;
  store::QueueEntry outbound{.account = account,
                             .sender = envelope.mail_from,
                             .ret = envelope.ret,
                             .envid = envelope.envid};
  for (const Recipient& recipient : envelope.recipients) {
    store::AccountId target = recipient.account;
    if (target == 0) {
      auto owner = directory_.resolve_recipient(lowercase(recipient.address));
      if (owner) {
        target = owner->id;
      } else if (owner.error().code != Errc::NotFound && owner.error().code != Errc::BadInput) {
        return tl::unexpected(owner.error());
      }
    }
    if (target != 0) {
      local.push_back({target, lowercase(recipient.address)});
      outcomes.push_back(Outcome::Delivered);
      continue;
    }
    const auto at = recipient.address.rfind('@');
    auto ours = is_local_domain(at == std::string::npos
                                    ? std::string_view()
                                    : std::string_view(recipient.address).substr(at + 1));
    if (!ours) return tl::unexpected(ours.error());
    if (*ours) {
      outcomes.push_back(Outcome::NoSuchUser);
      continue;
    }
    outbound.recipients.push_back({recipient.address, recipient.notify, recipient.orcpt});
    outcomes.push_back(Outcome::Queued);
  }
  if (!local.empty()) {
    // RFC 5321 §4.4: final delivery records the envelope sender.
    auto delivered = deliver_local("Return-Path: <" + envelope.mail_from + ">\r\n" + message, local,
                                   origin, envelope);
    if (!delivered) return tl::unexpected(delivered.error());
  }
  if (!outbound.recipients.empty()) {
    auto queued = enqueue(std::move(message), outbound, envelope);
    if (!queued) return tl::unexpected(queued.error());
  }
  return outcomes;
}

Result<void> Delivery::deliver_local(std::string message,
                                     const std::vector<LocalRecipient>& recipients,
                                     const Origin& origin, const Envelope& envelope) {
  // One copy per account, for the first of its addresses the message came for.
  std::vector<LocalRecipient> unique;
  for (const LocalRecipient& recipient : recipients) {
    if (std::none_of(unique.begin(), unique.end(),
                     [&](const auto& seen) { return seen.account == recipient.account; })) {
      unique.push_back(recipient);
    }
  }
  struct Placed {
    const LocalRecipient* recipient;
    std::optional<store::Account> owner;  // read once: the script, the trail, what follows
    Disposition disposition;
    std::vector<store::DeliveryTarget> targets;
    std::vector<std::string> mailboxes;  // their names, for the audit trail
  };
  std::vector<Placed> placed;
  for (const LocalRecipient& recipient : unique) {
    auto owner = store_.get_account(recipient.account);
    Placed& one = placed.emplace_back(
        Placed{&recipient, owner ? std::optional(std::move(*owner)) : std::nullopt, Disposition{}});
    one.disposition =
        dispose(recipient, one.owner ? one.owner->address : std::string(), message, envelope);
    for (const Disposition::Copy& copy : one.disposition.copies) {
      auto chosen = store_.find_mailbox(recipient.account, copy.mailbox);
      if (!chosen && chosen.error().code == Errc::NotFound && copy.create) {
        chosen = store_.create_mailbox(recipient.account, copy.mailbox);
        if (!chosen && chosen.error().code == Errc::Exists) {
          chosen = store_.find_mailbox(recipient.account, copy.mailbox);
        }
      }
      // RFC 5228 section 4.1: a mailbox that cannot be used is the keep instead.
      if (!chosen &&
          (chosen.error().code == Errc::NotFound || chosen.error().code == Errc::BadInput) &&
          copy.mailbox != "INBOX") {
        log::info("delivery: no mailbox \"" + copy.mailbox + "\" for " + recipient.address +
                  ", into INBOX");
        chosen = store_.find_mailbox(recipient.account, "INBOX");
      }
      if (!chosen) return tl::unexpected(chosen.error());
      if (std::any_of(one.targets.begin(), one.targets.end(),
                      [&](const auto& target) { return target.mailbox == chosen->id; })) {
        continue;
      }
      one.targets.push_back({recipient.account, chosen->id, copy.flags});
      one.mailboxes.push_back(chosen->name);
    }
  }
  // The unedited message: every copy in one commit. A message a script edited: its own.
  std::vector<store::DeliveryTarget> shared;
  for (const Placed& one : placed) {
    if (!one.disposition.edited)
      shared.insert(shared.end(), one.targets.begin(), one.targets.end());
  }
  std::size_t stored = 0;
  const std::size_t size = message.size();
  // The message moves into the store's form; what follows reads it there.
  store::NewMessage prepared = prepare_message(std::move(message));
  const std::string& raw = prepared.raw;
  if (!shared.empty()) {
    auto delivered = store_.deliver(prepared, shared);
    if (!delivered) return tl::unexpected(delivered.error());
    stored += delivered->size();
  }
  for (const Placed& one : placed) {
    if (!one.disposition.edited || one.targets.empty()) continue;
    auto delivered = store_.deliver(prepare_message(*one.disposition.edited), one.targets);
    if (!delivered) return tl::unexpected(delivered.error());
    stored += delivered->size();
  }
  static metrics::Metric& count = metrics::get(
      "rampart_local_deliveries_total", metrics::Type::Counter, "Messages put in local mailboxes.");
  count.add(static_cast<std::int64_t>(stored));
  for (const Placed& one : placed) {
    // What a script did shows in the log too (the audit record has it as well).
    if (!one.disposition.summary.empty()) {
      log::info("delivery: " + one.recipient->address + ": " + one.disposition.summary);
    }
    if (!one.owner) continue;
    const store::Account& owner = *one.owner;
    std::string mailboxes;
    for (const std::string& name : one.mailboxes) {
      mailboxes += (mailboxes.empty() ? "" : ", ") + name;
    }
    if (trail_) {
      trail_->record(
          {.kind = audit::kDelivery,
           .account = owner.address,
           .actor = origin.actor,
           .address = origin.address,
           .protocol = origin.protocol,
           .mailbox = mailboxes,
           .count = static_cast<std::int64_t>(one.targets.size()),
           .detail = origin.detail + " to <" + owner.address + ">, " + std::to_string(size) +
                     " bytes" +
                     (one.disposition.summary.empty() ? "" : ", " + one.disposition.summary)});
    }
    follow_up(owner, *one.recipient, one.disposition, raw, envelope);
  }
  return {};
}

std::string Delivery::arc_seal(std::string_view message, const Envelope& envelope) {
  const auto keys = keys_ ? keys_->keys(envelope.arc_sealer) : std::vector<dkim::Key>{};
  if (keys.empty()) return {};
  // RSA where there is one: what every ARC validator checks.
  const auto key = std::find_if(keys.begin(), keys.end(), [](const dkim::Key& candidate) {
    return candidate.algorithm == dkim::Algorithm::Rsa;
  });
  // Not checked (LMTP, checks off): the sealer records that it found nothing.
  const std::string results =
      envelope.auth_results.empty() ? envelope.arc_sealer + "; none" : envelope.auth_results;
  return dkim::seal_arc(
      message, envelope.arc_sealer, key != keys.end() ? *key : keys.front(), results,
      envelope.arc_passed ? dkim::ArcVerdict::Result::Pass : dkim::ArcVerdict::Result::None,
      unix_seconds());
}

Result<void> Delivery::enqueue(std::string message, const store::QueueEntry& entry,
                               const Envelope& envelope) {
  if (keys_) {
    // RFC 6376: the signing domain is the From address's (DMARC aligns on it).
    const auto from = mime::find_header(mime::header_block(message), "From");
    const auto authors =
        from.size() == 1 ? mime::parse_address_list(from.front()) : std::vector<mime::Address>{};
    const std::string domain = authors.empty() ? std::string() : lowercase(authors.front().domain);
    auto ours = domain.empty() ? Result<bool>(false) : is_local_domain(domain);
    const auto keys = ours && *ours ? keys_->keys(domain) : std::vector<dkim::Key>{};
    if (!keys.empty()) message = dkim::sign(message, domain, keys, unix_seconds()) + message;
    if (!envelope.arc_sealer.empty()) message = arc_seal(message, envelope) + message;
  }
  auto queued = store_.enqueue(prepare_message(std::move(message)), entry);
  if (!queued) return tl::unexpected(queued.error());
  static metrics::Metric& count = metrics::get("rampart_queued_total", metrics::Type::Counter,
                                               "Messages put in the outbound queue.");
  count.add();
  if (on_queued_) on_queued_();
  return {};
}

}  // namespace rampart::delivery
