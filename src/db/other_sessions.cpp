#include "db/other_sessions.h"

#include "core/printable.h"

namespace mmmove {
namespace {

// PostgreSQL: client backends on this database. Another role's sessions show without their
// application name or address unless the account may read all statistics: then they count as others.
OtherSessions postgres_sessions(Database& db) {
    OtherSessions out;
    for (const auto& r : db.query("SELECT pid, COALESCE(usename, ''), COALESCE(host(client_addr), ''), COALESCE(application_name, '') "
                                  "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                  "AND backend_type = 'client backend' AND application_name IS DISTINCT FROM 'mmmove' ORDER BY pid"))
        out.sessions.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or("")});
    auto full = db.query("SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR "
                         "pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')");
    if (full.empty() || full[0][0].value_or("f") != "t")
        out.blind_spot = "the sessions of other roles show without their application name or address to this account "
                         "(grant it pg_read_all_stats to see them)";
    return out;
}

// MySQL/MariaDB: threads whose current database is this one, except those holding mmmove's mark for
// their own id. Without PROCESS, an account sees only its own account's threads.
OtherSessions mysql_sessions(Database& db) {
    OtherSessions out;
    for (const auto& r : db.query("SELECT ID, COALESCE(USER, ''), COALESCE(HOST, '') FROM information_schema.PROCESSLIST "
                                  "WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND "
                                  "COALESCE(IS_USED_LOCK(CONCAT('mmmove-session-', ID)), 0) <> ID ORDER BY ID"))
        out.sessions.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), ""});
    auto process = db.query("SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN ('PROCESS', 'SUPER') AND "
                            "GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
                            "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')");
    if (process.empty() || process[0][0].value_or("0") == "0")
        out.blind_spot = "this account sees only its own account's sessions (grant it PROCESS to see the others)";
    return out;
}

}  // namespace

std::string OtherSessions::describe(size_t at_most) const {
    std::string text;
    for (size_t i = 0; i < sessions.size() && i < at_most; ++i) {
        const OtherSession& s = sessions[i];
        text += (i ? ", " : "") + std::string("session ") + s.id + " of " + (s.user.empty() ? "?" : s.user);
        if (!s.client.empty()) text += " from " + s.client;
        if (!s.application.empty()) text += " (" + s.application + ")";
    }
    if (sessions.size() > at_most) text += " and " + std::to_string(sessions.size() - at_most) + " more";
    return printable(text);
}

OtherSessions other_sessions(Database& db) { return db.engine() == Engine::postgres ? postgres_sessions(db) : mysql_sessions(db); }

std::string mysql_session_mark_sql() { return "SELECT GET_LOCK(CONCAT('mmmove-session-', CONNECTION_ID()), 0)"; }

}  // namespace mmmove
