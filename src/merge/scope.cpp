#include "merge/scope.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>

#include "catalog/references.h"
#include "core/error.h"
#include "merge/id_map.h"

namespace mmmove {

nlohmann::json ScopeRequest::state() const {
    return {{"teams", teams}, {"channels", channels}, {"direct_messages", direct_messages}};
}

namespace {

// The scope's sets as SQL on the source. Hand-written SQL names Mattermost's columns unquoted (both
// engines match them case-insensitively that way) and its tables by the source's stored names.
struct ScopeSql {
    Database& db;
    const Catalog& cat;
    std::string whole_teams, all_teams, named_channels;  // "(...)" lists of validated ids

    std::string table(const std::string& name) const {
        const Table* t = cat.find(name);
        if (!t) throw Error(ExitCode::destination, "The source has no " + name + " table, which a merge of one team reads; is it a Mattermost database?");
        return db.quote_ident(t->name);
    }
    // Members: whose DMs and group messages move with the scope.
    std::string members() const {
        return "SELECT UserId FROM " + table("TeamMembers") + " WHERE DeleteAt = 0 AND TeamId IN " + whole_teams +
               " UNION SELECT UserId FROM " + table("ChannelMembers") + " WHERE ChannelId IN " + named_channels;
    }
    std::string channels(bool direct_messages) const {
        std::string sql = "SELECT mm_c.Id FROM " + table("Channels") + " mm_c WHERE (mm_c.TeamId IN " + whole_teams +
                          " AND mm_c.Type IN ('O', 'P')) OR mm_c.Id IN " + named_channels;
        if (!direct_messages) return sql;
        const std::string cm = table("ChannelMembers");
        return sql + " OR (mm_c.Type IN ('D', 'G') AND EXISTS (SELECT 1 FROM " + cm + " mm_e WHERE mm_e.ChannelId = mm_c.Id) AND NOT EXISTS (SELECT 1 FROM " +
               cm + " mm_o WHERE mm_o.ChannelId = mm_c.Id AND mm_o.UserId NOT IN (" + members() + ")))";
    }
    std::string posts(const std::string& channels) const {
        return "SELECT mm_p.Id FROM " + table("Posts") + " mm_p WHERE mm_p.ChannelId IN (" + channels + ")";
    }
    // Users: members, anyone with a membership in a moved channel, and every author of moved posts
    // and reactions (their words keep an author).
    std::string users(const std::string& channels) const {
        return members() + " UNION SELECT UserId FROM " + table("ChannelMembers") + " WHERE ChannelId IN (" + channels + ") UNION SELECT UserId FROM " +
               table("Posts") + " WHERE ChannelId IN (" + channels + ") UNION SELECT UserId FROM " + table("Reactions") + " WHERE PostId IN (" +
               posts(channels) + ")";
    }
};

std::string id_list(const std::vector<std::string>& ids, Database& db) {
    if (ids.empty()) return "(NULL)";  // x IN (NULL) holds for no row
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "(" : ", ") + db.quote_literal(id);
    return out + ")";
}

std::string checked_id(const std::optional<std::string>& v, const std::string& what) {
    // An id read back from the source goes into SQL: only Mattermost's form is accepted.
    if (!v || !is_mattermost_id(*v))
        throw Error(ExitCode::bad_input, "The source's " + what + " has an id that is not a Mattermost id; mmmove will not use it.");
    return *v;
}

// Derives each table's predicate from the reference model (see scope.h).
class Deriver {
public:
    Deriver(Database& db, const Catalog& cat, std::map<std::string, std::string> base) : db_(db), cat_(cat), done_(std::move(base)) {}

    std::string where(const std::string& name) {
        const std::string key = lower(name);
        if (auto it = done_.find(key); it != done_.end()) return it->second;
        if (!visiting_.insert(key).second) return MergeScope::kNothing;  // a cycle: no anchor found through it
        std::string w = derive(name);
        visiting_.erase(key);
        return done_[key] = w;
    }

private:
    std::string in(const std::string& column, const std::string& target_table, const std::string& target_column) {
        const Table* t = cat_.find(target_table);
        const Column* c = t ? t->find_column(target_column) : nullptr;
        const std::string w = where(target_table);
        if (!c || w == MergeScope::kNothing) return MergeScope::kNothing;
        return column + " IN (SELECT " + db_.quote_ident(c->name) + " FROM " + db_.quote_ident(t->name) + " WHERE " + w + ")";
    }

