// The embedded store's roles (src/store/store.h), one class each over the shared
// Database; each is implemented in the file named beside it.
#pragma once

#include "store/sqlite/database_internal.h"
#include "store/store.h"

namespace rampart::store::sqlite {

// Domains, accounts, app passwords, aliases, quota and usage: sqlite/directory_store.cc.
class SqliteDirectoryStore : public virtual DirectoryStore {
 public:
  explicit SqliteDirectoryStore(Database& database) : db_(database) {}

  Result<void> add_domain(std::string_view name) override;
  Result<void> remove_domain(std::string_view name) override;
  Result<std::vector<Domain>> list_domains() override;
  Result<bool> has_domain(std::string_view name) override;
  Result<Account> add_account(std::string_view address, std::string_view password_hash) override;
  Result<Account> find_account(std::string_view address) override;
  Result<Account> get_account(AccountId id) override;
  Result<std::vector<Account>> list_accounts(std::string_view domain) override;
  Result<void> set_password_hash(AccountId id, std::string_view password_hash) override;
  Result<void> set_quota(AccountId id, std::uint64_t quota_bytes) override;
  Result<Usage> usage(AccountId id) override;
  Result<void> add_app_password(AccountId id, const AppPassword& password) override;
  Result<std::vector<AppPassword>> list_app_passwords(AccountId id) override;
  Result<void> remove_app_password(AccountId id, std::string_view name) override;
  Result<AppPassword> find_app_password(AccountId id, std::string_view secret_hash) override;
  Result<Account> find_app_password_owner(std::string_view secret_hash) override;
  Result<void> remove_account(AccountId id) override;
  Result<void> add_alias(std::string_view address, std::string_view target) override;
  Result<void> remove_alias(std::string_view address) override;
  Result<std::vector<Alias>> list_aliases(std::string_view domain) override;
  Result<std::optional<Alias>> find_alias(std::string_view address) override;

 private:
  Database& db_;
};

// Mailboxes, messages, flags, threads and the change log: sqlite/mail_store.cc.
class SqliteMailStore : public virtual MailStore {
 public:
  explicit SqliteMailStore(Database& database) : db_(database) {}

  Result<std::vector<Mailbox>> list_mailboxes(AccountId account) override;
  Result<Mailbox> find_mailbox(AccountId account, std::string_view name) override;
  Result<Mailbox> create_mailbox(AccountId account, std::string_view name, Role role) override;
  Result<void> rename_mailbox(MailboxId id, std::string_view new_name) override;
  Result<void> delete_mailbox(MailboxId id) override;
  Result<void> set_subscribed(MailboxId id, bool subscribed) override;
  Result<void> subscribe_name(AccountId account, std::string_view name, bool subscribed) override;
  Result<std::vector<std::string>> orphan_subscriptions(AccountId account) override;
  Result<std::vector<Appended>> deliver(const NewMessage& message,
                                        const std::vector<DeliveryTarget>& targets) override;
  Result<std::vector<Appended>> append_messages(MailboxId mailbox,
                                                const std::vector<NewMessage>& messages) override;
  Result<MailboxSnapshot> snapshot(MailboxId id) override;
  Result<MailboxChanges> mailbox_changes(MailboxId id, ModSeq since) override;
  Result<std::vector<MessageMeta>> get_messages(MailboxId mailbox,
                                                const std::vector<Uid>& uids) override;
  Result<std::string> read_structure(MessageId id) override;
  Result<std::vector<std::string>> read_structures(const std::vector<MessageId>& ids) override;
  Result<std::vector<MessageMeta>> account_messages(AccountId account) override;
  Result<std::vector<MessageMeta>> blob_messages(AccountId account,
                                                 std::string_view blob_id) override;
  Result<std::vector<MessageMeta>> find_messages(AccountId account,
                                                 const std::vector<MessageId>& ids) override;
  Result<std::vector<MessageMeta>> thread_messages(AccountId account,
                                                   const std::vector<ThreadId>& threads) override;
  Result<FlagResult> change_flags(MailboxId mailbox_id, const std::vector<Uid>& uids,
                                  const FlagChange& change) override;
  Result<std::vector<Appended>> copy_messages(MailboxId from, const std::vector<Uid>& uids,
                                              MailboxId to) override;
  Result<std::vector<Appended>> move_messages(MailboxId from, const std::vector<Uid>& uids,
                                              MailboxId to) override;
  Result<std::vector<Uid>> expunge(MailboxId mailbox_id, const std::vector<Uid>& uids) override;
  Result<ChangeSet> changes_since(AccountId account, ModSeq since) override;
  ChangeBus& change_bus() override;

