// The embedded backend: SQLite (WAL) for metadata, one file per distinct message
// content for blobs. Writes go through the Committer (group commit); reads use a small
// pool of read-only connections, each read in one transaction (one snapshot), so
// readers never wait for the writer.
#include <algorithm>
#include <mutex>
#include <optional>
#include <type_traits>

#include "base/clock.h"
#include "base/sha256.h"
#include "store/names_internal.h"
#include "store/sqlite/blob_files_internal.h"
#include "store/sqlite/change_bus_internal.h"
#include "store/sqlite/committer_internal.h"
#include "store/sqlite/connection_internal.h"
#include "store/sqlite/schema_internal.h"
#include "store/store.h"

namespace rampart::store::sqlite {
namespace {

// Enough for the blocking pool's threads; a busier moment opens more and closes them.
constexpr std::size_t kMaxIdleReaders = 8;

constexpr std::string_view kSelectAccount =
    "SELECT id, address, password_hash, created, modseq, quota_bytes FROM accounts ";
constexpr std::string_view kSelectMailbox =
    "SELECT id, account, name, role, subscribed, uidvalidity, uidnext, highest_modseq, "
    "message_count, unseen_count, total_size FROM mailboxes ";
constexpr std::string_view kSelectMessage =
    "SELECT id, mailbox, uid, modseq, flags, internal_date, size, blob_id, thread FROM messages ";

std::string sql(std::string_view select, std::string_view rest) {
  return std::string(select) + std::string(rest);
}

Account account_from(const Query& row) {
  return {.id = row.get<AccountId>(0),
          .address = row.get<std::string>(1),
          .password_hash = row.get<std::string>(2),
          .created = row.get<std::int64_t>(3),
          .modseq = row.get<ModSeq>(4),
          .quota_bytes = row.get<std::uint64_t>(5)};
}

Mailbox mailbox_from(const Query& row) {
  return {.id = row.get<MailboxId>(0),
          .account = row.get<AccountId>(1),
          .name = row.get<std::string>(2),
          .role = static_cast<Role>(row.get<int>(3)),
          .subscribed = row.get<bool>(4),
          .uidvalidity = row.get<std::uint32_t>(5),
          .uidnext = row.get<Uid>(6),
          .highest_modseq = row.get<ModSeq>(7),
          .message_count = row.get<std::uint32_t>(8),
          .unseen_count = row.get<std::uint32_t>(9),
          .total_size = row.get<std::uint64_t>(10)};
}

MessageMeta message_from(const Query& row) {
  return {.id = row.get<MessageId>(0),
          .mailbox = row.get<MailboxId>(1),
          .uid = row.get<Uid>(2),
          .modseq = row.get<ModSeq>(3),
          .flags = split_flags(row.get<std::string>(4)),
          .internal_date = row.get<std::int64_t>(5),
          .size = row.get<std::uint64_t>(6),
          .blob_id = row.get<std::string>(7),
          .thread = row.get<ThreadId>(8)};
}

Result<Account> load_account(Connection& connection, AccountId id) {
  Query query(connection, sql(kSelectAccount, "WHERE id = ?"), id);
  if (!query.next()) return fail(Errc::NotFound, "no such account");
  return account_from(query);
}

Result<Mailbox> load_mailbox(Connection& connection, MailboxId id) {
  Query query(connection, sql(kSelectMailbox, "WHERE id = ?"), id);
  if (!query.next()) return fail(Errc::NotFound, "no such mailbox");
  return mailbox_from(query);
}

bool mailbox_exists(Connection& connection, AccountId account, std::string_view name) {
  return Query(connection, "SELECT 1 FROM mailboxes WHERE account = ? AND name = ?", account, name)
      .next();
}

// The mailbox's messages with the given UIDs, ascending; absent UIDs are skipped.
std::vector<MessageMeta> load_messages(Connection& connection, MailboxId mailbox,
                                       std::vector<Uid> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  std::vector<MessageMeta> messages;
  if (uids.size() <= 16) {
    for (Uid uid : uids) {
      Query query(connection, sql(kSelectMessage, "WHERE mailbox = ? AND uid = ?"), mailbox, uid);
      if (query.next()) messages.push_back(message_from(query));
    }
    return messages;
  }
  // Many UIDs (FETCH 1:*): one range scan beats a lookup per UID.
  Query query(connection,
              sql(kSelectMessage, "WHERE mailbox = ? AND uid BETWEEN ? AND ? ORDER BY uid"),
              mailbox, uids.front(), uids.back());
  while (query.next()) {
    if (std::binary_search(uids.begin(), uids.end(), query.get<Uid>(2))) {
      messages.push_back(message_from(query));
    }
  }
  return messages;
}

bool is_seen(const Flags& flags) {
  return std::binary_search(flags.begin(), flags.end(), "\\Seen");
}

Flags apply(FlagOperation operation, const Flags& current, const Flags& given) {
  Flags out;
  switch (operation) {
    case FlagOperation::Add:
      std::set_union(current.begin(), current.end(), given.begin(), given.end(),
                     std::back_inserter(out));
      break;
    case FlagOperation::Remove:
      std::set_difference(current.begin(), current.end(), given.begin(), given.end(),
                          std::back_inserter(out));
      break;
    case FlagOperation::Replace:
      out = given;
      break;
  }
  return out;
}

// The domain of local@domain, or of @domain (a catch-all); empty if there is none.
std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

// ---- writes, on the committer thread ----

MailboxId insert_mailbox(Transaction& transaction, AccountId account, std::string_view name,
                         Role role, bool subscribed) {
  Connection& connection = transaction.connection();
  // Time-based (RFC 3501 §2.3.1.1 suggests it) yet strictly increasing across the
  // store, so a mailbox re-created under an old name never repeats a UIDVALIDITY.
  Query uidvalidity(connection,
                    "UPDATE store_state SET last_uidvalidity = max(last_uidvalidity + 1, ?) "
                    "RETURNING last_uidvalidity",
                    unix_seconds());
  uidvalidity.next();
  const ModSeq modseq = transaction.modseq(account);
  Query insert(connection,
               "INSERT INTO mailboxes (account, name, role, subscribed, uidvalidity, uidnext, "
               "highest_modseq) VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING id",
               account, name, static_cast<int>(role), subscribed, uidvalidity.get<std::uint32_t>(0),
               modseq);
  insert.next();
  const auto id = insert.get<MailboxId>(0);
  transaction.record(account, ChangeKind::MailboxCreated, id);
  return id;
}

void create_parents(Transaction& transaction, AccountId account, std::string_view name) {
  for (const auto& parent : mailbox_parents(name)) {
    if (!mailbox_exists(transaction.connection(), account, parent)) {
      insert_mailbox(transaction, account, parent, Role::None, false);
    }
  }
}

// `name` is normalized.
Result<Mailbox> create_mailbox_in(Transaction& transaction, AccountId account,
                                  std::string_view name, Role role, bool subscribed) {
  create_parents(transaction, account, name);
  if (mailbox_exists(transaction.connection(), account, name)) {
    return fail(Errc::Exists, "mailbox exists");
  }
  return load_mailbox(transaction.connection(),
                      insert_mailbox(transaction, account, name, role, subscribed));
}

Usage load_usage(Connection& connection, AccountId account) {
  Query query(connection,
              "SELECT coalesce(sum(total_size), 0), coalesce(sum(message_count), 0) "
              "FROM mailboxes WHERE account = ?",
              account);
  query.next();
  return {.bytes = query.get<std::uint64_t>(0), .messages = query.get<std::uint64_t>(1)};
}

// OverQuota when `adding` more bytes would take the mailbox's account past its quota.
Result<void> check_quota(Connection& connection, MailboxId mailbox, std::uint64_t adding) {
  Query owner(connection,
              "SELECT a.id, a.quota_bytes FROM mailboxes m JOIN accounts a ON a.id = m.account "
              "WHERE m.id = ?",
              mailbox);
  if (!owner.next()) return fail(Errc::NotFound, "no such mailbox");
  const auto quota = owner.get<std::uint64_t>(1);
  if (quota == 0) return {};
  if (load_usage(connection, owner.get<AccountId>(0)).bytes + adding > quota) {
    return fail(Errc::OverQuota, "over quota");
  }
  return {};
}

// The stored description of a new message, before it has an id, mailbox or UID.
Result<MessageMeta> meta_of(const NewMessage& message) {
  auto flags = normalize_flags(message.flags);
  if (!flags) return tl::unexpected(flags.error());
  return MessageMeta{
      .flags = std::move(*flags),
      .internal_date = message.internal_date ? message.internal_date : unix_seconds(),
      .size = message.raw.size(),
      .blob_id = sha256_hex(message.raw)};
}

// The thread a new message of `account` joins: that of the first of its ids the account
// knows (a parent, or its own id named by a reply that came first), else its own new
// thread `fresh`. Its ids then lead to that thread.
ThreadId assign_thread(Connection& connection, AccountId account, const NewMessage& message,
                       ThreadId fresh) {
  std::vector<std::string_view> keys;
  if (!message.message_id.empty()) keys.push_back(message.message_id);
  for (const auto& parent : message.parent_ids) {
    if (!parent.empty()) keys.push_back(parent);
  }
  ThreadId thread = 0;
  for (std::string_view key : keys) {
    Query known(connection, "SELECT thread FROM thread_keys WHERE account = ? AND message_id = ?",
                account, key);
    if (known.next()) {
      thread = known.get<ThreadId>(0);
      break;
    }
  }
  if (thread == 0) thread = fresh;
  for (std::string_view key : keys) {
    Query(connection,
          "INSERT OR IGNORE INTO thread_keys (account, message_id, thread) VALUES (?, ?, ?)",
          account, key, thread)
        .run();
  }
  return thread;
}

// Adds a message like `source` (flags, date, size, blob, thread) to target.mailbox with
// the next UID. target.account 0 means whichever account owns the mailbox. `threading`:
// a new message's ids, from which its thread is found; without it the copy keeps the
// source's thread, or starts its own in another account.
Result<Appended> insert_message(Transaction& transaction, const DeliveryTarget& target,
                                const MessageMeta& source, const NewMessage* threading = nullptr) {
  Connection& connection = transaction.connection();
  AccountId account = 0;
  Uid uid = 0;
  {
    Query mailbox(connection,
                  "UPDATE mailboxes SET uidnext = uidnext + 1, message_count = message_count + 1, "
                  "unseen_count = unseen_count + ?, total_size = total_size + ? WHERE id = ? "
                  "RETURNING account, uidnext - 1",
                  is_seen(source.flags) ? 0 : 1, source.size, target.mailbox);
    if (!mailbox.next()) return fail(Errc::NotFound, "no such mailbox");
    account = mailbox.get<AccountId>(0);
    uid = mailbox.get<Uid>(1);
  }
  if (target.account != 0 && target.account != account) {
    return fail(Errc::NotFound, "mailbox belongs to another account");
  }
  const ModSeq modseq = transaction.modseq(account);
  bool same_account = false;
  if (!threading && source.mailbox != 0) {
    Query owner(connection, "SELECT account FROM mailboxes WHERE id = ?", source.mailbox);
    same_account = owner.next() && owner.get<AccountId>(0) == account;
  }
  Query insert(connection,
               "INSERT INTO messages (mailbox, uid, modseq, flags, internal_date, size, blob_id, "
               "thread) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
               target.mailbox, uid, modseq, join_flags(source.flags), source.internal_date,
               source.size, source.blob_id, same_account ? source.thread : 0);
  insert.next();
  const auto id = insert.get<MessageId>(0);
  ThreadId thread = same_account ? source.thread : id;
  if (threading) thread = assign_thread(connection, account, *threading, id);
  if (!same_account) {
    Query(connection, "UPDATE messages SET thread = ? WHERE id = ?", thread, id).run();
  }
  transaction.record(account, ChangeKind::MessageCreated, target.mailbox, id, uid, thread);
  return Appended{.id = id, .mailbox = target.mailbox, .uid = uid, .modseq = modseq};
}

void remove_message(Transaction& transaction, AccountId account, const MessageMeta& message) {
  Connection& connection = transaction.connection();
  Query(connection, "DELETE FROM messages WHERE id = ?", message.id).run();
  Query(connection,
        "UPDATE mailboxes SET message_count = message_count - 1, "
        "unseen_count = unseen_count - ?, total_size = total_size - ? WHERE id = ?",
        is_seen(message.flags) ? 0 : 1, message.size, message.mailbox)
      .run();
  transaction.record(account, ChangeKind::MessageDestroyed, message.mailbox, message.id,
                     message.uid, message.thread);
  transaction.release_blob(message.blob_id);
}

// Moves a message to another mailbox of its account, keeping its id: the next UID
// there, a new MODSEQ, the counts of both mailboxes adjusted.
Result<Appended> relocate_message(Transaction& transaction, AccountId account,
                                  const MessageMeta& message, MailboxId to) {
  Connection& connection = transaction.connection();
  const int unseen = is_seen(message.flags) ? 0 : 1;
  Query target(connection,
               "UPDATE mailboxes SET uidnext = uidnext + 1, message_count = message_count + 1, "
               "unseen_count = unseen_count + ?, total_size = total_size + ? WHERE id = ? "
               "RETURNING uidnext - 1",
               unseen, message.size, to);
  if (!target.next()) return fail(Errc::NotFound, "no such mailbox");
  const auto uid = target.get<Uid>(0);
  Query(connection,
        "UPDATE mailboxes SET message_count = message_count - 1, "
        "unseen_count = unseen_count - ?, total_size = total_size - ? WHERE id = ?",
        unseen, message.size, message.mailbox)
      .run();
  const ModSeq modseq = transaction.modseq(account);
  Query(connection, "UPDATE messages SET mailbox = ?, uid = ?, modseq = ? WHERE id = ?", to, uid,
        modseq, message.id)
      .run();
  transaction.record(account, ChangeKind::MessageMoved, message.mailbox, message.id, message.uid,
                     message.thread);
  transaction.record(account, ChangeKind::MessageUpdated, to, message.id, uid, message.thread);
  return Appended{.id = message.id, .mailbox = to, .uid = uid, .modseq = modseq};
}

// The account's messages whose `column` (id or thread) is one of `values`, ascending id.
std::vector<MessageMeta> select_in(Connection& connection, AccountId account,
                                   std::string_view column, std::vector<std::int64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<MessageMeta> messages;
  const std::string statement =
      sql(kSelectMessage, "WHERE " + std::string(column) +
                              " = ? AND mailbox IN (SELECT id FROM mailboxes WHERE account = ?)");
  for (std::int64_t value : values) {
    Query query(connection, statement, value, account);
    while (query.next()) messages.push_back(message_from(query));
  }
  std::sort(messages.begin(), messages.end(),
            [](const MessageMeta& a, const MessageMeta& b) { return a.id < b.id; });
  return messages;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::filesystem::path database, BlobFiles blobs, std::unique_ptr<Connection> writer,
              std::size_t max_batch)
      : database_(std::move(database)),
        blobs_(std::move(blobs)),
        committer_(std::move(writer), blobs_, bus_, max_batch) {}

