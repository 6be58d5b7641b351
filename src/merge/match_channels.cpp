// Planning a merge: channels (team channels by team and name; DM and group channels by their members
// after users are matched), custom emoji, and rows that match by Name.
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

std::vector<ChannelRow> read_channels(Database& db, const std::string& table, const std::string& types, const std::string& scope = "") {
    std::vector<ChannelRow> out;
    for (auto& r : db.query("SELECT Id, TeamId, Type, Name, DeleteAt, TotalMsgCount, TotalMsgCountRoot, LastPostAt, LastRootPostAt FROM " +
                            db.quote_ident(table) + " WHERE Type IN (" + types + ")" + scope))
        out.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""), number(r[4]) != 0, number(r[5]),
                       number(r[6]), number(r[7]), number(r[8])});
    return out;
}

void merge_into(MergePlan& plan, const ChannelRow& s, const ChannelRow& d, const std::string& how, const std::string& label) {
    plan.ids.match("channels", s.id, d.id);
    plan.merged_channels.push_back({d.id, d.total, d.total_root, s.total, s.total_root, s.last_post, s.last_root_post});
    plan.matches.push_back({"Channels", label, how});
}

}  // namespace

void match_channels(const Sides& s, MergePlan& plan) {
    std::map<std::string, ChannelRow> dest;  // "<team id>/<name>"
    std::set<std::string> taken;             // "<team id>/<name>" on both sides
    for (auto& c : read_channels(s.dst, s.dst_table("channels"), "'O', 'P'")) {
        taken.insert(c.team + "/" + c.name);
        dest[c.team + "/" + c.name] = c;
    }
    std::map<std::string, std::string> team_names;
    for (auto& r : s.src.query("SELECT Id, Name FROM " + s.src.quote_ident(s.src_table("teams")) + s.src_scope("teams", " WHERE "))) team_names[r[0].value_or("")] = lower(r[1].value_or(""));
    auto source = read_channels(s.src, s.src_table("channels"), "'O', 'P'", s.src_scope("channels", " AND "));
    for (const auto& c : source) {
        const std::string* mapped = plan.ids.find("teams", c.team);
        taken.insert((mapped ? *mapped : c.team) + "/" + c.name);
    }
    for (const auto& c : source) {
        const std::string* mapped = plan.ids.find("teams", c.team);
        const std::string team = mapped ? *mapped : c.team;
        const std::string label = team_names[c.team] + "/" + c.name;
        auto in_team = [&](const std::string& name) { return taken.count(team + "/" + name) > 0; };
        auto rename_to = [&](const std::string& name, const std::string& why) {
            taken.insert(team + "/" + name);
            plan.new_names["channels"][c.id] = name;
            plan.renames.channels[lower(c.name)] = name;
            plan.notes.push_back("channel " + label + " joins as a new channel, " + name + " (" + why + ")");
        };
        if (auto r = s.rules.channel_renames.find(lower(label)); r != s.rules.channel_renames.end()) {
            if (taken.count(team + "/" + r->second))
                plan.conflicts.push_back({"channel rename onto a used name", "channel " + label + " → " + r->second, "the merge is refused",
                                          "channels.rename: choose a name neither side uses in that team", true});
            else
                rename_to(r->second, "channels.rename");
            continue;
        }
        auto d = dest.find(team + "/" + c.name);
        if (d == dest.end()) continue;  // a new channel
        const ChannelRow& dc = d->second;
        if (c.archived && !dc.archived) {
            rename_to(unused_name(c.name, s.rules.channel_suffix, in_team), "archived on the source, active on the destination: it stays archived");
        } else if (!c.archived && dc.archived) {
            using A = MergeRules::ArchivedClash;
            if (s.rules.archived_destination == A::merge) {
                merge_into(plan, c, dc, "archived on the destination: the source's posts join it (archived_destination: merge)", label);
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
            merge_into(plan, c, dc, c.archived ? "archived on both sides: posts merge" : "same team and name: posts merge into one channel", label);
        }
    }
}

void match_direct_channels(const Sides& s, MergePlan& plan) {
    std::map<std::string, ChannelRow> dest;  // by Name
    for (auto& c : read_channels(s.dst, s.dst_table("channels"), "'D', 'G'")) dest[c.name] = c;
    std::map<std::string, std::vector<std::string>> group_members;
    const std::string cm = s.src.quote_ident(s.src_table("channelmembers")), ch = s.src.quote_ident(s.src_table("channels"));
    for (auto& r : s.src.query("SELECT m.ChannelId, m.UserId FROM " + cm + " m JOIN " + ch + " c ON c.Id = m.ChannelId WHERE c.Type = 'G'" +
                               s.src_scope("channels", " AND c.Id IN (SELECT Id FROM " + ch + " WHERE ") + (s.scope.active() ? ")" : "")))
        group_members[r[0].value_or("")].push_back(r[1].value_or(""));
    auto user = [&](const std::string& id) {
        const std::string* m = plan.ids.find("users", id);
        return m ? *m : id;
    };
    for (const auto& c : read_channels(s.src, s.src_table("channels"), "'D', 'G'", s.src_scope("channels", " AND "))) {
        std::string name;
        if (c.type == "D") {
            size_t sep = c.name.find("__");
            if (sep == std::string::npos) continue;  // not a name Mattermost builds: left as it is
            name = dm_channel_name(user(c.name.substr(0, sep)), user(c.name.substr(sep + 2)));
        } else {
            std::vector<std::string> members;
            for (const auto& u : group_members[c.id]) members.push_back(user(u));
            if (members.empty()) continue;
            name = gm_channel_name(members);
        }
        if (auto d = dest.find(name); d != dest.end())
            merge_into(plan, c, d->second, c.type == "D" ? "direct messages between the same two people" : "group messages of the same members",
                       c.type == "D" ? "DM " + name : "group " + name);
        else if (name != c.name)
            plan.new_names["channels"][c.id] = name;  // its members' ids changed: the name follows
    }
}

void match_emoji(const Sides& s, MergePlan& plan) {
    if (s.src_table("emoji").empty() || s.dst_table("emoji").empty()) return;
    // Live emoji match by Name; deleted ones by Name and DeleteAt (the destination's unique key).
    auto key = [](const QueryRow& r) { return r[1].value_or("") + (r[2].value_or("0") == "0" ? "" : "\n" + r[2].value_or("")); };
    std::map<std::string, std::string> dest;
    std::set<std::string> taken;
    for (auto& r : s.dst.query("SELECT Id, Name, DeleteAt FROM " + s.dst.quote_ident(s.dst_table("emoji")))) {
        dest[key(r)] = r[0].value_or("");
        taken.insert(r[1].value_or(""));
    }
    auto source = s.src.query("SELECT Id, Name, DeleteAt FROM " + s.src.quote_ident(s.src_table("emoji")) + s.src_scope("emoji", " WHERE "));
    for (auto& r : source) taken.insert(r[1].value_or(""));
    for (auto& r : source) {
        const std::string id = r[0].value_or(""), name = r[1].value_or("");
        auto d = dest.find(key(r));
        if (d == dest.end()) continue;
        if (r[2].value_or("0") != "0") {
            plan.ids.match("emoji", id, d->second);  // deleted on both sides at the same moment: one row
            continue;
        }
        if (s.rules.emoji_same_name == MergeRules::EmojiClash::keep_destination) {
            plan.ids.match("emoji", id, d->second);
            plan.conflicts.push_back({"custom emoji on both sides", ":" + name + ":",
                                      "the destination's image is kept; reactions and :" + name + ": in moved messages show it",
                                      "emoji.same_name: rename-source to keep both", false});
            continue;
        }
        std::string renamed = unused_name(name, s.rules.emoji_suffix, [&](const std::string& n) { return taken.count(n) > 0; });
        taken.insert(renamed);
        plan.new_names["emoji"][id] = renamed;
        plan.renames.emoji[name] = renamed;
        plan.conflicts.push_back({"custom emoji on both sides", ":" + name + ":",
                                  "the source's emoji joins as :" + renamed + ":; its reactions and :" + name + ": in moved messages follow",
                                  "emoji.same_name: rename-source (set)", false});
    }
}

void match_by_name(const Sides& s, MergePlan& plan, const std::string& table) {
    if (s.src_table(table).empty() || s.dst_table(table).empty()) return;
    std::map<std::string, std::string> dest;
    for (auto& r : s.dst.query("SELECT Id, Name FROM " + s.dst.quote_ident(s.dst_table(table)) + " WHERE Name IS NOT NULL"))
        dest[r[1].value_or("")] = r[0].value_or("");
    for (auto& r : s.src.query("SELECT Id, Name FROM " + s.src.quote_ident(s.src_table(table)) + " WHERE Name IS NOT NULL" + s.src_scope(table, " AND ")))
        if (auto d = dest.find(r[1].value_or("")); d != dest.end()) plan.ids.match(lower(table), r[0].value_or(""), d->second);
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
