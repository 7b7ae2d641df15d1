#include "delivery/delivery.h"

#include <algorithm>

#include "base/ascii.h"
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

Result<std::vector<store::Appended>> Delivery::deliver_local(
    std::string message, const std::vector<store::AccountId>& accounts) {
  std::vector<store::AccountId> unique = accounts;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<store::DeliveryTarget> targets;
  for (store::AccountId account : unique) {
    auto inbox = store_.find_mailbox(account, "INBOX");
    if (!inbox) return tl::unexpected(inbox.error());
    targets.push_back({account, inbox->id});
  }
  return store_.deliver(prepare_message(std::move(message)), targets);
}

Result<store::QueueEntry> Delivery::enqueue(std::string message, const store::QueueEntry& entry) {
  return store_.enqueue(prepare_message(std::move(message)), entry);
}

}  // namespace rampart::delivery
