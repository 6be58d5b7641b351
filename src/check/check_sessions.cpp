// Whether something else is using the destination database. A copy, sync or merge into a database a
// live Mattermost serves from leaves the server with stale caches (it never rereads what mmmove
// replaced) and lets it write between mmmove's chunks (rows a sync then deletes, or a copy doubles):
// refused by default, since the cure is simple (stop Mattermost there first) and the damage is not.
#include "check/check_steps.h"
#include "db/other_sessions.h"

namespace mmmove::check_steps {

void check_other_sessions(CheckReport& r, Database& dest, const CheckOptions& o) {
    OtherSessions others = other_sessions(dest);
    const std::string where = "the destination database " + r.dest.label;
    if (!others.sessions.empty()) {
        std::string text = std::to_string(others.sessions.size()) + " other session" + (others.sessions.size() == 1 ? " is" : "s are") +
                           " connected to " + where + ": " + others.describe() +
                           ". A Mattermost serving from it would keep stale caches and write between mmmove's changes. ";
        if (o.writes && !o.allow_other_sessions)
            block(r, ExitCode::destination, text + "Stop Mattermost (and any other client) on the destination, or "
                                                   "pass --allow-other-sessions (allow_other_sessions: true in a job) if they only read.");
        else
            warn(r, text + (o.writes ? "Writing anyway (--allow-other-sessions)."
                                     : "A copy, sync or merge will refuse to write while they are connected."));
    }
    if (!others.blind_spot.empty())
        info(r, "Other sessions on " + where + ": " + others.blind_spot + "; " +
                    (others.sessions.empty() ? "none seen." : "listed above as far as seen."));
}

}  // namespace mmmove::check_steps