    std::string derive(const std::string& name) {
        const Table* table = cat_.find(name);
        if (!table) return MergeScope::kNothing;
        std::vector<std::string> channel, channel_optional, post, team, owner, user, other;
        for (const auto* r : references_from(name)) {
            const Column* c = table->find_column(r->column);
            if (!c || r->kind == ColumnRefKind::names || r->loose || lower(r->target.table) == lower(name)) continue;
            const std::string col = db_.quote_ident(c->name), target = lower(r->target.table);
            if (target == "channels") {
                (r->optional ? channel_optional : channel).push_back(in(col, "Channels", r->target.column));
            } else if (r->optional) {
                continue;
            } else if (target == "posts") {
                post.push_back(in(col, "Posts", r->target.column));
            } else if (target == "teams") {
                team.push_back(in(col, "Teams", r->target.column));
            } else if (target == "users") {
                // UserId: the row is that person's (a membership, a category) and moves with them; a
                // CreatorId or OwnerId only names who made a row that belongs to its team or channel.
                (lower(r->column) == "userid" ? owner : user).push_back(in(col, "Users", r->target.column));
            } else {
                other.push_back(in(col, r->target.table, r->target.column));
            }
        }
        std::vector<std::string> conds;
        if (!channel.empty()) conds = channel;
        else if (!post.empty()) conds = post;
        else if (!team.empty()) conds = team, conds.insert(conds.end(), owner.begin(), owner.end());
        else if (!channel_optional.empty()) conds = channel_optional;
        else if (!owner.empty() || !user.empty()) conds = owner.empty() ? user : owner;
        else return MergeScope::kNothing;
        conds.insert(conds.end(), other.begin(), other.end());
        std::string w;
        for (const auto& c : conds) {
            if (c == MergeScope::kNothing) return MergeScope::kNothing;
            w += (w.empty() ? "" : " AND ") + c;
        }
        return w;
    }

    Database& db_;
    const Catalog& cat_;
    std::map<std::string, std::string> done_;
    std::set<std::string> visiting_;
};

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

MergeScope MergeScope::resolve(Database& db, const Catalog& cat, const ScopeRequest& request) {
    MergeScope scope;
    if (request.empty()) return scope;
    ScopeSql sql{db, cat, "", "", ""};
    std::vector<std::string> whole, all, named;
    for (const auto& name : request.teams) {
        auto r = db.query("SELECT Id FROM " + sql.table("Teams") + " WHERE Name = " + db.quote_literal(lower(name)));  // Mattermost's names are lower case
        if (r.empty()) throw Error(ExitCode::bad_input, "The source has no team named " + name + " (--team takes the team's name as in its URL).");
        whole.push_back(checked_id(r[0][0], "team " + name));
    }
    for (const auto& path : request.channels) {
        const size_t slash = path.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == path.size() || path.find('/', slash + 1) != std::string::npos)
            throw Error(ExitCode::bad_input, "--channel " + path + ": give TEAM/CHANNEL, the team's and the channel's names as in their URL.");
        const std::string team = path.substr(0, slash), channel = path.substr(slash + 1);
        auto r = db.query("SELECT c.Id, c.TeamId FROM " + sql.table("Channels") + " c JOIN " + sql.table("Teams") +
                          " t ON t.Id = c.TeamId WHERE t.Name = " + db.quote_literal(lower(team)) + " AND c.Name = " + db.quote_literal(lower(channel)));
        if (r.empty()) throw Error(ExitCode::bad_input, "The source has no channel " + channel + " in team " + team + " (--channel " + path + ").");
        named.push_back(checked_id(r[0][0], "channel " + path));
        all.push_back(checked_id(r[0][1], "team " + team));
    }
    all.insert(all.end(), whole.begin(), whole.end());
    for (auto* v : {&whole, &all, &named}) std::sort(v->begin(), v->end()), v->erase(std::unique(v->begin(), v->end()), v->end());
    sql.whole_teams = id_list(whole, db), sql.all_teams = id_list(all, db), sql.named_channels = id_list(named, db);

