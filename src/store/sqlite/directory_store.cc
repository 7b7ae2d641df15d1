// The embedded store's domains, accounts, app passwords, aliases, quota and usage.
#include <algorithm>

#include "base/address.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "store/names_internal.h"
#include "store/sqlite/roles_internal.h"
#include "store/sqlite/rows_internal.h"
#include "store/sqlite/schema_internal.h"

namespace rampart::store::sqlite {

Result<void> SqliteDirectoryStore::add_domain(std::string_view name) {
  if (name.empty()) return fail(Errc::BadInput, "empty domain");
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Query(transaction.connection(), "INSERT INTO domains (name) VALUES (?)", name).run();
    return {};
  });
}

Result<void> SqliteDirectoryStore::remove_domain(std::string_view name) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    if (Query(connection, "SELECT 1 FROM accounts WHERE domain = ?", name).next()) {
      return fail(Errc::Exists, "the domain still has accounts");
    }
    Query(connection, "DELETE FROM domains WHERE name = ?", name).run();
    if (connection.changes() == 0) return fail(Errc::NotFound, "no such domain");
    return {};
  });
}

Result<std::vector<Domain>> SqliteDirectoryStore::list_domains() {
  return db_.read([&](Connection& connection) -> Result<std::vector<Domain>> {
    std::vector<Domain> domains;
    Query query(connection, "SELECT name FROM domains ORDER BY name");
    while (query.next()) domains.push_back({query.get<std::string>(0)});
    return domains;
  });
}

Result<bool> SqliteDirectoryStore::has_domain(std::string_view name) {
  return db_.read([&](Connection& connection) -> Result<bool> {
    return Query(connection, "SELECT 1 FROM domains WHERE name = ?", name).next();
  });
}

Result<Account> SqliteDirectoryStore::add_account(std::string_view address,
                                                  std::string_view password_hash) {
  const std::string_view domain = domain_of(address);
  if (domain.empty() || address.front() == '@') {
    return fail(Errc::BadInput, "address is not local@domain");
  }
  return db_.write([&](Transaction& transaction) -> Result<Account> {
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

Result<Account> SqliteDirectoryStore::find_account(std::string_view address) {
  return db_.read([&](Connection& connection) -> Result<Account> {
    Query query(connection, sql(kSelectAccount, "WHERE address = ?"), address);
    if (!query.next()) return fail(Errc::NotFound, "no such account");
    return account_from(query);
  });
}

Result<Account> SqliteDirectoryStore::get_account(AccountId id) {
  return db_.read([&](Connection& connection) { return load_account(connection, id); });
}

Result<std::vector<Account>> SqliteDirectoryStore::list_accounts(std::string_view domain) {
  return db_.read([&](Connection& connection) -> Result<std::vector<Account>> {
    std::vector<Account> accounts;
    Query query(connection, sql(kSelectAccount, "WHERE ?1 = '' OR domain = ?1 ORDER BY address"),
                domain);
    while (query.next()) accounts.push_back(account_from(query));
    return accounts;
  });
}

Result<void> SqliteDirectoryStore::set_password_hash(AccountId id, std::string_view password_hash) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    Query(connection, "UPDATE accounts SET password_hash = ? WHERE id = ?", password_hash, id)
        .run();
    if (connection.changes() == 0) return fail(Errc::NotFound, "no such account");
    return {};
  });
}

Result<void> SqliteDirectoryStore::set_quota(AccountId id, std::uint64_t quota_bytes) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Query update(transaction.connection(),
                 "UPDATE accounts SET quota_bytes = ? WHERE id = ? RETURNING id", quota_bytes, id);
    if (!update.next()) return fail(Errc::NotFound, "no such account");
    return {};
  });
}

Result<Usage> SqliteDirectoryStore::usage(AccountId id) {
  return db_.read([&](Connection& connection) -> Result<Usage> {
    if (!Query(connection, "SELECT 1 FROM accounts WHERE id = ?", id).next()) {
      return fail(Errc::NotFound, "no such account");
    }
    return load_usage(connection, id);
  });
}

Result<void> SqliteDirectoryStore::add_app_password(AccountId id, const AppPassword& password) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
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
          "INSERT INTO app_passwords (account, name, secret_hash, created) VALUES (?, ?, ?, ?)", id,
          password.name, password.secret_hash, unix_seconds())
        .run();
    return {};
  });
}

Result<std::vector<AppPassword>> SqliteDirectoryStore::list_app_passwords(AccountId id) {
  return db_.read([&](Connection& connection) -> Result<std::vector<AppPassword>> {
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

Result<void> SqliteDirectoryStore::remove_app_password(AccountId id, std::string_view name) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Query remove(transaction.connection(),
                 "DELETE FROM app_passwords WHERE account = ? AND name = ? RETURNING name", id,
                 name);
    if (!remove.next()) return fail(Errc::NotFound, "no such app password");
    return {};
  });
}

Result<AppPassword> SqliteDirectoryStore::find_app_password(AccountId id,
                                                            std::string_view secret_hash) {
  return db_.read([&](Connection& connection) -> Result<AppPassword> {
    Query query(connection,
                "SELECT name, secret_hash, created FROM app_passwords "
                "WHERE account = ? AND secret_hash = ?",
                id, secret_hash);
    if (!query.next()) return fail(Errc::NotFound, "no such app password");
    return AppPassword{query.get<std::string>(0), query.get<std::string>(1),
                       query.get<std::int64_t>(2)};
  });
}

Result<Account> SqliteDirectoryStore::find_app_password_owner(std::string_view secret_hash) {
  return db_.read([&](Connection& connection) -> Result<Account> {
    Query query(connection, "SELECT account FROM app_passwords WHERE secret_hash = ? LIMIT 1",
                secret_hash);
    if (!query.next()) return fail(Errc::NotFound, "no such app password");
    return load_account(connection, query.get<AccountId>(0));
  });
}

Result<void> SqliteDirectoryStore::remove_account(AccountId id) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    {
      Query blobs(connection,
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

Result<void> SqliteDirectoryStore::add_alias(std::string_view address, std::string_view target) {
  const std::string_view domain = domain_of(address);
  if (domain.empty() || target.empty()) return fail(Errc::BadInput, "alias is not [local]@domain");
  return db_.write([&](Transaction& transaction) -> Result<void> {
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

Result<void> SqliteDirectoryStore::remove_alias(std::string_view address) {
  return db_.write([&](Transaction& transaction) -> Result<void> {
    Connection& connection = transaction.connection();
    Query(connection, "DELETE FROM aliases WHERE address = ?", address).run();
    if (connection.changes() == 0) return fail(Errc::NotFound, "no such alias");
    return {};
  });
}

Result<std::vector<Alias>> SqliteDirectoryStore::list_aliases(std::string_view domain) {
  return db_.read([&](Connection& connection) -> Result<std::vector<Alias>> {
    std::vector<Alias> aliases;
    Query query(connection,
                "SELECT address, target FROM aliases WHERE ?1 = '' OR domain = ?1 "
                "ORDER BY address",
                domain);
    while (query.next()) aliases.push_back({query.get<std::string>(0), query.get<std::string>(1)});
    return aliases;
  });
}

Result<std::optional<Alias>> SqliteDirectoryStore::find_alias(std::string_view address) {
  return db_.read([&](Connection& connection) -> Result<std::optional<Alias>> {
    Query query(connection, "SELECT address, target FROM aliases WHERE address = ?", address);
    if (!query.next()) return std::nullopt;
    return Alias{query.get<std::string>(0), query.get<std::string>(1)};
  });
}

}  // namespace rampart::store::sqlite
