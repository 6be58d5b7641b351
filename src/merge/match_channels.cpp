// Planning a merge: channels (team channels by team and name; DM and group channels by their members
// after users are matched), custom emoji, and rows that match by their key columns alone.
#include <set>

#include "catalog/catalog.h"
#include "merge/matching.h"
#include "transform/id_values.h"

namespace mmmove::matching {
namespace {

struct ChannelRow {
    std::string id, team, type, name;
    bool archived = false;
    int64_t total = 0, total_root = 0, last_post = 0, last_root_post = 0;
};

int64_t number(const std::optional<std::string>& v) {
    try {
        return v && !v->empty() ? std::stoll(*v) : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

// Channel rows carry more than their key: their type (which step matches them), whether they are
// archived (the archived_destination policy), and the counters members' read state is computed from.
// That is the channel steps' own code; the key columns (team, name) come from the identity entry.
std::vector<ChannelRow> read_channels(const Sides& s, Database& db, const IdentityKey& id, const std::string& types, const std::string& scope = "") {
    const std::string& t = id.table;
    std::string sql = "SELECT " + s.id_column(db, t) + ", " + s.column(db, t, id.keys[0][0]) + ", " + s.column(db, t, "Type") + ", " +
                      s.column(db, t, id.keys[0][1]);
    for (const char* c : {"DeleteAt", "TotalMsgCount", "TotalMsgCountRoot", "LastPostAt", "LastRootPostAt"}) sql += ", " + s.column(db, t, c);
    std::vector<ChannelRow> out;
    for (auto& r : db.query(sql + " FROM " + s.table(db, t) + " WHERE " + s.column(db, t, "Type") + " IN (" + types + ")" + scope))
        out.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""), number(r[4]) != 0, number(r[5]),
                       number(r[6]), number(r[7]), number(r[8])});
    return out;
}

// The table whose ids a column of `table` holds ("" when it is no reference): a channel's team.
std::string referenced_table(const Sides& s, const std::string& table, const std::string& column) {
    for (const auto& r : s.model.columns)
        if (lower(r.table) == lower(table) && lower(r.column) == lower(column)) return lower(r.target.table);
    return "";
}

// The source's names of the rows a channel key's team column points at, by id (for the plan's labels).
std::map<std::string, std::string> team_names(const Sides& s, const std::string& teams_table) {
    std::map<std::string, std::string> out;
    const IdentityKey* teams = nullptr;
    for (const auto& id : s.model.identities)
        if (!teams && lower(id.table) == teams_table) teams = &id;
    if (!teams || s.src_table(teams_table).empty()) return out;
    for (auto& r : s.src.query("SELECT " + s.id_column(s.src, teams_table) + ", " + s.column(s.src, teams_table, teams->shown()) + " FROM " +
                               s.table(s.src, teams_table) + s.src_scope(teams_table, " WHERE ")))
        out[r[0].value_or("")] = lower(r[1].value_or(""));
    return out;
}

void merge_into(MergePlan& plan, const IdentityKey& id, const ChannelRow& s, const ChannelRow& d, const std::string& how, const std::string& label) {
    plan.ids.match(lower(id.table), s.id, d.id);
    plan.merged_channels.push_back({d.id, d.total, d.total_root, s.total, s.total_root, s.last_post, s.last_root_post});
    plan.matches.push_back({id.table, label, how});
}

// One source channel against the destination's channel of the same team and name, if any.
struct ChannelClash {
    const Sides& s;
    MergePlan& plan;
    const IdentityKey& id;
    const std::map<std::string, ChannelRow>& dest;  // "<team id>/<name>"
    std::set<std::string>& taken;                   // "<team id>/<name>" on both sides

