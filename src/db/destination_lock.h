#pragma once
// One writer per destination database. `mmmove run`, `copy` and `merge` each take the destination's
// lock before they write: an advisory lock on the destination server (PostgreSQL
// pg_try_advisory_lock, MySQL/MariaDB GET_LOCK) whose key is derived from the database as the server
// names it (current_database() / DATABASE()), never from a job name or a DSN, so two jobs, or a job
// and a copy, that reach the same database under different names are still refused.
//
// The server releases the lock when the connection ends, so a killed run never leaves it behind.
// Taking it again on the connection that holds it succeeds (both servers count the holds); each
// DestinationLock releases its own hold when it goes.
#include <string>

#include "db/database.h"

namespace mmmove {

class DestinationLock {
public:
    // Takes the lock on `db`, which must stay open while the lock lives. Throws
    // Error(ExitCode::lock_held) naming the lock when another connection holds it.
    explicit DestinationLock(Database& db);
    ~DestinationLock();  // releases this hold; never throws (a lost connection released it already)
    DestinationLock(const DestinationLock&) = delete;
    DestinationLock& operator=(const DestinationLock&) = delete;

private:
    Database& db_;
    std::string name_;
    long long key_ = 0;
};

}  // namespace mmmove