  Result<void> add_domain(std::string_view name) override {
    if (name.empty()) return fail(Errc::BadInput, "empty domain");
    return write([&](Transaction& transaction) -> Result<void> {
      Query(transaction.connection(), "INSERT INTO domains (name) VALUES (?)", name).run();
      return {};
    });
  }

  Result<void> remove_domain(std::string_view name) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      if (Query(connection, "SELECT 1 FROM accounts WHERE domain = ?", name).next()) {
        return fail(Errc::Exists, "the domain still has accounts");
      }
      Query(connection, "DELETE FROM domains WHERE name = ?", name).run();
      if (connection.changes() == 0) return fail(Errc::NotFound, "no such domain");
      return {};
    });
  }

  Result<std::vector<Domain>> list_domains() override {
    return read([&](Connection& connection) -> Result<std::vector<Domain>> {
      std::vector<Domain> domains;
      Query query(connection, "SELECT name FROM domains ORDER BY name");
      while (query.next()) domains.push_back({query.get<std::string>(0)});
      return domains;
    });
  }

  Result<bool> has_domain(std::string_view name) override {
    return read([&](Connection& connection) -> Result<bool> {
      return Query(connection, "SELECT 1 FROM domains WHERE name = ?", name).next();
    });
  }

  Result<Account> add_account(std::string_view address, std::string_view password_hash) override {
    const std::string_view domain = domain_of(address);
    if (domain.empty() || address.front() == '@') {
      return fail(Errc::BadInput, "address is not local@domain");
    }
    return write([&](Transaction& transaction) -> Result<Account> {
      Connection& connection = transaction.connection();
      if (!Query(connection, "SELECT 1 FROM domains WHERE name = ?", domain).next()) {
        return fail(Errc::NotFound, "no such domain");
      }
      Query insert(connection,
                   "INSERT INTO accounts (address, domain, password_hash, created) "
                   "VALUES (?, ?, ?, ?) RETURNING id",
                   address, domain, password_hash, unix_seconds());
      insert.next();
      const auto id = insert.get<AccountId>(0);
      for (auto [name, role] : kDefaultMailboxes) {
        if (auto created = create_mailbox_in(transaction, id, name, role, true); !created) {
          return tl::unexpected(created.error());
        }
      }
      return load_account(connection, id);
    });
  }

  Result<Account> find_account(std::string_view address) override {
    return read([&](Connection& connection) -> Result<Account> {
      Query query(connection, sql(kSelectAccount, "WHERE address = ?"), address);
      if (!query.next()) return fail(Errc::NotFound, "no such account");
      return account_from(query);
    });
  }

  Result<Account> get_account(AccountId id) override {
    return read([&](Connection& connection) { return load_account(connection, id); });
  }

  Result<std::vector<Account>> list_accounts(std::string_view domain) override {
    return read([&](Connection& connection) -> Result<std::vector<Account>> {
      std::vector<Account> accounts;
      Query query(connection, sql(kSelectAccount, "WHERE ?1 = '' OR domain = ?1 ORDER BY address"),
                  domain);
      while (query.next()) accounts.push_back(account_from(query));
      return accounts;
    });
  }

  Result<void> set_password_hash(AccountId id, std::string_view password_hash) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      Query(connection, "UPDATE accounts SET password_hash = ? WHERE id = ?", password_hash, id)
          .run();
      if (connection.changes() == 0) return fail(Errc::NotFound, "no such account");
      return {};
    });
  }

  Result<void> set_quota(AccountId id, std::uint64_t quota_bytes) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Query update(transaction.connection(),
                   "UPDATE accounts SET quota_bytes = ? WHERE id = ? RETURNING id", quota_bytes,
                   id);
      if (!update.next()) return fail(Errc::NotFound, "no such account");
      return {};
    });
  }

  Result<Usage> usage(AccountId id) override {
    return read([&](Connection& connection) -> Result<Usage> {
      if (!Query(connection, "SELECT 1 FROM accounts WHERE id = ?", id).next()) {
        return fail(Errc::NotFound, "no such account");
      }
      return load_usage(connection, id);
    });
  }

  Result<void> add_app_password(AccountId id, const AppPassword& password) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      if (!Query(connection, "SELECT 1 FROM accounts WHERE id = ?", id).next()) {
        return fail(Errc::NotFound, "no such account");
      }
      if (Query(connection, "SELECT 1 FROM app_passwords WHERE account = ? AND name = ?", id,
                password.name)
              .next()) {
        return fail(Errc::Exists, "app password name taken");
      }
      Query(connection,
            "INSERT INTO app_passwords (account, name, secret_hash, created) VALUES (?, ?, ?, ?)",
            id, password.name, password.secret_hash, unix_seconds())
          .run();
      return {};
    });
  }

  Result<std::vector<AppPassword>> list_app_passwords(AccountId id) override {
    return read([&](Connection& connection) -> Result<std::vector<AppPassword>> {
      std::vector<AppPassword> out;
      Query query(connection,
                  "SELECT name, secret_hash, created FROM app_passwords WHERE account = ? "
                  "ORDER BY name",
                  id);
      while (query.next()) {
        out.push_back(
            {query.get<std::string>(0), query.get<std::string>(1), query.get<std::int64_t>(2)});
      }
      return out;
    });
  }

  Result<void> remove_app_password(AccountId id, std::string_view name) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Query remove(transaction.connection(),
                   "DELETE FROM app_passwords WHERE account = ? AND name = ? RETURNING name", id,
                   name);
      if (!remove.next()) return fail(Errc::NotFound, "no such app password");
      return {};
    });
  }

  Result<AppPassword> find_app_password(AccountId id, std::string_view secret_hash) override {
    return read([&](Connection& connection) -> Result<AppPassword> {
      Query query(connection,
                  "SELECT name, secret_hash, created FROM app_passwords "
                  "WHERE account = ? AND secret_hash = ?",
                  id, secret_hash);
      if (!query.next()) return fail(Errc::NotFound, "no such app password");
      return AppPassword{query.get<std::string>(0), query.get<std::string>(1),
                         query.get<std::int64_t>(2)};
    });
  }

  Result<Account> find_app_password_owner(std::string_view secret_hash) override {
    return read([&](Connection& connection) -> Result<Account> {
      Query query(connection, "SELECT account FROM app_passwords WHERE secret_hash = ? LIMIT 1",
                  secret_hash);
      if (!query.next()) return fail(Errc::NotFound, "no such app password");
      return load_account(connection, query.get<AccountId>(0));
    });
  }

  Result<void> remove_account(AccountId id) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      {
        Query blobs(
            connection,
            "SELECT DISTINCT m.blob_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox "
            "WHERE b.account = ?",
            id);
        while (blobs.next()) transaction.release_blob(blobs.get<std::string>(0));
        Query uploads(connection, "SELECT blob_id FROM uploads WHERE account = ?", id);
        while (uploads.next()) transaction.release_blob(uploads.get<std::string>(0));
      }
      // Mailboxes, messages and the change log go by ON DELETE CASCADE.
      Query(connection, "DELETE FROM accounts WHERE id = ?", id).run();
      if (connection.changes() == 0) return fail(Errc::NotFound, "no such account");
      return {};
    });
  }

  Result<void> add_alias(std::string_view address, std::string_view target) override {
    const std::string_view domain = domain_of(address);
    if (domain.empty() || target.empty())
      return fail(Errc::BadInput, "alias is not [local]@domain");
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      if (!Query(connection, "SELECT 1 FROM domains WHERE name = ?", domain).next()) {
        return fail(Errc::NotFound, "no such domain");
      }
      Query(connection, "INSERT INTO aliases (address, domain, target) VALUES (?, ?, ?)", address,
            domain, target)
          .run();
      return {};
    });
  }

  Result<void> remove_alias(std::string_view address) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      Query(connection, "DELETE FROM aliases WHERE address = ?", address).run();
      if (connection.changes() == 0) return fail(Errc::NotFound, "no such alias");
      return {};
    });
  }

  Result<std::vector<Alias>> list_aliases(std::string_view domain) override {
    return read([&](Connection& connection) -> Result<std::vector<Alias>> {
      std::vector<Alias> aliases;
      Query query(connection,
                  "SELECT address, target FROM aliases WHERE ?1 = '' OR domain = ?1 "
                  "ORDER BY address",
                  domain);
      while (query.next())
        aliases.push_back({query.get<std::string>(0), query.get<std::string>(1)});
      return aliases;
    });
  }

  Result<std::optional<Alias>> find_alias(std::string_view address) override {
    return read([&](Connection& connection) -> Result<std::optional<Alias>> {
      Query query(connection, "SELECT address, target FROM aliases WHERE address = ?", address);
      if (!query.next()) return std::nullopt;
      return Alias{query.get<std::string>(0), query.get<std::string>(1)};
    });
  }

  Result<std::vector<Mailbox>> list_mailboxes(AccountId account) override {
    return read([&](Connection& connection) -> Result<std::vector<Mailbox>> {
      if (!Query(connection, "SELECT 1 FROM accounts WHERE id = ?", account).next()) {
        return fail(Errc::NotFound, "no such account");
      }
      std::vector<Mailbox> mailboxes;
      Query query(connection, sql(kSelectMailbox, "WHERE account = ? ORDER BY name"), account);
      while (query.next()) mailboxes.push_back(mailbox_from(query));
      return mailboxes;
    });
  }

  Result<Mailbox> find_mailbox(AccountId account, std::string_view name) override {
    auto normalized = normalize_mailbox_name(name);
    if (!normalized) return tl::unexpected(normalized.error());
    return read([&](Connection& connection) -> Result<Mailbox> {
      Query query(connection, sql(kSelectMailbox, "WHERE account = ? AND name = ?"), account,
                  *normalized);
      if (!query.next()) return fail(Errc::NotFound, "no such mailbox");
      return mailbox_from(query);
    });
  }

  Result<Mailbox> get_mailbox(MailboxId id) override {
    return read([&](Connection& connection) { return load_mailbox(connection, id); });
  }

  Result<Mailbox> create_mailbox(AccountId account, std::string_view name, Role role) override {
    auto normalized = normalize_mailbox_name(name);
    if (!normalized) return tl::unexpected(normalized.error());
    return write([&](Transaction& transaction) {
      return create_mailbox_in(transaction, account, *normalized, role, false);
    });
  }

  Result<void> rename_mailbox(MailboxId id, std::string_view new_name) override {
    auto normalized = normalize_mailbox_name(new_name);
    if (!normalized) return tl::unexpected(normalized.error());
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      auto mailbox = load_mailbox(connection, id);
      if (!mailbox) return tl::unexpected(mailbox.error());
      if (mailbox->name == "INBOX") return fail(Errc::BadInput, "INBOX cannot be renamed");
      if (*normalized == mailbox->name) return {};
      const std::string prefix = mailbox->name + "/";
      if (normalized->starts_with(prefix)) {
        return fail(Errc::BadInput, "a mailbox cannot move under itself");
      }
      std::vector<std::pair<MailboxId, std::string>> renames;
      {
        Query query(connection, "SELECT id, name FROM mailboxes WHERE account = ?",
                    mailbox->account);
        while (query.next()) {
          const auto name = query.get<std::string>(1);
          if (name == mailbox->name || name.starts_with(prefix)) {
            renames.emplace_back(query.get<MailboxId>(0),
                                 *normalized + name.substr(mailbox->name.size()));
          }
        }
      }
      // A name already taken fails the UNIQUE constraint: Exists.
      for (const auto& [child, name] : renames) {
        Query(connection, "UPDATE mailboxes SET name = ? WHERE id = ?", name, child).run();
        transaction.record(mailbox->account, ChangeKind::MailboxUpdated, child);
      }
      create_parents(transaction, mailbox->account, *normalized);
      return {};
    });
  }

  Result<void> delete_mailbox(MailboxId id) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      auto mailbox = load_mailbox(connection, id);
      if (!mailbox) return tl::unexpected(mailbox.error());
      if (mailbox->name == "INBOX") return fail(Errc::BadInput, "INBOX cannot be deleted");
      {
        Query messages(connection,
                       "SELECT id, uid, blob_id, thread FROM messages WHERE mailbox = ?", id);
        while (messages.next()) {
          transaction.record(mailbox->account, ChangeKind::MessageDestroyed, id,
                             messages.get<MessageId>(0), messages.get<Uid>(1),
                             messages.get<ThreadId>(3));
          transaction.release_blob(messages.get<std::string>(2));
        }
      }
      Query(connection, "DELETE FROM messages WHERE mailbox = ?", id).run();
      Query(connection, "DELETE FROM mailboxes WHERE id = ?", id).run();
      transaction.record(mailbox->account, ChangeKind::MailboxDestroyed, id);
      return {};
    });
  }

  Result<void> set_subscribed(MailboxId id, bool subscribed) override {
    return write([&](Transaction& transaction) -> Result<void> {
      Connection& connection = transaction.connection();
      Query update(connection, "UPDATE mailboxes SET subscribed = ? WHERE id = ? RETURNING account",
                   subscribed, id);
      if (!update.next()) return fail(Errc::NotFound, "no such mailbox");
      transaction.record(update.get<AccountId>(0), ChangeKind::MailboxUpdated, id);
      return {};
    });
  }

  Result<std::vector<Appended>> deliver(const NewMessage& message,
                                        const std::vector<DeliveryTarget>& targets) override {
    return add_message(message, targets);
  }

  Result<std::vector<Appended>> append_messages(MailboxId mailbox,
                                                const std::vector<NewMessage>& messages) override {
    return add_messages(messages, mailbox);
  }

  Result<MailboxSnapshot> snapshot(MailboxId id) override {
    return read([&](Connection& connection) -> Result<MailboxSnapshot> {
      auto mailbox = load_mailbox(connection, id);
      if (!mailbox) return tl::unexpected(mailbox.error());
      MailboxSnapshot snapshot{.mailbox = std::move(*mailbox), .messages = {}};
      snapshot.messages.reserve(snapshot.mailbox.message_count);
      Query query(connection, sql(kSelectMessage, "WHERE mailbox = ? ORDER BY uid"), id);
      while (query.next()) snapshot.messages.push_back(message_from(query));
      return snapshot;
    });
  }

  Result<MailboxChanges> mailbox_changes(MailboxId id, ModSeq since) override {
    return read([&](Connection& connection) -> Result<MailboxChanges> {
      auto mailbox = load_mailbox(connection, id);
      if (!mailbox) return tl::unexpected(mailbox.error());
      Query floor(connection, "SELECT changes_floor FROM accounts WHERE id = ?", mailbox->account);
      if (!floor.next()) return fail(Errc::NotFound, "no such account");
      if (since < floor.get<ModSeq>(0)) return fail(Errc::TooBig, "change log pruned");
      MailboxChanges changes{.mailbox = std::move(*mailbox), .changed = {}, .removed = {}};
      Query changed(connection,
                    sql(kSelectMessage, "WHERE mailbox = ? AND modseq > ? ORDER BY uid"), id,
                    since);
      while (changed.next()) changes.changed.push_back(message_from(changed));
      Query removed(
          connection,
          "SELECT DISTINCT uid FROM changes WHERE mailbox = ? AND modseq > ? AND kind IN (?, ?) "
          "ORDER BY uid",
          id, since, static_cast<int>(ChangeKind::MessageDestroyed),
          static_cast<int>(ChangeKind::MessageMoved));
      while (removed.next()) changes.removed.push_back(removed.get<Uid>(0));
      return changes;
    });
  }

  Result<std::vector<MessageMeta>> get_messages(MailboxId mailbox,
                                                const std::vector<Uid>& uids) override {
    return read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
      return load_messages(connection, mailbox, uids);
    });
  }

  Result<MessageMeta> get_message(MessageId id) override {
    return read([&](Connection& connection) -> Result<MessageMeta> {
      Query query(connection, sql(kSelectMessage, "WHERE id = ?"), id);
      if (!query.next()) return fail(Errc::NotFound, "no such message");
      return message_from(query);
    });
  }

  Result<std::string> read_blob(std::string_view blob_id) override { return blobs_.read(blob_id); }

  Result<std::string> read_structure(MessageId id) override {
    return read([&](Connection& connection) -> Result<std::string> {
      Query query(connection,
                  "SELECT b.structure FROM messages m JOIN blobs b ON b.id = m.blob_id "
                  "WHERE m.id = ?",
                  id);
      if (!query.next()) return fail(Errc::NotFound, "no such message");
      return query.get<std::string>(0);
    });
  }

  Result<std::vector<std::string>> read_structures(const std::vector<MessageId>& ids) override {
    return read([&](Connection& connection) -> Result<std::vector<std::string>> {
      std::vector<std::string> structures;
      structures.reserve(ids.size());
      for (MessageId id : ids) {
        Query query(connection,
                    "SELECT b.structure FROM messages m JOIN blobs b ON b.id = m.blob_id "
                    "WHERE m.id = ?",
                    id);
        structures.push_back(query.next() ? query.get<std::string>(0) : std::string());
      }
      return structures;
    });
  }

  Result<std::vector<MessageMeta>> account_messages(AccountId account) override {
    return read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
      std::vector<MessageMeta> messages;
      Query query(connection,
                  sql(kSelectMessage,
                      "WHERE mailbox IN (SELECT id FROM mailboxes WHERE account = ?) ORDER BY id"),
                  account);
      while (query.next()) messages.push_back(message_from(query));
      return messages;
    });
  }

  Result<std::vector<MessageMeta>> find_messages(AccountId account,
                                                 const std::vector<MessageId>& ids) override {
    return read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
      return select_in(connection, account, "id", ids);
    });
  }

  Result<std::vector<MessageMeta>> blob_messages(AccountId account,
                                                 std::string_view blob_id) override {
    return read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
      std::vector<MessageMeta> messages;
      Query query(
          connection,
          sql(kSelectMessage,
              "WHERE blob_id = ? AND mailbox IN (SELECT id FROM mailboxes WHERE account = ?)"),
          blob_id, account);
      while (query.next()) messages.push_back(message_from(query));
      return messages;
    });
  }

  Result<std::vector<MessageMeta>> thread_messages(AccountId account,
                                                   const std::vector<ThreadId>& threads) override {
    return read([&](Connection& connection) -> Result<std::vector<MessageMeta>> {
      return select_in(connection, account, "thread", threads);
    });
  }

  Result<FlagResult> change_flags(MailboxId mailbox_id, const std::vector<Uid>& uids,
                                  const FlagChange& change) override {
    auto given = normalize_flags(change.flags);
    if (!given) return tl::unexpected(given.error());
    return write([&](Transaction& transaction) -> Result<FlagResult> {
      Connection& connection = transaction.connection();
      auto mailbox = load_mailbox(connection, mailbox_id);
      if (!mailbox) return tl::unexpected(mailbox.error());
      FlagResult result;
      std::int64_t unseen_change = 0;
      for (auto& message : load_messages(connection, mailbox_id, uids)) {
        // RFC 7162 §3.1.3: UNCHANGEDSINCE fails only where the modseq is greater.
        if (change.unchanged_since && message.modseq > *change.unchanged_since) {
          result.conflicts.push_back(message.uid);
          continue;
        }
        Flags updated = apply(change.operation, message.flags, *given);
        if (updated == message.flags) continue;
        unseen_change += int{is_seen(message.flags)} - int{is_seen(updated)};
        message.flags = std::move(updated);
        message.modseq = transaction.modseq(mailbox->account);
        Query(connection, "UPDATE messages SET flags = ?, modseq = ? WHERE id = ?",
              join_flags(message.flags), message.modseq, message.id)
            .run();
        transaction.record(mailbox->account, ChangeKind::MessageUpdated, mailbox_id, message.id,
                           message.uid, message.thread);
        result.changed.push_back(std::move(message));
      }
      if (unseen_change != 0) {
        Query(connection, "UPDATE mailboxes SET unseen_count = unseen_count + ? WHERE id = ?",
              unseen_change, mailbox_id)
            .run();
      }
      return result;
    });
  }

  Result<std::vector<Appended>> copy_messages(MailboxId from, const std::vector<Uid>& uids,
                                              MailboxId to) override {
    return copy_or_move(from, uids, to, false);
  }

  Result<std::vector<Appended>> move_messages(MailboxId from, const std::vector<Uid>& uids,
                                              MailboxId to) override {
    return copy_or_move(from, uids, to, true);
  }

  Result<std::vector<Uid>> expunge(MailboxId mailbox_id, const std::vector<Uid>& uids) override {
    return write([&](Transaction& transaction) -> Result<std::vector<Uid>> {
      Connection& connection = transaction.connection();
      auto mailbox = load_mailbox(connection, mailbox_id);
      if (!mailbox) return tl::unexpected(mailbox.error());
      std::vector<Uid> removed;
      for (const auto& message : load_messages(connection, mailbox_id, uids)) {
        remove_message(transaction, mailbox->account, message);
        removed.push_back(message.uid);
      }
      return removed;
    });
  }

  Result<QueueEntry> enqueue(const NewMessage& message, const QueueEntry& entry) override {
    if (entry.recipients.empty()) return fail(Errc::BadInput, "no recipients");
    QueueEntry stored = entry;
    stored.blob_id = sha256_hex(message.raw);
    stored.size = message.raw.size();
    stored.queued_at = unix_seconds();
    stored.next_attempt = stored.queued_at;
    stored.attempts = 0;
    return write_with_blob(
        message, stored.blob_id, [&](Transaction& transaction) -> Result<QueueEntry> {
          Connection& connection = transaction.connection();
          Query insert(connection,
                       "INSERT INTO queue (account, sender, ret, envid, blob_id, size, queued_at, "
                       "next_attempt) VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                       stored.account, stored.sender, stored.ret, stored.envid, stored.blob_id,
                       stored.size, stored.queued_at, stored.next_attempt);
          insert.next();
          stored.id = insert.get<std::int64_t>(0);
          for (std::size_t i = 0; i < stored.recipients.size(); ++i) {
            const QueuedRecipient& recipient = stored.recipients[i];
            Query(connection,
                  "INSERT INTO queue_recipients (queue, position, address, notify, orcpt) "
                  "VALUES (?, ?, ?, ?, ?)",
                  stored.id, static_cast<std::int64_t>(i), recipient.address, recipient.notify,
                  recipient.orcpt)
                .run();
          }
          return stored;
        });
  }

  Result<Upload> add_upload(AccountId account, std::string_view bytes,
                            std::string_view type) override {
    NewMessage content{.raw = std::string(bytes),
                       .structure = {},
                       .flags = {},
                       .internal_date = 0,
                       .message_id = {},
                       .parent_ids = {}};
    Upload upload{.blob_id = sha256_hex(bytes),
                  .type = std::string(type),
                  .size = bytes.size(),
                  .created = unix_seconds()};
    return write_with_blob(
        content, upload.blob_id, [&](Transaction& transaction) -> Result<Upload> {
          Connection& connection = transaction.connection();
          {
            Query expired(connection,
                          "DELETE FROM uploads WHERE account = ? AND created < ? RETURNING blob_id",
                          account, upload.created - kUploadLifetime);
            while (expired.next()) transaction.release_blob(expired.get<std::string>(0));
          }
          Query quota(connection, "SELECT quota_bytes FROM accounts WHERE id = ?", account);
          if (!quota.next()) return fail(Errc::NotFound, "no such account");
          if (const auto limit = quota.get<std::uint64_t>(0); limit != 0) {
            Query pending(
                connection,
                "SELECT coalesce(sum(size), 0) FROM uploads WHERE account = ? AND blob_id != ?",
                account, upload.blob_id);
            pending.next();
            if (load_usage(connection, account).bytes + pending.get<std::uint64_t>(0) +
                    upload.size >
                limit) {
              return fail(Errc::OverQuota, "over quota");
            }
          }
          Query(connection,
                "INSERT OR REPLACE INTO uploads (account, blob_id, type, size, created) "
                "VALUES (?, ?, ?, ?, ?)",
                account, upload.blob_id, upload.type, upload.size, upload.created)
              .run();
          return upload;
        });
  }

  Result<Upload> find_blob(AccountId account, std::string_view blob_id) override {
    return read([&](Connection& connection) -> Result<Upload> {
      Query upload(connection,
                   "SELECT type, size, created FROM uploads WHERE account = ? AND blob_id = ?",
                   account, blob_id);
      if (upload.next()) {
        return Upload{.blob_id = std::string(blob_id),
                      .type = upload.get<std::string>(0),
                      .size = upload.get<std::uint64_t>(1),
                      .created = upload.get<std::int64_t>(2)};
      }
      Query message(connection,
                    "SELECT size, internal_date FROM messages WHERE blob_id = ? AND mailbox IN "
                    "(SELECT id FROM mailboxes WHERE account = ?) LIMIT 1",
                    blob_id, account);
      if (!message.next()) return fail(Errc::NotFound, "no such blob");
      return Upload{.blob_id = std::string(blob_id),
                    .type = "message/rfc822",
                    .size = message.get<std::uint64_t>(0),
                    .created = message.get<std::int64_t>(1)};
    });
  }

  Result<StoredObject> put_object(AccountId account, std::string_view type, std::int64_t id,
                                  std::string_view data) override {
    return write([&](Transaction& transaction) -> Result<StoredObject> {
      Connection& connection = transaction.connection();
      const ModSeq modseq = transaction.modseq(account);
      if (id == 0) {
        Query insert(connection,
                     "INSERT INTO objects (account, type, data, created, modseq) "
                     "VALUES (?, ?, ?, ?, ?) RETURNING id",
                     account, type, data, modseq, modseq);
        insert.next();
        return StoredObject{.id = insert.get<std::int64_t>(0),
                            .data = std::string(data),
                            .created = modseq,
                            .modseq = modseq,
                            .destroyed = false};
      }
      Query update(connection,
                   "UPDATE objects SET data = ?, modseq = ? WHERE id = ? AND account = ? AND "
                   "type = ? AND destroyed = 0 RETURNING created",
                   data, modseq, id, account, type);
      if (!update.next()) return fail(Errc::NotFound, "no such object");
      return StoredObject{.id = id,
                          .data = std::string(data),
                          .created = update.get<ModSeq>(0),
                          .modseq = modseq,
                          .destroyed = false};
    });
  }

  Result<void> destroy_object(AccountId account, std::string_view type, std::int64_t id) override {
    return write([&](Transaction& transaction) -> Result<void> {
      const ModSeq modseq = transaction.modseq(account);
      Query update(transaction.connection(),
                   "UPDATE objects SET data = '', destroyed = 1, modseq = ? WHERE id = ? AND "
                   "account = ? AND type = ? AND destroyed = 0 RETURNING id",
                   modseq, id, account, type);
      if (!update.next()) return fail(Errc::NotFound, "no such object");
      return {};
    });
  }

  Result<std::vector<StoredObject>> list_objects(AccountId account, std::string_view type,
                                                 ModSeq since) override {
    return read([&](Connection& connection) -> Result<std::vector<StoredObject>> {
      std::vector<StoredObject> out;
      Query query(connection,
                  "SELECT id, data, created, modseq, destroyed FROM objects WHERE account = ? AND "
                  "type = ? AND (destroyed = 0 OR (?3 > 0 AND modseq > ?3)) ORDER BY id",
                  account, type, since);
      while (query.next()) {
        StoredObject object{.id = query.get<std::int64_t>(0),
                            .data = query.get<std::string>(1),
                            .created = query.get<ModSeq>(2),
                            .modseq = query.get<ModSeq>(3),
                            .destroyed = query.get<bool>(4)};
        if (since > 0 && object.modseq <= since) continue;
        out.push_back(std::move(object));
      }
      return out;
    });
  }

  Result<std::vector<QueueEntry>> list_queue() override {
    return read([&](Connection& connection) -> Result<std::vector<QueueEntry>> {
      std::vector<QueueEntry> entries;
      Query query(connection,
                  "SELECT id, IFNULL(account, 0), sender, ret, envid, blob_id, size, queued_at, "
                  "next_attempt, attempts FROM queue ORDER BY id");
      while (query.next()) {
        entries.push_back({.id = query.get<std::int64_t>(0),
                           .account = query.get<AccountId>(1),
                           .sender = query.get<std::string>(2),
                           .ret = query.get<std::string>(3),
                           .envid = query.get<std::string>(4),
                           .recipients = {},
                           .blob_id = query.get<std::string>(5),
                           .size = query.get<std::uint64_t>(6),
                           .queued_at = query.get<std::int64_t>(7),
                           .next_attempt = query.get<std::int64_t>(8),
                           .attempts = query.get<int>(9)});
      }
      for (QueueEntry& entry : entries) {
        Query recipients(connection,
                         "SELECT address, notify, orcpt FROM queue_recipients WHERE queue = ? "
                         "ORDER BY position",
                         entry.id);
        while (recipients.next()) {
          entry.recipients.push_back({recipients.get<std::string>(0),
                                      recipients.get<std::string>(1),
                                      recipients.get<std::string>(2)});
        }
      }
      return entries;
    });
  }

  Result<ChangeSet> changes_since(AccountId account, ModSeq since) override {
    return read([&](Connection& connection) -> Result<ChangeSet> {
      Query state(connection, "SELECT modseq, changes_floor FROM accounts WHERE id = ?", account);
      if (!state.next()) return fail(Errc::NotFound, "no such account");
      ChangeSet set{.from = since, .to = state.get<ModSeq>(0), .changes = {}};
      if (since > set.to) return fail(Errc::BadInput, "modseq from the future");
      if (since < state.get<ModSeq>(1)) return fail(Errc::TooBig, "change log pruned");
      Query query(connection,
                  "SELECT modseq, kind, mailbox, message, uid, thread FROM changes "
                  "WHERE account = ? AND modseq > ? ORDER BY modseq, rowid",
                  account, since);
      while (query.next()) {
        set.changes.push_back({.modseq = query.get<ModSeq>(0),
                               .kind = static_cast<ChangeKind>(query.get<int>(1)),
                               .mailbox = query.get<MailboxId>(2),
                               .message = query.get<MessageId>(3),
                               .uid = query.get<Uid>(4),
                               .thread = query.get<ThreadId>(5)});
      }
      return set;
    });
  }

  ChangeBus& change_bus() override { return bus_; }

 private:
  // Runs `work` in one read transaction on a pooled connection.
  template <class Work>
  std::invoke_result_t<Work&, Connection&> read(Work&& work) {
    std::unique_ptr<Connection> connection;
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        connection = std::move(idle_readers_.back());
        idle_readers_.pop_back();
      }
    }
    if (!connection) {
      auto opened = Connection::open(database_, Connection::Mode::Read);
      if (!opened) return tl::unexpected(opened.error());
      connection = std::move(*opened);
    }
    std::invoke_result_t<Work&, Connection&> result = fail(Errc::Internal);
    try {
      Query(*connection, "BEGIN").run();
      result = work(*connection);
      Query(*connection, "COMMIT").run();
    } catch (const Failure& failure) {
      result = tl::unexpected(to_error(failure));
      if (connection->in_transaction()) connection.reset();  // not worth reusing
    }
    if (connection) {
      std::lock_guard lock(readers_mutex_);
      if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(connection));
    }
    return result;
  }

  // Runs `work` on the committer thread in the next batch; returns once durable.
  template <class Work>
  std::invoke_result_t<Work&, Transaction&> write(Work&& work,
                                                  std::vector<std::string> written_blobs = {}) {
    std::optional<std::invoke_result_t<Work&, Transaction&>> out;
    auto committed = committer_.run(
        [&](Transaction& transaction) -> Result<void> {
          out = work(transaction);
          if (!*out) return tl::unexpected(out->error());
          return {};
        },
        std::move(written_blobs));
    if (!committed) return tl::unexpected(committed.error());
    return std::move(*out);
  }

  // On the committer thread: the blob's row, and its file again if an earlier batch
  // deleted it since it was written (its last reference went, or a delivery of the same
  // bytes failed).
  Result<void> ensure_blob_row(Transaction& transaction, const NewMessage& message,
                               const std::string& blob_id) {
    Connection& connection = transaction.connection();
    if (Query known(connection, "SELECT length(structure) FROM blobs WHERE id = ?", blob_id);
        known.next()) {
      // An upload keeps no structure; the first message with the same bytes adds it.
      if (known.get<std::int64_t>(0) == 0 && !message.structure.empty()) {
        Query(connection, "UPDATE blobs SET structure = ? WHERE id = ?", Bytes{message.structure},
              blob_id)
            .run();
      }
      return {};
    }
    if (!blobs_.exists(blob_id)) {
      auto written = blobs_.write(blob_id, message.raw, files::SyncDirectory::Yes);
      if (!written) return tl::unexpected(written.error());
    }
    Query(connection, "INSERT INTO blobs (id, structure) VALUES (?, ?)", blob_id,
          Bytes{message.structure})
        .run();
    return {};
  }

  // Writes the blob file (on this thread, in parallel with other writers; the committer
  // syncs its directory once per batch), then runs `work` in a commit with the blob's
  // row in place.
  template <class Work,
            class Value = typename std::invoke_result_t<Work&, Transaction&>::value_type>
  Result<Value> write_with_blob(const NewMessage& message, const std::string& blob_id, Work work) {
    if (!blobs_.exists(blob_id)) {
      auto written = blobs_.write(blob_id, message.raw, files::SyncDirectory::No);
      if (!written) return tl::unexpected(written.error());
    }
    return write(
        [&](Transaction& transaction) -> Result<Value> {
          auto ensured = ensure_blob_row(transaction, message, blob_id);
          if (!ensured) return tl::unexpected(ensured.error());
          return work(transaction);
        },
        {blob_id});
  }

  Result<std::vector<Appended>> add_message(const NewMessage& message,
                                            const std::vector<DeliveryTarget>& targets) {
    auto meta = meta_of(message);
    if (!meta) return tl::unexpected(meta.error());
    if (targets.empty()) return std::vector<Appended>{};
    return write_with_blob(message, meta->blob_id,
                           [&](Transaction& transaction) -> Result<std::vector<Appended>> {
                             std::vector<Appended> appended;
                             for (const auto& target : targets) {
                               auto added = insert_message(transaction, target, *meta, &message);
                               if (!added) return tl::unexpected(added.error());
                               appended.push_back(*added);
                             }
                             return appended;
                           });
  }

  // Several messages into one mailbox in one commit: each blob file is written first,
  // then one transaction adds every row.
  Result<std::vector<Appended>> add_messages(const std::vector<NewMessage>& messages,
                                             MailboxId mailbox) {
    std::vector<MessageMeta> metas;
    std::vector<std::string> blob_ids;
    for (const NewMessage& message : messages) {
      auto meta = meta_of(message);
      if (!meta) return tl::unexpected(meta.error());
      metas.push_back(std::move(*meta));
      if (!blobs_.exists(metas.back().blob_id)) {
        auto written = blobs_.write(metas.back().blob_id, message.raw, files::SyncDirectory::No);
        if (!written) return tl::unexpected(written.error());
      }
      blob_ids.push_back(metas.back().blob_id);
    }
    return write(
        [&](Transaction& transaction) -> Result<std::vector<Appended>> {
          std::uint64_t adding = 0;
          for (const auto& meta : metas) adding += meta.size;
          auto allowed = check_quota(transaction.connection(), mailbox, adding);
          if (!allowed) return tl::unexpected(allowed.error());
          std::vector<Appended> appended;
          for (std::size_t i = 0; i < messages.size(); ++i) {
            auto ensured = ensure_blob_row(transaction, messages[i], metas[i].blob_id);
            if (!ensured) return tl::unexpected(ensured.error());
            auto added = insert_message(transaction, {.account = 0, .mailbox = mailbox}, metas[i],
                                        &messages[i]);
            if (!added) return tl::unexpected(added.error());
            appended.push_back(*added);
          }
          return appended;
        },
        std::move(blob_ids));
  }

  Result<std::vector<Appended>> copy_or_move(MailboxId from, const std::vector<Uid>& uids,
                                             MailboxId to, bool move) {
    return write([&](Transaction& transaction) -> Result<std::vector<Appended>> {
      Connection& connection = transaction.connection();
      auto source = load_mailbox(connection, from);
      if (!source) return tl::unexpected(source.error());
      auto target = load_mailbox(connection, to);
      if (!target) return tl::unexpected(target.error());
      const auto messages = load_messages(connection, from, uids);
      // A move within one account takes no more room.
      if (!move || source->account != target->account) {
        std::uint64_t adding = 0;
        for (const auto& message : messages) adding += message.size;
        auto allowed = check_quota(connection, to, adding);
        if (!allowed) return tl::unexpected(allowed.error());
      }
      std::vector<Appended> appended;
      for (const auto& message : messages) {
        if (move && source->account == target->account) {
          auto moved = relocate_message(transaction, source->account, message, to);
          if (!moved) return tl::unexpected(moved.error());
          moved->source_uid = message.uid;
          appended.push_back(*moved);
          continue;
        }
        auto added =
            insert_message(transaction, {.account = target->account, .mailbox = to}, message);
        if (!added) return tl::unexpected(added.error());
        added->source_uid = message.uid;
        appended.push_back(*added);
        if (move) remove_message(transaction, source->account, message);
      }
      return appended;
    });
  }

  const std::filesystem::path database_;
  const BlobFiles blobs_;
  LocalChangeBus bus_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  Committer committer_;  // last: its thread uses the members above
};

}  // namespace
}  // namespace rampart::store::sqlite

namespace rampart::store {

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return fail(Errc::Internal, "create " + options.data_dir.string() + ": " + error.message());
  }
  auto blobs = sqlite::BlobFiles::open(options.data_dir / "blobs", options.reserve_free_bytes,
                                       options.on_reserve);
  if (!blobs) return tl::unexpected(blobs.error());
  const auto database = options.data_dir / "rampart.db";
  auto writer = sqlite::Connection::open(database, sqlite::Connection::Mode::Write);
  if (!writer) return tl::unexpected(writer.error());
  if (auto migrated = sqlite::migrate(**writer); !migrated) return tl::unexpected(migrated.error());
  return std::make_unique<sqlite::SqliteStore>(database, std::move(*blobs), std::move(*writer),
                                               options.max_batch);
}

}  // namespace rampart::store
