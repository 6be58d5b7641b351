#include "merge/scope.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>

#include "catalog/references.h"
#include "core/error.h"
#include "merge/id_map.h"
#include "merge/scope_model.h"

namespace mmmove {

nlohmann::json ScopeRequest::state() const {
    return {{"teams", teams}, {"channels", channels}, {"direct_messages", direct_messages}};
}

namespace {

// The scope's sets as SQL on the source, from the scope model (mappings/references.yaml `scope:`). Every
// table and column is looked up in the source's catalog and quoted as stored; a value is a literal.
struct ScopeSql {
    Database& db;
    const Catalog& cat;
    const ScopeModel& m;
    std::string whole_teams, all_teams, named_channels;  // "(...)" lists of validated ids

    const Table& table_of(const std::string& name) const {
        const Table* t = cat.find(name);
        if (!t) throw Error(ExitCode::destination, "The source has no " + name + " table, which a merge of one team reads; is it a Mattermost database?");
        return *t;
    }
    std::string table(const std::string& name) const { return db.quote_ident(table_of(name).name); }
    std::string col(const std::string& table, const std::string& column, const std::string& alias = "") const {
        const Column* c = table_of(table).find_column(column);
        if (!c)
            throw Error(ExitCode::destination,
                        "The source's " + table + " table has no " + column + " column, which a merge of one team reads; is it a Mattermost database?");
        return (alias.empty() ? "" : alias + ".") + db.quote_ident(c->name);
    }
    std::string where(const std::string& table, const ScopeWhere& w, const std::string& alias = "") const {
        std::string out;
        for (const auto& [column, values] : w) {
            std::string list;
            for (const auto& v : values) list += (list.empty() ? "" : ", ") + db.quote_literal(v);
            out += (out.empty() ? "" : " AND ") + col(table, column, alias) + " IN (" + list + ")";
        }
        return out.empty() ? "1 = 1" : out;
    }
    // Members: whose DMs and group messages move with the scope.
    std::string members() const {
        std::string sql;
        for (const auto& e : m.members) {
            const bool team = !e.team.empty();
            sql += std::string(sql.empty() ? "" : " UNION ") + "SELECT " + col(e.table, e.user) + " AS mm_id FROM " + table(e.table) + " WHERE " +
                   col(e.table, team ? e.team : e.channel) + " IN " + (team ? whole_teams : named_channels) + " AND " + where(e.table, e.where);
        }
        return sql;
    }
    std::string channels(bool direct_messages) const {
        const auto& c = m.channel;
        std::string sql = "SELECT " + col(c.table, c.id, "mm_c") + " FROM " + table(c.table) + " mm_c WHERE (" + col(c.table, c.team, "mm_c") + " IN " +
                          whole_teams + " AND " + where(c.table, c.of_team, "mm_c") + ") OR " + col(c.table, c.id, "mm_c") + " IN " + named_channels;
        if (!direct_messages) return sql;
        const auto& v = m.conversations;
        const std::string of = col(v.table, v.channel, "mm_e") + " = " + col(c.table, c.id, "mm_c");
        const std::string of_o = col(v.table, v.channel, "mm_o") + " = " + col(c.table, c.id, "mm_c");
        return sql + " OR (" + where(c.table, v.where, "mm_c") + " AND EXISTS (SELECT 1 FROM " + table(v.table) + " mm_e WHERE " + of +
               ") AND NOT EXISTS (SELECT 1 FROM " + table(v.table) + " mm_o WHERE " + of_o + " AND " + col(v.table, v.user, "mm_o") + " NOT IN (" +
               members() + ")))";
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

std::string joined(const std::vector<std::string>& parts, const char* glue) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : glue) + p;
    return out;
}

bool has_column(const Catalog& cat, const std::string& table, const std::string& column) {
    const Table* t = cat.find(table);
    return t && t->find_column(column);
}

// A carried table's rows (scope model `carry`): its key is a value of a `by` column in a moved row, or
// written as :key: in a moved row's text column. The text test runs on the source server in one join
// of the carried table with the moved texts that hold two colons at all (POSITION, not LIKE, for the
// name: '_' is a LIKE wildcard and common in emoji names). A correlated EXISTS per emoji re-read the
// moved posts once per emoji: minutes on a 100k-post sample, against under a second for the join.
std::string carried(const ScopeSql& sql, const ScopeModel::Carry& c, Deriver& derive) {
    if (!has_column(sql.cat, c.table, c.key)) return MergeScope::kNothing;
    std::vector<std::string> any, texts;
    for (const auto& by : c.by) {
        const std::string w = has_column(sql.cat, by.table, by.column) ? derive.where(by.table) : MergeScope::kNothing;
        if (w != MergeScope::kNothing)
            any.push_back(sql.col(c.table, c.key) + " IN (SELECT " + sql.col(by.table, by.column) + " FROM " + sql.table(by.table) + " WHERE " + w + ")");
    }
    std::vector<ScopeColumn> text = c.text;
    for (const auto& t : references().text)
        if (t.form == TextForm::emoji && lower(t.targets.at(0).table) == lower(c.table) && lower(t.targets.at(0).column) == lower(c.key))
            text.push_back({t.table, t.column});
    for (const auto& t : text) {
        const std::string w = has_column(sql.cat, t.table, t.column) ? derive.where(t.table) : MergeScope::kNothing;
        if (w != MergeScope::kNothing)
            texts.push_back("SELECT " + sql.col(t.table, t.column) + " AS mm_text FROM " + sql.table(t.table) + " WHERE (" + w + ") AND " +
                            sql.col(t.table, t.column) + " LIKE '%:%:%'");
    }
    if (!texts.empty())
        any.push_back(sql.col(c.table, c.key) + " IN (SELECT " + sql.col(c.table, c.key, "mm_k") + " FROM " + sql.table(c.table) + " mm_k JOIN (" +
                      joined(texts, " UNION ALL ") + ") mm_t ON POSITION(CONCAT(':', " + sql.col(c.table, c.key, "mm_k") + ", ':') IN mm_t.mm_text) > 0)");
    return any.empty() ? MergeScope::kNothing : "(" + joined(any, " OR ") + ")";
}

// Preferences that name a row (references.yaml `preferences`) move only when that row does; the rest
// of a moved user's preferences (display settings, a tutorial step naming the user themself) move.
std::string preference_rule(const ScopeSql& sql, Deriver& derive) {
    const auto& p = sql.m.preferences;
    std::vector<std::string> naming, kept;
    for (const auto& r : references().preferences) {
        if (!r.equals.empty()) continue;  // names the row's own user
        std::string is = sql.col(p.table, p.category) + " = " + sql.db.quote_literal(r.category);
        if (!r.name.empty()) is += " AND " + sql.col(p.table, p.name) + " = " + sql.db.quote_literal(r.name);
        const std::string field = sql.col(p.table, r.field == PreferenceField::name ? p.name : p.value);
        const std::string w = has_column(sql.cat, r.target.table, r.target.column) ? derive.where(r.target.table) : MergeScope::kNothing;
        // A list (teams_order) moves when it is one moved id: naming an unmoved row it would dangle.
        std::string moves = w == MergeScope::kNothing ? MergeScope::kNothing
                                                      : field + " IN (SELECT " + sql.col(r.target.table, r.target.column) + " FROM " +
                                                            sql.table(r.target.table) + " WHERE " + w + ")";
        if (r.optional) moves = "(" + moves + " OR " + field + " = '')";
        naming.push_back("(" + is + ")");
        kept.push_back("(" + is + " AND " + moves + ")");
    }
    return naming.empty() ? "" : "(NOT (" + joined(naming, " OR ") + ") OR " + joined(kept, " OR ") + ")";
}

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

MergeScope MergeScope::resolve(Database& db, const Catalog& cat, const ScopeRequest& request) {
    MergeScope scope;
    if (request.empty()) return scope;
    const ScopeModel& m = scope_model();
    ScopeSql sql{db, cat, m, "", "", ""};
    std::vector<std::string> whole, all, named;
    const auto& tm = m.team;
    for (const auto& name : request.teams) {
        // Mattermost's names are lower case.
        auto r = db.query("SELECT " + sql.col(tm.table, tm.id) + " FROM " + sql.table(tm.table) + " WHERE " + sql.col(tm.table, tm.name) + " = " +
                          db.quote_literal(lower(name)));
        if (r.empty()) throw Error(ExitCode::bad_input, "The source has no team named " + name + " (--team takes the team's name as in its URL).");
        whole.push_back(checked_id(r[0][0], "team " + name));
    }
    const auto& ch = m.channel;
    for (const auto& path : request.channels) {
        const size_t slash = path.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == path.size() || path.find('/', slash + 1) != std::string::npos)
            throw Error(ExitCode::bad_input, "--channel " + path + ": give TEAM/CHANNEL, the team's and the channel's names as in their URL.");
        const std::string team = path.substr(0, slash), channel = path.substr(slash + 1);
        auto r = db.query("SELECT " + sql.col(ch.table, ch.id, "c") + ", " + sql.col(ch.table, ch.team, "c") + " FROM " + sql.table(ch.table) + " c JOIN " +
                          sql.table(tm.table) + " t ON " + sql.col(tm.table, tm.id, "t") + " = " + sql.col(ch.table, ch.team, "c") + " WHERE " +
                          sql.col(tm.table, tm.name, "t") + " = " + db.quote_literal(lower(team)) + " AND " + sql.col(ch.table, ch.name, "c") + " = " +
                          db.quote_literal(lower(channel)));
        if (r.empty()) throw Error(ExitCode::bad_input, "The source has no channel " + channel + " in team " + team + " (--channel " + path + ").");
        named.push_back(checked_id(r[0][0], "channel " + path));
        all.push_back(checked_id(r[0][1], "team " + team));
    }
    all.insert(all.end(), whole.begin(), whole.end());
    for (auto* v : {&whole, &all, &named}) std::sort(v->begin(), v->end()), v->erase(std::unique(v->begin(), v->end()), v->end());
    sql.whole_teams = id_list(whole, db), sql.all_teams = id_list(all, db), sql.named_channels = id_list(named, db);

