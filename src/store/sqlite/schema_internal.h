// The database schema and its migrations.
#pragma once

#include "base/result.h"
#include "store/sqlite/connection_internal.h"

namespace rampart::store::sqlite {

// Brings the database to the newest schema version (PRAGMA user_version), one
// migration per transaction. Refuses a database newer than this binary.
Result<void> migrate(Connection& connection);

}  // namespace rampart::store::sqlite