    void settle(const ChannelRow& c, const std::string& team, const std::string& label) {
        auto in_team = [&](const std::string& name) { return taken.count(team + "/" + name) > 0; };
        auto rename_to = [&](const std::string& name, const std::string& why) {
            taken.insert(team + "/" + name);
            plan.new_names[lower(id.table)][c.id] = name;
            plan.renames.channels[lower(c.name)] = name;
            plan.notes.push_back("channel " + label + " joins as a new channel, " + name + " (" + why + ")");
        };
        if (auto r = s.rules.channel_renames.find(lower(label)); r != s.rules.channel_renames.end()) {
            if (taken.count(team + "/" + r->second))
                plan.conflicts.push_back({"channel rename onto a used name", "channel " + label + " → " + r->second, "the merge is refused",
                                          "channels.rename: choose a name neither side uses in that team", true});
            else
                rename_to(r->second, "channels.rename");
            return;
        }
        auto d = dest.find(team + "/" + c.name);
        if (d == dest.end()) return;  // a new channel
        const ChannelRow& dc = d->second;
        if (c.archived && !dc.archived) {
            rename_to(unused_name(c.name, s.rules.channel_suffix, in_team), "archived on the source, active on the destination: it stays archived");
        } else if (!c.archived && dc.archived) {
            using A = MergeRules::ArchivedClash;
            if (s.rules.archived_destination == A::merge) {
                merge_into(plan, id, c, dc, "archived on the destination: the source's posts join it (archived_destination: merge)", label);
            } else if (s.rules.archived_destination == A::rename_source) {
                std::string name = unused_name(c.name, s.rules.channel_suffix, in_team);
                rename_to(name, "the destination's namesake is archived");
                plan.conflicts.push_back({"archived destination channel", "channel " + label, "the source's channel joins as " + name,
                                          "channels.archived_destination: rename-source (set)", false});
            } else {
                plan.conflicts.push_back({"archived destination channel", "channel " + label + " is archived on the destination, active on the source",
                                          "the merge is refused",
                                          "channels.archived_destination: merge (posts join the archived channel) or rename-source", true});
            }
        } else {
            merge_into(plan, id, c, dc, c.archived ? "archived on both sides: posts merge" : "same team and name: posts merge into one channel", label);
        }
    }
};

}  // namespace

// The key is [[team, name]]: the team column compares through the identity of the rows it points at.
void match_channels(const Sides& s, MergePlan& plan, const IdentityKey& id) {
    if (s.src_table(id.table).empty() || s.dst_table(id.table).empty()) return;
    const std::string teams = referenced_table(s, id.table, id.keys[0][0]);
    std::map<std::string, ChannelRow> dest;
    std::set<std::string> taken;
    for (auto& c : read_channels(s, s.dst, id, "'O', 'P'")) {
        taken.insert(c.team + "/" + c.name);
        dest[c.team + "/" + c.name] = c;
    }
    std::map<std::string, std::string> names = team_names(s, teams);
    auto source = read_channels(s, s.src, id, "'O', 'P'", s.src_scope(id.table, " AND "));
    auto team_of = [&](const ChannelRow& c) {
        const std::string* mapped = teams.empty() ? nullptr : plan.ids.find(teams, c.team);
        return mapped ? *mapped : c.team;
    };
    for (const auto& c : source) taken.insert(team_of(c) + "/" + c.name);
    ChannelClash clash{s, plan, id, dest, taken};
    for (const auto& c : source) clash.settle(c, team_of(c), names[c.team] + "/" + c.name);
}

namespace {

// The rule that rebuilds a D or G channel's name from its members (the `derived` section), or nullptr.
const DerivedName* name_rule(const Sides& s, const IdentityKey& id, DerivedRule rule) {
    for (const auto& d : s.model.derived)
        if (lower(d.table) == lower(id.table) && lower(d.column) == lower(id.keys[0][1]) && d.rule == rule) return &d;
    return nullptr;
}

// The source's group channels' members, by channel id: the rows of the members table the GM rule reads.
std::map<std::string, std::vector<std::string>> group_members(const Sides& s, const IdentityKey& id, const DerivedName& gm) {
    std::map<std::string, std::vector<std::string>> out;
    const std::string members = gm.inputs.at(0).table;
    std::string channel_column;
    for (const auto* r : references_from(members))
        if (lower(r->target.table) == lower(id.table)) channel_column = r->column;
    if (channel_column.empty() || s.src_table(members).empty()) return out;
    const std::string cm = s.table(s.src, members), ch = s.table(s.src, id.table), chid = s.id_column(s.src, id.table);
    const std::string m_channel = "m." + s.column(s.src, members, channel_column);
    for (auto& r : s.src.query("SELECT " + m_channel + ", m." + s.column(s.src, members, gm.inputs.at(0).column) + " FROM " + cm + " m JOIN " +
                               ch + " c ON c." + chid + " = " + m_channel + " WHERE c." + s.column(s.src, id.table, "Type") + " = 'G'" +
                               s.src_scope(id.table, " AND c." + chid + " IN (SELECT " + chid + " FROM " + ch + " WHERE ") +
                               (s.scope.active() ? ")" : "")))
        out[r[0].value_or("")].push_back(r[1].value_or(""));
    return out;
}

}  // namespace

