#include "db/destination_lock.h"

#include <cstdint>
#include <cstdio>

#include "core/error.h"

namespace mmmove {
namespace {

// The database as its server names it: the same database reached through two DSNs (another host
// name, an IP, a socket) gives the same identity. PostgreSQL's advisory locks are already scoped to
// the database; MySQL's GET_LOCK names are server-wide, so the database's name is part of the key.
std::string identity(Database& db) {
    const char* sql = db.engine() == Engine::postgres ? "SELECT current_database()" : "SELECT DATABASE()";
    auto rows = db.query(sql);
    std::string name = rows.empty() || rows[0].empty() ? "" : rows[0][0].value_or("");
    return (db.engine() == Engine::postgres ? "postgres|" : "mysql|") + name;
}

// A 64-bit FNV-1a: PostgreSQL keys advisory locks by a number, MySQL lock names are at most 64 characters.
uint64_t fnv1a(const std::string& text) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
    return h;
}

std::string hex(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

DestinationLock::DestinationLock(Database& db) : db_(db) {
    uint64_t h = fnv1a("mmmove-destination:" + identity(db));
    key_ = static_cast<long long>(h);
    name_ = "mmmove-dest-" + hex(h);
    bool got;
    if (db.engine() == Engine::postgres) {
        auto rows = db.query("SELECT pg_try_advisory_lock(" + std::to_string(key_) + ")");
        got = !rows.empty() && rows[0].at(0).value_or("f") == "t";
    } else {
        auto rows = db.query("SELECT GET_LOCK(" + db.quote_literal(name_) + ", 0)");
        got = !rows.empty() && rows[0].at(0).value_or("0") == "1";
    }
    if (!got)
        throw Error(ExitCode::lock_held,
                    "Another mmmove (a run of some job, a copy or a merge, from this host or another) is loading into the destination " +
                        db.data_source().label() + ": it holds the destination's lock (" +
                        (db.engine() == Engine::postgres ? "PostgreSQL advisory lock " + std::to_string(key_) : "MySQL lock " + name_) +
                        ") on this database. Nothing was done. Wait for it to finish; two loads never write into one database at once.");
}

DestinationLock::~DestinationLock() {
    try {
        if (db_.engine() == Engine::postgres)
            db_.query("SELECT pg_advisory_unlock(" + std::to_string(key_) + ")");
        else
            db_.query("SELECT RELEASE_LOCK(" + db_.quote_literal(name_) + ")");
    } catch (...) {
        // The connection is gone: the server released every lock it held.
    }
}

}  // namespace mmmove
