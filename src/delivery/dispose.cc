// What an account's rules do with a message delivered to it: its active Sieve script
// run over the message (sieve/interpreter.h is pure; here its actions meet the store,
// the directory and the outbound queue), and the JMAP vacation answer.
#include <algorithm>

#include "base/address.h"
#include "base/ascii.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/sha256.h"
#include "delivery/delivery.h"
#include "delivery/dsn.h"
#include "delivery/sieve_scripts.h"
#include "delivery/vacation.h"
#include "directory/directory.h"
#include "mime/header.h"
#include "sieve/interpreter.h"

namespace rampart::delivery {
namespace {

constexpr char kDuplicateType[] = "SieveDuplicate";
// Duplicate ids an account remembers (RFC 7352); past this, the oldest is forgotten.
constexpr std::size_t kMaxDuplicateIds = 1000;
constexpr std::size_t kMaxRedirectsPerHour = 100;
// Senders an account remembers having answered (vacation, RFC 3834 section 2).
constexpr std::size_t kMaxRepliedSenders = 10000;
// A redirected copy says who redirected it; a message that already passed an account's
// redirect is not redirected by it again (a loop between two scripts ends at once).
constexpr char kRedirectedField[] = "X-Sieve-Redirected-From";

metrics::Metric& sieve_actions(std::string_view action) {
  return metrics::get("rampart_sieve_actions_total", metrics::Type::Counter,
                      "Actions Sieve scripts took on delivered messages, by action.",
                      "action=\"" + std::string(action) + "\"");
}

std::string duplicate_key(std::string_view handle, std::string_view id) {
  return sha256_hex(std::string(handle) + '\n' + std::string(id));
}

// A duplicate record's data: "<until> <key>".
std::pair<std::int64_t, std::string> duplicate_record(std::string_view data) {
  const auto space = data.find(' ');
  if (space == std::string_view::npos) return {0, ""};
  return {std::atoll(std::string(data.substr(0, space)).c_str()),
          std::string(data.substr(space + 1))};
}

// The account's JMAP VacationResponse as an answer, when it is on.
std::optional<AutoReply> vacation_response(store::ObjectStore& store, store::AccountId account,
                                           std::int64_t now) {
  auto settings = store.list_objects(account, kVacationType);
  if (!settings || settings->empty()) return std::nullopt;
  const Vacation vacation = vacation_from_json(settings->front().data);
  if (!vacation_active(vacation, now)) return std::nullopt;
  AutoReply reply = reply_of(vacation);
  reply.since = settings->front().modseq;
  return reply;
}

}  // namespace

Disposition Delivery::dispose(const LocalRecipient& recipient, std::string_view owner,
                              const std::string& message, const Envelope& envelope) {
  Disposition out;
  const Disposition::Copy keep{.mailbox = envelope.mailbox, .create = false, .flags = {}};
  const std::int64_t now = unix_seconds();
  SieveScripts scripts(store_);
  auto active = scripts.active(recipient.account);
  std::optional<sieve::Script> script;
  if (!active) {
    log::warn("delivery: cannot read the Sieve script of " + recipient.address + ": " +
              active.error().detail);
  } else if (*active) {
    auto parsed = sieve::parse_script((*active)->content);
    if (parsed) {
      script = std::move(*parsed);
    } else {
      log::warn("delivery: the Sieve script of " + recipient.address +
                " no longer parses: " + parsed.error().detail);
    }
  }
  if (!script) {
    out.copies.push_back(keep);
  } else {
    sieve::Input input{.message = message,
                       .envelope_from = envelope.mail_from,
                       .envelope_to = recipient.address,
                       .recipient_addresses = {recipient.address},
                       .spam_score = envelope.spam_score,
                       .spam_percent = envelope.spam_percent,
                       .virus_score = envelope.virus_score,
                       .now = now,
                       .zone_minutes = 0};
    if (!owner.empty() && owner != recipient.address) {
      input.recipient_addresses.emplace_back(owner);
    }
    std::optional<std::vector<store::StoredObject>> seen;  // read once, if asked
    sieve::Callbacks callbacks;
    callbacks.mailbox_exists = [&](std::string_view name) {
      return store_.find_mailbox(recipient.account, name).has_value();
    };
    callbacks.fetch_include = [&](sieve::IncludeLocation location,
                                  std::string_view name) -> std::optional<std::string> {
      if (location != sieve::IncludeLocation::Personal) return std::nullopt;  // none global
      auto included = scripts.get(recipient.account, name);
      if (!included) return std::nullopt;
      return included->content;
    };
    callbacks.duplicate_seen = [&](const sieve::DuplicateQuery& query) {
      if (!seen) {
        auto records = store_.list_objects(recipient.account, kDuplicateType);
        seen = records ? std::move(*records) : std::vector<store::StoredObject>{};
      }
      const std::string key = duplicate_key(query.handle, query.id);
      return std::any_of(seen->begin(), seen->end(), [&](const store::StoredObject& record) {
        const auto [until, stored_key] = duplicate_record(record.data);
        return stored_key == key && until > now;
      });
    };
    const sieve::Outcome outcome = sieve::run_script(*script, input, callbacks);
    if (outcome.error) {
      log::warn("delivery: the Sieve script of " + recipient.address +
                " failed: " + *outcome.error + "; kept");
      out.summary = "sieve error, kept";
    }
    out.edited = outcome.edited_message;
    for (const sieve::DuplicateQuery& query : outcome.duplicates) {
      out.duplicates.emplace_back(duplicate_key(query.handle, query.id),
                                  static_cast<std::int64_t>(query.seconds) * (query.last ? -1 : 1));
    }
    std::vector<std::string> done;
    for (const sieve::Action& action : outcome.actions) {
      using Kind = sieve::Action::Kind;
      switch (action.kind) {
        case Kind::Keep:
          out.copies.push_back(
              {.mailbox = envelope.mailbox,
               .create = false,
               .flags = action.flags.empty() ? std::nullopt : std::optional(action.flags)});
          done.push_back("keep");
          break;
        case Kind::Fileinto:
          out.copies.push_back(
              {.mailbox = action.mailbox,
               .create = action.create,
               .flags = action.flags.empty() ? std::nullopt : std::optional(action.flags)});
          done.push_back("fileinto " + action.mailbox);
          break;
        case Kind::Redirect:
          out.redirects.push_back(lowercase(action.address));
          if (action.copy) done.push_back("redirect :copy " + action.address);
          if (!action.copy) done.push_back("redirect " + action.address);
          break;
        case Kind::Reject:
        case Kind::Ereject:
          out.refusal = action.reason;
          done.push_back("reject");
          break;
        case Kind::Discard:
          done.push_back("discard");
          break;
        case Kind::Vacation: {
          AutoReply reply;
          reply.handle = "sieve:" + action.handle;
          reply.interval =
              std::max<std::int64_t>(static_cast<std::int64_t>(action.days), 1) * 86400;
          reply.addresses = action.addresses;
          reply.from = action.from.value_or("");
          reply.subject = action.subject;
          if (action.mime) {
            reply.mime_body = action.reason;
          } else {
            reply.text_body = action.reason;
          }
          reply.since = (*active)->modseq;
          out.reply = std::move(reply);
          done.push_back("vacation");
          break;
        }
      }
      sieve_actions(done.back().substr(0, done.back().find(' '))).add();
    }
    // The interpreter gives no action for discard: no copy and nothing else is one.
    if (!outcome.error && out.copies.empty() && out.redirects.empty() && !out.refusal &&
        std::none_of(done.begin(), done.end(),
                     [](const std::string& step) { return step == "discard"; })) {
      done.push_back("discard");
      sieve_actions("discard").add();
    }
    if (!outcome.error) {
      for (const std::string& step : done)
        out.summary += (out.summary.empty() ? "sieve: " : ", ") + step;
    }
  }
  return out;
}

bool Delivery::allow_redirect(store::AccountId account) {
  const std::int64_t now = unix_seconds();
  std::lock_guard lock(redirects_mutex_);
  std::vector<std::int64_t>& times = redirect_times_[account];
  std::erase_if(times, [&](std::int64_t at) { return now - at >= 3600; });
  if (times.size() >= kMaxRedirectsPerHour) return false;
  times.push_back(now);
  return true;
}

void Delivery::follow_up(const store::Account& owner, const LocalRecipient& recipient,
                         const Disposition& disposition, const std::string& message,
                         const Envelope& envelope) {
  const std::string& delivered = disposition.edited ? *disposition.edited : message;
  const std::string_view header = mime::header_block(delivered);
  const std::int64_t now = unix_seconds();

  for (const std::string& address : disposition.redirects) {
    bool looped = false;
    for (std::string_view value : mime::find_header(header, kRedirectedField)) {
      looped |= lowercase(mime::decode_text(value)) == owner.address;
    }
    if (looped || address == lowercase(envelope.mail_from) || !allow_redirect(owner.id)) {
      log::warn("delivery: redirect of " + owner.address + " to " + address + " not made (" +
                (looped                                     ? "a loop"
                 : address == lowercase(envelope.mail_from) ? "back to the sender"
                                                            : "over the hourly limit") +
                ")");
      continue;
    }
    // The copy keeps the envelope sender (a failure goes back to who wrote it; a bounce
    // stays from the null sender, so nothing answers it) and drops our Return-Path.
    std::string_view body = delivered;
    if (body.starts_with("Return-Path:"))
      body.remove_prefix(std::min(body.find("\r\n") + 2, body.size()));
    Envelope forward{.mail_from = envelope.mail_from,
                     .recipients = {{.address = address}},
                     .ret = {},
                     .envid = {}};
    // RFC 8617: forwarding breaks SPF (and often DKIM); the seal vouches for what this
    // server found when the message arrived.
    forward.auth_results = envelope.auth_results;
    forward.arc_passed = envelope.arc_passed;
    forward.arc_sealer = std::string(domain_of(owner.address));
    auto sent = submit(
        forward, std::string(kRedirectedField) + ": " + owner.address + "\r\n" + std::string(body),
        {.protocol = "sieve",
         .actor = owner.address,
         .address = {},
         .detail = "redirect by " + owner.address + " to <" + address + ">"},
        owner.id);
    if (!sent) log::warn("delivery: redirect to " + address + ": " + sent.error().detail);
  }

  if (disposition.refusal && !envelope.mail_from.empty()) {
    // RFC 5429 section 2.1: refused after the message was accepted, the sender hears
    // it in a delivery status notification.
    const auto at = owner.address.rfind('@');
    const Dsn report{.reporting_mta = owner.address.substr(at + 1),
                     .to = envelope.mail_from,
                     .envid = envelope.envid,
                     .arrival = now,
                     .now = now,
                     .retry_until = 0,
                     .headers_only = true,
                     .recipients = {{.address = recipient.address,
                                     .orcpt = {},
                                     .action = DsnRecipient::Action::Failed,
                                     .status = "5.7.1",
                                     .remote_mta = {},
                                     .diagnostic = "550 5.7.1 " + *disposition.refusal}}};
    const Envelope bounce{.mail_from = "", .recipients = {{.address = envelope.mail_from}}};
    auto sent = submit(bounce, make_dsn(report, message),
                       {.protocol = "dsn",
                        .actor = {},
                        .address = {},
                        .detail = "Sieve reject by " + owner.address},
                       0);
    if (!sent)
      log::warn("delivery: reject report to " + envelope.mail_from + ": " + sent.error().detail);
  }

  if (!envelope.mail_from.empty() && envelope.mailbox == "INBOX" &&
      may_auto_reply(envelope.mail_from, header)) {
    std::optional<AutoReply> reply = disposition.reply;
    // The JMAP VacationResponse answers what the script did not (and what it did not
    // refuse or throw away).
    if (!reply && !disposition.refusal && !disposition.copies.empty()) {
      reply = vacation_response(store_, owner.id, now);
    }
    if (reply) answer(owner, *reply, envelope.mail_from, header);
  }

  if (!disposition.duplicates.empty()) {
    auto records = store_.list_objects(owner.id, kDuplicateType);
    if (!records) return;
    for (const auto& [key, period] : disposition.duplicates) {
      // A negative period is :last: it counts from this delivery even if seen before.
      std::int64_t id = 0, oldest_until = INT64_MAX, oldest = 0;
      bool current = false;
      for (const store::StoredObject& record : *records) {
        const auto [until, stored_key] = duplicate_record(record.data);
        if (stored_key == key) {
          id = record.id;
          current = until > now;
        } else if (until <= now && id == 0) {
          id = record.id;  // an expired record is reused
        }
        if (until < oldest_until) oldest_until = until, oldest = record.id;
      }
      if (current && period > 0) continue;
      if (id == 0 && records->size() >= kMaxDuplicateIds) id = oldest;
      const std::int64_t until = now + (period < 0 ? -period : period);
      auto kept =
          store_.put_object(owner.id, kDuplicateType, id, std::to_string(until) + " " + key);
      if (kept && id == 0) records->push_back(*kept);
    }
  }
}

// Best effort: the delivery has succeeded whatever happens here.
void Delivery::answer(const store::Account& owner, const AutoReply& reply,
                      std::string_view envelope_sender, std::string_view header) {
  const std::int64_t now = unix_seconds();
  const std::string sender = lowercase(envelope_sender);
  if (owner.address == sender) return;
  // Only mail addressed to the account, not mail it got as a Bcc or through a list
  // (RFC 3834 section 2, RFC 5230 section 4.5).
  bool addressed = false;
  for (const char* field : {"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"}) {
    for (auto value : mime::find_header(header, field)) {
      for (const auto& address : mime::parse_address_list(value)) {
        if (address.kind != mime::Address::Kind::Mailbox) continue;
        const std::string spec = lowercase(mime::address_spec(address));
        addressed |= directory_.owns(spec, owner.id) ||
                     std::any_of(reply.addresses.begin(), reply.addresses.end(),
                                 [&](const std::string& extra) { return iequals(extra, spec); });
      }
    }
  }
  if (!addressed) return;
  // Once per sender and handle per interval: one record each, its time replaced.
  const std::string key = reply.handle == "jmap-vacation" ? sender : sender + " " + reply.handle;
  auto replied = store_.list_objects(owner.id, kVacationRepliedType);
  if (!replied) return;
  std::int64_t record = 0, oldest = 0, oldest_time = INT64_MAX;
  for (const auto& entry : *replied) {
    const auto space = entry.data.find(' ');
    const std::int64_t last = std::atoll(entry.data.substr(0, space).c_str());
    if (last < oldest_time) oldest_time = last, oldest = entry.id;
    if (space == std::string::npos || entry.data.substr(space + 1) != key) continue;
    record = entry.id;
    // Answered since the setting last changed, and within the interval: not again.
    if (now - last < reply.interval && entry.modseq > reply.since) return;
  }
  // Past kMaxRepliedSenders the oldest record is reused: a flood of senders cannot make
  // the account keep more (that one sender may then be answered again early).
  if (record == 0 && replied->size() >= kMaxRepliedSenders) record = oldest;
  if (!store_.put_object(owner.id, kVacationRepliedType, record, std::to_string(now) + " " + key)) {
    return;
  }
  // :from only when the account may send as it.
  const std::string from = !reply.from.empty() && directory_.owns(lowercase(reply.from), owner.id)
                               ? reply.from
                               : owner.address;
  // From the null sender (RFC 3834 section 3.3): nothing answers it in turn.
  auto sent = submit({.mail_from = "", .recipients = {{.address = sender}}, .ret = {}, .envid = {}},
                     auto_reply_message(reply, from, sender, header, now),
                     {.protocol = "vacation",
                      .actor = owner.address,
                      .address = {},
                      .detail = "vacation reply from " + owner.address},
                     owner.id);
  if (!sent) log::warn("vacation reply for " + owner.address + ": " + sent.error().detail);
}

}  // namespace rampart::delivery