// D and G channels match by their name, rebuilt from their members' destination ids by the rules of
// the `derived` section (DM: sorted ids joined; group: SHA-1 of the sorted ids).
void match_direct_channels(const Sides& s, MergePlan& plan, const IdentityKey& id) {
    const DerivedName *dm = name_rule(s, id, DerivedRule::sorted_join), *gm = name_rule(s, id, DerivedRule::sha1_sorted);
    if (!dm || !gm || s.src_table(id.table).empty() || s.dst_table(id.table).empty()) return;
    std::map<std::string, ChannelRow> dest;  // by Name
    for (auto& c : read_channels(s, s.dst, id, "'D', 'G'")) dest[c.name] = c;
    std::map<std::string, std::vector<std::string>> members = group_members(s, id, *gm);
    const std::string users = referenced_table(s, dm->inputs.at(0).table, dm->inputs.at(0).column);  // a member's user
    auto user = [&](const std::string& uid) {
        const std::string* m = plan.ids.find(users, uid);
        return m ? *m : uid;
    };
    for (const auto& c : read_channels(s, s.src, id, "'D', 'G'", s.src_scope(id.table, " AND "))) {
        std::string name;
        if (c.type == "D") {
            size_t sep = c.name.find(dm->separator);
            if (sep == std::string::npos) continue;  // not a name Mattermost builds: left as it is
            name = dm_channel_name(user(c.name.substr(0, sep)), user(c.name.substr(sep + dm->separator.size())));
        } else {
            std::vector<std::string> ids;
            for (const auto& u : members[c.id]) ids.push_back(user(u));
            if (ids.empty()) continue;
            name = gm_channel_name(ids);
        }
        if (auto d = dest.find(name); d != dest.end())
            merge_into(plan, id, c, d->second, c.type == "D" ? "direct messages between the same two people" : "group messages of the same members",
                       c.type == "D" ? "DM " + name : "group " + name);
        else if (name != c.name)
            plan.new_names[lower(id.table)][c.id] = name;  // its members' ids changed: the name follows
    }
}

void match_emoji(const Sides& s, MergePlan& plan, const IdentityKey& id) {
    if (s.src_table(id.table).empty() || s.dst_table(id.table).empty()) return;
    const std::string table = lower(id.table);
    // Live emoji match by their key; deleted ones by key and DeleteAt (the destination's unique key).
    auto read = [&](Database& db, const std::string& scope) {
        return db.query("SELECT " + s.id_column(db, table) + ", " + s.column(db, table, id.keys[0][0]) + ", " + s.column(db, table, "DeleteAt") +
                        " FROM " + s.table(db, table) + scope);
    };
    auto key = [](const QueryRow& r) { return r[1].value_or("") + (r[2].value_or("0") == "0" ? "" : "\n" + r[2].value_or("")); };
    std::map<std::string, std::string> dest;
    std::set<std::string> taken;
    for (auto& r : read(s.dst, "")) {
        dest[key(r)] = r[0].value_or("");
        taken.insert(r[1].value_or(""));
    }
    auto source = read(s.src, s.src_scope(table, " WHERE "));
    for (auto& r : source) taken.insert(r[1].value_or(""));
    for (auto& r : source) {
        const std::string sid = r[0].value_or(""), name = r[1].value_or("");
        auto d = dest.find(key(r));
        if (d == dest.end()) continue;
        if (r[2].value_or("0") != "0") {
            plan.ids.match(table, sid, d->second);  // deleted on both sides at the same moment: one row
            continue;
        }
        if (s.rules.emoji_same_name == MergeRules::EmojiClash::keep_destination) {
            plan.ids.match(table, sid, d->second);
            plan.conflicts.push_back({"custom emoji on both sides", ":" + name + ":",
                                      "the destination's image is kept; reactions and :" + name + ": in moved messages show it",
                                      "emoji.same_name: rename-source to keep both", false});
            continue;
        }
        std::string renamed = unused_name(name, s.rules.emoji_suffix, [&](const std::string& n) { return taken.count(n) > 0; });
        taken.insert(renamed);
        plan.new_names[table][sid] = renamed;
        plan.renames.emoji[name] = renamed;
        plan.conflicts.push_back({"custom emoji on both sides", ":" + name + ":",
                                  "the source's emoji joins as :" + renamed + ":; its reactions and :" + name + ": in moved messages follow",
                                  "emoji.same_name: rename-source (set)", false});
    }
}

