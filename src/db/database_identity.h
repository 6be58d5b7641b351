#pragma once
// Which database a connection reaches, as its server describes itself: two DSNs that spell one
// database differently (localhost and 127.0.0.1, another port forward, a DNS alias) give the same
// identity. A refresh refuses a destination that is its source by it, and so does a merge.
#include <string>

#include "db/database.h"

namespace mmmove {

// The database name, the port the server listens on (the same through TCP and the Unix socket), and
// the server's start time (PostgreSQL) or host name and data folder
// (MySQL/MariaDB), joined; the engine first, so two engines never agree.
std::string database_identity(Database& db);

// True when both connections reach the same database, whatever their DSNs say.
bool same_database(Database& a, Database& b);

}  // namespace mmmove
