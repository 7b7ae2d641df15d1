#include <cassert>
#include <cerrno>

#include "store/sqlite/connection_internal.h"

namespace rampart::store::sqlite {

// Long enough to ride out another process's checkpoint or a CLI command's transaction.
constexpr int kBusyTimeoutMs = 10'000;

Error to_error(const Failure& failure) {
  switch (failure.code) {
    case SQLITE_FULL:
      return Error{Errc::OverQuota, failure.message};
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Error{Errc::Exists, failure.message};
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Error{Errc::NotFound, failure.message};
  }
  if ((failure.code & 0xff) == SQLITE_BUSY || (failure.code & 0xff) == SQLITE_LOCKED) {
    return Error{Errc::TryLater, failure.message};
  }
  return Error{Errc::Internal, failure.message};
}

Result<std::unique_ptr<Connection>> Connection::open(const std::filesystem::path& path, Mode mode) {
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (mode == Mode::Write ? SQLITE_OPEN_CREATE : 0);
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<Connection> connection(new Connection(db, path));
  if (code != SQLITE_OK) {
    return fail(Errc::Internal, path.string() + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  try {
    // WAL lets readers work beside the writer; FULL syncs the WAL at every commit, so a
    // committed transaction survives power loss, not just a process crash. Temporary
    // tables and sorts stay in memory: the server may write only in its data directory.
    connection->execute_script(mode == Mode::Write
                                   ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                     "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                                   : "PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
                                     "PRAGMA temp_store=MEMORY;");
  } catch (const Failure& failure) {
    return tl::unexpected(to_error(failure));
  }
  return connection;
}

Connection::~Connection() {
  statements_.clear();
  sqlite3_close(db_);
}

void Connection::raise(int code) const {
  // A full disk often surfaces as an I/O error (writing the WAL or its index); the
  // system errno says what it really was.
  const int system_error = sqlite3_system_errno(db_);
  if ((code & 0xff) == SQLITE_IOERR && (system_error == ENOSPC || system_error == EDQUOT)) {
    code = SQLITE_FULL;
  }
  throw Failure{code, path_.string() + ": " + sqlite3_errmsg(db_)};
}

void Connection::execute_script(const char* sql) {
  const int code = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) raise(code);
}

sqlite3_stmt* Connection::statement(std::string_view sql) {
  auto& cached = statements_[std::string(sql)];
  if (!cached) {
    sqlite3_stmt* prepared = nullptr;
    const int code = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                        SQLITE_PREPARE_PERSISTENT, &prepared, nullptr);
    if (code != SQLITE_OK) raise(code);
    cached.reset(prepared);
  }
  // A statement still stepping here would be a nested use of the same SQL: a bug.
  assert(!sqlite3_stmt_busy(cached.get()));
  return cached.get();
}

bool Query::next() {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  connection_.raise(code);
}

void Query::bind(int index, std::string_view text) {
  // A default string_view has no data pointer, which SQLite would take for NULL.
  check(sqlite3_bind_text64(statement_, index, text.data() ? text.data() : "", text.size(),
                            SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Query::bind(int index, Bytes blob) {
  check(sqlite3_bind_blob64(statement_, index, blob.bytes.data() ? blob.bytes.data() : "",
                            blob.bytes.size(), SQLITE_TRANSIENT));
}

}  // namespace rampart::store::sqlite
