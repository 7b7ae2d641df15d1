#include "delivery/delivery.h"

#include <algorithm>

#include "base/ascii.h"
#include "mime/message.h"

namespace rampart::delivery {
namespace {

// Parsed once here; IMAP and JMAP serve ENVELOPE, BODYSTRUCTURE and Email/get from it.
store::NewMessage prepare(std::string message) {
  store::NewMessage prepared;
  prepared.structure = mime::encode_structure(mime::parse(message));
  prepared.raw = std::move(message);
  return prepared;
}

}  // namespace

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
  return store_.deliver(prepare(std::move(message)), targets);
}

Result<store::QueueEntry> Delivery::enqueue(std::string message, const store::QueueEntry& entry) {
  return store_.enqueue(prepare(std::move(message)), entry);
}

}  // namespace rampart::delivery
