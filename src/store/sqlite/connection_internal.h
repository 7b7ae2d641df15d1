// A thin RAII layer over one SQLite connection: pragmas set once, prepared statements
// cached per connection, and one Query type for every statement.
#pragma once

#include <sqlite3.h>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/result.h"

namespace rampart::store::sqlite {

// An SQLite error inside a unit of work. Only this layer throws it, and only the code
// that ends the unit's transaction or savepoint catches it: that rolls the unit back as
// a whole, which is what any SQL failure inside it calls for, and returns an Error.
// It never leaves src/store/sqlite.
// Binds as a BLOB rather than TEXT: bytes that need not be UTF-8.
struct Bytes {
  std::string_view bytes;
};

struct Failure {
  int code = SQLITE_ERROR;  // extended result code
  std::string message;
};

// SQLITE_FULL -> OverQuota, unique key -> Exists, foreign key -> NotFound,
// busy -> TryLater, the rest -> Internal.
Error to_error(const Failure& failure);

class Connection {
 public:
  enum class Mode { Write, Read };
  // Opens `path` (creating it in Write mode) in WAL mode with synchronous=FULL, foreign
  // keys and a busy timeout. Errors name the file.
  static Result<std::unique_ptr<Connection>> open(const std::filesystem::path& path, Mode mode);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs a script of several statements (schema changes); not cached.
  void execute_script(const char* sql);
  // The statement for `sql`, prepared on first use.
  sqlite3_stmt* statement(std::string_view sql);
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  // True once SQLite has ended the transaction by itself (it does on I/O errors and a
  // full disk), so a savepoint can no longer be rolled back alone.
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  [[noreturn]] void raise(int code) const;

 private:
  Connection(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  struct Finalize {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  sqlite3* db_;
  std::filesystem::path path_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>> statements_;
};

// One use of a cached statement, with its parameters bound in order. Destruction
// resets the statement so the next Query can reuse it.
class Query {
 public:
  template <class... Args>
  Query(Connection& connection, std::string_view sql, const Args&... args)
      : connection_(connection), statement_(connection.statement(sql)) {
    int index = 0;
    (bind(++index, args), ...);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  // Steps once: true while a row is ready.
  bool next();
  // Steps to the end, for statements whose rows (if any) are not wanted.
  void run() {
    while (next()) {
    }
  }

  template <class T>
  T get(int column) const {
    if constexpr (std::same_as<T, std::string>) {
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement_, column));
      return bytes ? std::string(bytes, sqlite3_column_bytes(statement_, column)) : std::string();
    } else {
      return static_cast<T>(sqlite3_column_int64(statement_, column));
    }
  }

 private:
  void bind(int index, std::string_view text);
  void bind(int index, Bytes blob);
  void bind(int index, std::integral auto value) {
    check(sqlite3_bind_int64(statement_, index, static_cast<sqlite3_int64>(value)));
  }
  void check(int code) const {
    if (code != SQLITE_OK) connection_.raise(code);
  }

  Connection& connection_;
  sqlite3_stmt* statement_;
};

}  // namespace rampart::store::sqlite