// Rows whose key columns hold the same values are the same row; the first key that agrees decides.
void match_by_key(const Sides& s, MergePlan& plan, const IdentityKey& id) {
    if (s.src_table(id.table).empty() || s.dst_table(id.table).empty()) return;
    auto read = [&](Database& db, const std::vector<std::string>& key, const std::string& scope) {
        std::string sql = "SELECT " + s.id_column(db, id.table), present;
        for (const auto& c : key) {
            sql += ", " + s.column(db, id.table, c);
            present += (present.empty() ? " WHERE " : " AND ") + s.column(db, id.table, c) + " IS NOT NULL";
        }
        return db.query(sql + " FROM " + s.table(db, id.table) + present + scope);
    };
    auto values = [](const QueryRow& r) {
        std::vector<std::string> v;
        for (size_t i = 1; i < r.size(); ++i) v.push_back(r[i].value_or(""));
        return v;
    };
    const std::string table = lower(id.table);
    for (const auto& key : id.keys) {
        std::map<std::vector<std::string>, std::string> dest;
        for (auto& r : read(s.dst, key, "")) dest[values(r)] = r[0].value_or("");
        for (auto& r : read(s.src, key, s.src_scope(id.table, " AND ")))
            if (auto d = dest.find(values(r)); d != dest.end() && !plan.ids.matched(table, r[0].value_or("")))
                plan.ids.match(table, r[0].value_or(""), d->second);
    }
}

void match_identities(const Sides& s, MergePlan& plan) {
    using M = IdentityKey::Matcher;
    for (const auto& id : s.model.identities) switch (id.matcher) {
            case M::users: match_users(s, plan, id); break;
            case M::teams: match_teams(s, plan, id); break;
            case M::channels: match_channels(s, plan, id); break;
            case M::direct_channels: match_direct_channels(s, plan, id); break;
            case M::emoji: match_emoji(s, plan, id); break;
            case M::name: match_by_key(s, plan, id); break;
            case M::bots:    // matched with their users (match_users)
            case M::joined:  // matched through the rows their key joins
                break;
        }
}

void renumber_collisions(const Sides& s, MergePlan& plan, const std::string& table, const std::string& key_column) {
    const std::string src_name = s.src_table(table), dst_name = s.dst_table(table);
    if (src_name.empty() || dst_name.empty()) return;
    auto order = [&](Database& db) {  // byte order on both engines, so the two streams merge
        const std::string scope = &db == &s.src ? s.src_scope(table, "") : "";
        return (scope.empty() ? "1 = 1" : scope) + " ORDER BY " + (db.engine() == Engine::postgres ? db.quote_ident(lower(key_column)) + " COLLATE \"C\""
                                                                    : "BINARY " + db.quote_ident(key_column));
    };
    auto column = [&](Database& db) { return db.engine() == Engine::postgres ? lower(key_column) : key_column; };
    auto src_ids = s.src.read_where(src_name, {column(s.src)}, order(s.src));
    auto dst_ids = s.dst.read_where(dst_name, {column(s.dst)}, order(s.dst));
    FieldRow a, b;
    bool more_a = src_ids->next(a), more_b = dst_ids->next(b);
    const std::string t = lower(table);
    while (more_a && more_b) {
        std::string_view x = a[0].view(), y = b[0].view();
        if (x < y) {
            more_a = src_ids->next(a);
        } else if (y < x) {
            more_b = dst_ids->next(b);
        } else {
            if (!plan.ids.matched(t, x)) plan.ids.renumber(t, std::string(x), new_mattermost_id());
            more_a = src_ids->next(a);
        }
    }
    while (more_a) more_a = src_ids->next(a);  // a stream is read to its end before the connection is used again
    while (more_b) more_b = dst_ids->next(b);
}

}  // namespace mmmove::matching
