#pragma once
// Who else is connected to a database: before mmmove writes into a destination, a Mattermost (or
// anything else) serving from it would keep stale caches and fight its writes. mmmove's own
// connections are told apart by a mark each one carries: PostgreSQL's application_name "mmmove",
// MySQL/MariaDB's lock "mmmove-session-<connection id>" that every destination connection takes.
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove {

struct OtherSession {
    std::string id;           // the server's process or connection id
    std::string user;         // the account
    std::string client;       // client address (or host:port), "" when the server hides it
    std::string application;  // PostgreSQL's application_name, "" when none or hidden
};

struct OtherSessions {
    std::vector<OtherSession> sessions;
    // Why the list may be short, "" when the account sees every session (e.g. MySQL without the
    // PROCESS privilege sees only its own account's sessions).
    std::string blind_spot;
    std::string describe(size_t at_most = 5) const;  // "user@client (application), …" for messages
};

// The sessions connected to `db`'s database, other than mmmove's own.
OtherSessions other_sessions(Database& db);

// The mark mmmove's MySQL destination connections carry (db/mysql.cpp takes it on connecting).
std::string mysql_session_mark_sql();

}  // namespace mmmove