    std::map<std::string, std::string> base{{lower(tm.table), sql.col(tm.table, tm.id) + " IN " + sql.all_teams},
                                            {lower(ch.table), sql.col(ch.table, ch.id) + " IN (" + sql.channels(request.direct_messages) + ")"}};
    // Users: the members and whoever the `authors` columns of moved rows name. A derived table: MariaDB
    // then builds the set once per statement instead of running the union again for every user it tests.
    Deriver moved(db, cat, base);
    std::string users = sql.members();
    for (const auto& a : m.authors)
        if (has_column(cat, a.table, a.column) && moved.where(a.table) != kNothing)
            users += " UNION SELECT " + sql.col(a.table, a.column) + " AS mm_id FROM " + sql.table(a.table) + " WHERE " + moved.where(a.table);
    base[lower(m.user.table)] = sql.col(m.user.table, m.user.id) + " IN (SELECT mm_u.mm_id FROM (" + users + ") mm_u)";
    // Rows the moved rows use by value or in text, in the model's order (a scheme before its roles).
    for (const auto& c : m.carry) {
        Deriver derive(db, cat, base);
        if (cat.find(c.table)) base[lower(c.table)] = carried(sql, c, derive);
    }
    if (cat.find(m.preferences.table)) {
        Deriver derive(db, cat, base);
        const std::string own = derive.where(m.preferences.table), rule = preference_rule(sql, derive);
        if (own != kNothing && !rule.empty()) base[lower(m.preferences.table)] = own + " AND " + rule;
    }
    Deriver derive(db, cat, base);
    for (const auto& t : cat.tables) scope.where_[lower(t.name)] = derive.where(t.name);

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