    const std::string channels = sql.channels(request.direct_messages);
    std::map<std::string, std::string> base{{"teams", "Id IN " + sql.all_teams},
                                            {"channels", "Id IN (" + channels + ")"},
                                            // A derived table: MariaDB then builds the set once per statement instead
                                            // of running the union again for every user it tests.
                                            {"users", "Id IN (SELECT mm_u.UserId FROM (" + sql.users(channels) + ") mm_u)"}};
    Deriver derive(db, cat, base);
    // Custom emoji are no reference of a column: the ones moved reactions use move with them.
    if (cat.find("Emoji") && cat.find("Reactions"))
        base["emoji"] = "Name IN (SELECT EmojiName FROM " + sql.table("Reactions") + " WHERE " + derive.where("Reactions") + ")";
    Deriver with_emoji(db, cat, base);
    for (const auto& t : cat.tables) scope.where_[lower(t.name)] = with_emoji.where(t.name);

    scope.active_ = true;
    for (const auto& t : request.teams) scope.label_ += (scope.label_.empty() ? "team " : ", team ") + t;
    for (const auto& c : request.channels) scope.label_ += (scope.label_.empty() ? "channel " : ", channel ") + c;
    scope.label_ += request.direct_messages ? "; with the DMs and group messages among its members" : "; without DMs and group messages";
    std::string ids;
    for (const auto& v : {whole, named})
        for (const auto& id : v) ids += id + ",";
    ids += request.direct_messages ? "dm" : "nodm";
    scope.key_ = hex64(XXH3_64bits(ids.data(), ids.size()));
    return scope;
}

ScopeFolders MergeScope::folders(Database& db, const Catalog& cat) const {
    ScopeFolders f;
    auto read = [&](const char* table, std::set<std::string>& into) {
        const Table* t = cat.find(table);
        if (!t || !moves(table)) return;
        auto reader = db.read_where(t->name, {t->primary_key.empty() ? "Id" : t->primary_key[0]}, where(table));
        FieldRow row;
        while (reader->next(row)) into.insert(std::string(row[0].view()));
    };
    read("Users", f.users);
    read("Teams", f.teams);
    read("Channels", f.channels);
    read("Emoji", f.emoji);
    return f;
}

bool ScopeFolders::moves(const std::string& rel) const {
    std::vector<std::string> c;
    for (size_t at = 0; at <= rel.size();) {
        size_t slash = rel.find('/', at);
        if (slash == std::string::npos) slash = rel.size();
        c.push_back(rel.substr(at, slash - at));
        at = slash + 1;
    }
    const bool dated = !c[0].empty() && c[0].find_first_not_of("0123456789") == std::string::npos;
    if (c.size() == 1) return dated || c[0] == "users" || c[0] == "teams" || c[0] == "emoji";
    if (!dated) {
        if (c.size() > 2 || (c[0] != "users" && c[0] != "teams" && c[0] != "emoji")) return true;  // beneath a folder already decided
        const std::set<std::string>* ids = c[0] == "users" ? &users : c[0] == "teams" ? &teams : &emoji;
        return ids->count(c[1]) > 0;
    }
    if (c.size() == 2) return c[1] == "teams";
    if (c.size() == 3) return c[2] == "noteam" || teams.count(c[2]) > 0;
    if (c.size() == 4) return c[3] == "channels";
    if (c.size() == 5) return channels.count(c[4]) > 0;
    return true;
}

std::string MergeScope::where(const std::string& table) const {
    if (!active_) return "";
    auto it = where_.find(lower(table));
    return it == where_.end() ? kNothing : it->second;
}

}  // namespace mmmove
