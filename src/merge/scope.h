#pragma once
// A scoped merge (`mmmove merge --team NAME`, `--channel TEAM/NAME`): the same merge, reading only the
// source rows of the scope. The scope is one SQL predicate per source table, derived from the
// reference model (mappings/references.yaml), and added to every read of the source the merge makes:
// the matchers, the per-table counts, every chunk and verify's source side.
//
// What the scope holds (all read on the merge's source snapshot):
//   teams     the named teams, and the team of each named channel (the channel needs its team row);
//   channels  the named teams' channels (O and P, archived too), the named channels, and, unless left
//             out, the DM and group channels whose every member is a member of the scope;
//   members   the named teams' current members (TeamMembers, DeleteAt = 0) and the named channels'
//             members: the people the DM/GM rule asks about;
//   users     the members, everyone with a membership in a moved channel, and every author of a post or
//             a reaction in a moved channel: moved words keep their author's account, which joins
//             without team membership when the author was no member.
//   carried   rows the moved rows use without an id reference the anchors follow: custom emoji in
//             moved reactions or written :name: in moved text, the moved teams' and channels' schemes
//             and the roles those name;
//   preferences of the users, except those naming a row (a favourite channel, a flagged post) that
//             does not move.
// Which tables and columns these are is data: the `scope:` section of mappings/references.yaml
// (src/merge/scope_model.h); this file holds the mechanism.
// A table's rows move when its anchor reference (a channel, else a post, else a team, else a user
// column) falls in the scope, and every other required reference to a scoped table does too.
// A table with no such reference stays on the source.
//
// Every predicate is a subquery on the source itself, never a list held in memory or a temporary
// table: the source is only read (a replica refuses temporary tables), the sets stay on the server
// however many DMs a large team has, and every worker evaluates them on the same snapshot.
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "db/database.h"

namespace mmmove {

// The source's data-directory folders of a scoped merge: Mattermost keeps a post's files under
// <date>/teams/<team id or noteam>/channels/<channel id>/…, pictures under users/<id>, teams/<id> and
// emoji/<id>. Only the folders of rows the merge moved are copied; the instance's own folders
// (plugins, brand…) stay. The id sets are read once after the rows moved: channels and users, not posts.
struct ScopeFolders {
    std::set<std::string> users, teams, channels, emoji;
    bool moves(const std::string& rel) const;  // `rel`: a folder's path from the data directory's root
};

// What the command line asks for.
struct ScopeRequest {
    std::vector<std::string> teams;     // team Names
    std::vector<std::string> channels;  // "team-name/channel-name"
    bool direct_messages = true;        // --no-direct-messages: false
    bool empty() const { return teams.empty() && channels.empty(); }
    nlohmann::json state() const;  // saved with the plan: a resumed merge checks it is the same scope
    bool operator==(const ScopeRequest&) const = default;
};

class MergeScope {
public:
    MergeScope() = default;  // no scope: every row (a full merge)
    // Looks the names up on the source; a name the source lacks is an error naming it.
    static MergeScope resolve(Database& src, const Catalog& source, const ScopeRequest& request);
    bool active() const { return active_; }
    // The predicate selecting `table`'s rows of the scope on the source: "" without a scope (every
    // row), kNothing for a table that stays.
    std::string where(const std::string& table) const;
    bool moves(const std::string& table) const { return where(table) != kNothing; }
    // "teams a, b; channels t/c; DMs and group messages of their members" (for the plan and the record).
    const std::string& label() const { return label_; }
    // A short stable key of the resolved scope (team and channel ids): the record of a finished merge.
    const std::string& key() const { return key_; }
    ScopeFolders folders(Database& src, const Catalog& source) const;
    static constexpr const char* kNothing = "1 = 0";

private:
    bool active_ = false;
    std::string label_, key_;
    std::map<std::string, std::string> where_;  // lower-case table → predicate
};

}  // namespace mmmove
