#include "db/database_identity.h"

namespace mmmove {

namespace {

std::string first_row(Database& db, const std::string& sql) {
    auto rows = db.query(sql);
    std::string out;
    if (rows.empty()) return out;
    for (const auto& v : rows[0]) out += v.value_or("") + "|";
    return out;
}

}  // namespace

std::string database_identity(Database& db) {
    if (db.engine() == Engine::postgres)
        // The port the server listens on, not the connection's (inet_server_port() is NULL through the Unix
        // socket, so the same database reached over TCP and over the socket would look like two).
        return "postgres|" + first_row(db, "SELECT current_database(), current_setting('port'), pg_postmaster_start_time()::text");
    return "mysql|" + first_row(db, "SELECT DATABASE(), @@hostname, @@port, @@datadir");
}

bool same_database(Database& a, Database& b) { return a.engine() == b.engine() && database_identity(a) == database_identity(b); }

}  // namespace mmmove