 private:
  Database& db_;
};

// Blob bytes and JMAP uploads: sqlite/blob_store.cc.
class SqliteBlobStore : public virtual BlobStore {
 public:
  explicit SqliteBlobStore(Database& database) : db_(database) {}

  Result<std::string> read_blob(std::string_view blob_id) override;
  Result<std::vector<std::uint64_t>> crlf_sizes(const std::vector<std::string>& blob_ids) override;
  Result<Upload> add_upload(AccountId account, std::string_view bytes,
                            std::string_view type) override;
  Result<Upload> find_blob(AccountId account, std::string_view blob_id) override;

 private:
  Database& db_;
};

// The outbound queue: sqlite/queue_store.cc.
class SqliteQueueStore : public virtual QueueStore {
 public:
  explicit SqliteQueueStore(Database& database) : db_(database) {}

  Result<QueueEntry> enqueue(const NewMessage& message, const QueueEntry& entry) override;
  Result<std::vector<QueueEntry>> list_queue() override;
  Result<DueQueue> due_queue(std::int64_t now, std::size_t limit,
                             const std::vector<std::int64_t>& skip) override;
  Result<QueueEntry> get_queue_entry(std::int64_t id) override;
  Result<void> hold_queue_entry(std::int64_t id, bool held) override;
  Result<std::size_t> retry_queue(std::int64_t id) override;
  Result<void> remove_queue_entry(std::int64_t id) override;
  Result<void> record_recipients(std::int64_t id, const std::vector<std::size_t>& positions,
                                 const std::vector<QueuedRecipient>& recipients) override;
  Result<void> reschedule(std::int64_t id, int attempts, std::int64_t next_attempt,
                          bool delay_reported) override;
  Result<void> add_tls_results(const std::vector<TlsResult>& results) override;
  Result<std::vector<TlsResult>> tls_results_before(std::int64_t before,
                                                    std::size_t limit) override;
  Result<void> remove_tls_results(std::int64_t period, const std::string& domain) override;

 private:
  Database& db_;
};

// Per-account records (JMAP objects): sqlite/object_store.cc.
class SqliteObjectStore : public virtual ObjectStore {
 public:
  explicit SqliteObjectStore(Database& database) : db_(database) {}

  Result<StoredObject> put_object(AccountId account, std::string_view type, std::int64_t id,
                                  std::string_view data) override;
  Result<void> destroy_object(AccountId account, std::string_view type, std::int64_t id) override;
  Result<std::vector<StoredObject>> list_objects(AccountId account, std::string_view type,
                                                 ModSeq since) override;

 private:
  Database& db_;
};

// Calendars and address books: sqlite/dav_store.cc.
class SqliteDavStore : public virtual DavStore {
 public:
  explicit SqliteDavStore(Database& database) : db_(database) {}

  Result<std::vector<DavCollection>> list_collections(AccountId account,
                                                      CollectionKind kind) override;
  Result<DavCollection> find_collection(AccountId account, CollectionKind kind,
                                        std::string_view name) override;
  Result<DavCollection> create_collection(const DavCollection& collection) override;
  Result<DavCollection> update_collection(const DavCollection& collection) override;
  Result<void> delete_collection(CollectionId id) override;
  Result<DavPut> put_dav_object(CollectionId collection, std::string_view name,
                                std::string_view uid, std::string_view data, const DavIndex& index,
                                const DavCondition& condition) override;
  Result<bool> delete_dav_object(CollectionId collection, std::string_view name,
                                 const std::optional<std::string>& if_match) override;
  Result<std::vector<DavObject>> get_dav_objects(CollectionId collection,
                                                 const std::vector<std::string>& names,
                                                 bool with_data) override;
  Result<std::vector<DavObject>> dav_objects_in_range(CollectionId collection, std::int64_t start,
                                                      std::int64_t end) override;
  Result<std::optional<DavObject>> find_dav_uid(AccountId account, CollectionKind kind,
                                                std::string_view uid) override;
  Result<DavChanges> dav_changes(CollectionId collection, ModSeq since) override;

 private:
  Database& db_;
};

}  // namespace rampart::store::sqlite
