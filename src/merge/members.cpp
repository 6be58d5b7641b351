#include "merge/members.h"

#include "catalog/catalog.h"
#include "merge/merge_stage.h"
#include "pipeline/staging.h"

namespace mmmove {
namespace {

// A merged channel's totals after the merge (settle_memberships, step 4): both sides' message counts
// added, the later last post.
struct TotalRule {
    const char* column;  // lower case
    const char* saved;   // its source-side value in kMergedChannels
    int64_t MergedChannel::*source;
    bool sum;            // else the later
};
constexpr std::array<TotalRule, 4> kChannelTotals = {{{"totalmsgcount", "source_total", &MergedChannel::source_total, true},
                                                      {"totalmsgcountroot", "source_total_root", &MergedChannel::source_total_root, true},
                                                      {"lastpostat", "source_last_post", &MergedChannel::source_last_post, false},
                                                      {"lastrootpostat", "source_last_root_post", &MergedChannel::source_last_root_post, false}}};

}  // namespace

void save_channel_totals(Database& dst, const Catalog& cat, const MergePlan& plan) {
    for (const auto& [kept, table] : {std::pair{kKeptChannels, "channels"}, std::pair{kKeptSeenMembers, "channelmembers"}}) {
        dst.exec(std::string("DROP TABLE IF EXISTS ") + kept);
        if (const Table* t = cat.find(table))
            dst.exec(std::string("CREATE TABLE ") + kept + " AS SELECT * FROM " + dst.quote_ident(t->name) + " WHERE 1 = 0");
    }
    dst.exec(std::string("DROP TABLE IF EXISTS ") + kMergedChannels);
    dst.exec(std::string("CREATE TABLE ") + kMergedChannels + " (dest_id varchar(26) NOT NULL PRIMARY KEY, dest_total bigint NOT NULL, "
             "dest_total_root bigint NOT NULL, source_total bigint NOT NULL, source_total_root bigint NOT NULL, "
             "source_last_post bigint NOT NULL, source_last_root_post bigint NOT NULL)");
    ValuesInsert insert(dst, std::string("INSERT INTO ") + kMergedChannels);
    for (const auto& c : plan.merged_channels) {
        std::string row = "(" + dst.quote_literal(c.dest_id);
        for (int64_t v : {c.dest_total, c.dest_total_root, c.source_total, c.source_total_root, c.source_last_post, c.source_last_root_post})
            row += ", " + std::to_string(v);
        insert.add(row + ")");
    }
    insert.finish();
}

namespace {

struct Sql {
    Database& db;
    bool pg;
    std::string q(const std::string& s) const { return db.quote_ident(s); }
    std::string col(const Table& t, const char* name) const { return t.find_column(name) ? t.find_column(name)->name : ""; }
    std::string greatest(const std::string& a, const std::string& b) const { return "GREATEST(COALESCE(" + a + ", 0), COALESCE(" + b + ", 0))"; }
    std::string sum(const std::string& a, const std::string& b) const { return "COALESCE(" + a + ", 0) + COALESCE(" + b + ", 0)"; }
};

// UPDATE `target` d from `from` (aliased as given) on `on`, setting `sets`, where `where` — in each engine's form.
void update_join(const Sql& s, const std::string& target, const std::string& from, const std::string& on,
                 const std::vector<std::pair<std::string, std::string>>& sets, const std::string& where = "") {
    std::string set_list;
    for (const auto& [c, v] : sets) set_list += (set_list.empty() ? "" : ", ") + std::string(s.pg ? "" : "d.") + s.q(c) + " = " + v;
    if (s.pg)
        s.db.exec("UPDATE " + s.q(target) + " d SET " + set_list + " FROM " + from + " WHERE " + on + (where.empty() ? "" : " AND " + where));
    else
        s.db.exec("UPDATE " + s.q(target) + " d JOIN " + from + " ON " + on + " SET " + set_list + (where.empty() ? "" : " WHERE " + where));
}

}  // namespace

void settle_memberships(Database& dst, const Catalog& cat, const std::string& kept_table) {
    const Table* cm = cat.find("channelmembers");
    const Table* ch = cat.find("channels");
    if (!cm || !ch) return;
    Sql s{dst, dst.engine() == Engine::postgres};
    const std::string hold = MergeStage::kHeldMembers, mc = kMergedChannels;
    const std::string same = "d." + s.q(s.col(*cm, "channelid")) + " = h." + s.q(s.col(*cm, "channelid")) + " AND d." +
                             s.q(s.col(*cm, "userid")) + " = h." + s.q(s.col(*cm, "userid"));
    // 0. For verify: the destination's memberships that step 1 combines, as they are now.
    if (!kept_table.empty()) {
        std::vector<std::string> columns, key = {s.col(*cm, "channelid"), s.col(*cm, "userid")};
        for (const auto& c : cm->columns) columns.push_back(c.name);
        dst.exec("INSERT INTO " + s.q(kept_table) + " (" + dst.column_list(columns) + ") " + rows_keyed_in(dst, cm->name, columns, key, hold));
    }
    // 1. Members on both sides: their counts add up, their last view is the later one.
    std::vector<std::pair<std::string, std::string>> sets;
    for (const char* c : kSummedMemberColumns)
        if (!s.col(*cm, c).empty()) sets.push_back({s.col(*cm, c), s.sum("d." + s.q(s.col(*cm, c)), "h." + s.q(s.col(*cm, c)))});
    for (const char* c : kLatestMemberColumns)
        if (!s.col(*cm, c).empty()) sets.push_back({s.col(*cm, c), s.greatest("d." + s.q(s.col(*cm, c)), "h." + s.q(s.col(*cm, c)))});
    update_join(s, cm->name, hold + " h", same, sets);
    // 2. Destination-only members of a merged channel have read the source's posts: nothing new is unread.
    const std::string msg = s.col(*cm, "msgcount"), msg_root = s.col(*cm, "msgcountroot");
    std::vector<std::pair<std::string, std::string>> seen = {{msg, s.sum("d." + s.q(msg), "c.source_total")},
                                                             {msg_root, s.sum("d." + s.q(msg_root), "c.source_total_root")}};
    const std::string in_channel = "d." + s.q(s.col(*cm, "channelid")) + " = c.dest_id";
    const std::string not_held = "NOT EXISTS (SELECT 1 FROM " + hold + " h WHERE " + same + ")";
    {  // for verify: those members as they are now (kKeptSeenMembers, created with the plan)
        std::string into, from_d;
        for (const auto& c : cm->columns) into += (into.empty() ? "" : ", ") + s.q(c.name), from_d += (from_d.empty() ? "d." : ", d.") + s.q(c.name);
        dst.exec(std::string("INSERT INTO ") + kKeptSeenMembers + " (" + into + ") SELECT " + from_d + " FROM " + mc + " c JOIN " + s.q(cm->name) + " d ON " +
                 in_channel + " WHERE " + not_held);
    }
    update_join(s, cm->name, mc + " c", in_channel, seen, not_held);
    // 3. Source-only members: inserted; in a merged channel they have read the destination's posts.
    std::string cols, select;
    for (const auto& c : cm->columns) {
        cols += (cols.empty() ? "" : ", ") + s.q(c.name);
        std::string v = "h." + s.q(c.name);
        if (lower(c.name) == "msgcount") v = s.sum(v, "c.dest_total");
        if (lower(c.name) == "msgcountroot") v = s.sum(v, "c.dest_total_root");
        select += (select.empty() ? "" : ", ") + v;
    }
    dst.exec("INSERT INTO " + s.q(cm->name) + " (" + cols + ") SELECT " + select + " FROM " + hold + " h LEFT JOIN " + mc +
             " c ON c.dest_id = h." + s.q(s.col(*cm, "channelid")) + " WHERE NOT EXISTS (SELECT 1 FROM " + s.q(cm->name) + " d WHERE " + same + ")");
    // 4. Merged channels: both sides' totals, the later last post.
    {  // for verify: the merged channels as they are now (kKeptChannels, created with the plan)
        std::vector<std::string> columns;
        for (const auto& c : ch->columns) columns.push_back(c.name);
        std::string from_d;
        for (const auto& c : columns) from_d += (from_d.empty() ? "d." : ", d.") + s.q(c);
        dst.exec(std::string("INSERT INTO ") + kKeptChannels + " (" + dst.column_list(columns) + ") SELECT " + from_d + " FROM " + mc +
                 " c JOIN " + s.q(ch->name) + " d ON d." + s.q(s.col(*ch, "id")) + " = c.dest_id");
    }
    std::vector<std::pair<std::string, std::string>> totals;
    for (const auto& rule : kChannelTotals) {
        const std::string column = s.col(*ch, rule.column), d = "d." + s.q(column), c = std::string("c.") + rule.saved;
        if (!column.empty()) totals.push_back({column, rule.sum ? s.sum(d, c) : s.greatest(d, c)});
    }
    update_join(s, ch->name, mc + " c", "d." + s.q(s.col(*ch, "id")) + " = c.dest_id", totals);
    dst.exec("DELETE FROM " + hold);
    dst.exec("DELETE FROM " + mc);
}

namespace {

int64_t number(const std::optional<std::string>& v) {  // COALESCE(v, 0)
    if (!v || v->empty()) return 0;
    try {
        return std::stoll(*v);
    } catch (const std::exception&) {
        return 0;  // not a count: the comparison will show the column
    }
}

bool one_of(const std::string& column, const auto& names) {
    for (const char* n : names)
        if (lower(column) == n) return true;
    return false;
}

}  // namespace

void expect_membership(const std::vector<std::string>& columns, RowValues& row, const RowValues* kept, const MergedChannel* channel) {
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) {
        const std::string c = lower(columns[i]);
        if (kept) {  // step 1: combined with the destination's membership
            if (one_of(c, kSummedMemberColumns)) row[i] = std::to_string(number((*kept)[i]) + number(row[i]));
            else if (one_of(c, kLatestMemberColumns)) row[i] = std::to_string(std::max(number((*kept)[i]), number(row[i])));
            else row[i] = (*kept)[i];
        } else if (c == "msgcount") {  // step 3: inserted, the destination's posts read
            row[i] = std::to_string(number(row[i]) + (channel ? channel->dest_total : 0));
        } else if (c == "msgcountroot") {
            row[i] = std::to_string(number(row[i]) + (channel ? channel->dest_total_root : 0));
        }
    }
}

StageVerifyTable verify_merged_channels(Database& dst, const Catalog& cat, const MergePlan& plan, size_t examples) {
    StageVerifyTable out{"channels (totals of channels both sides have)", 0, 0, 0, 0, "", {}};
    const Table* ch = cat.find("channels");
    if (!ch || plan.merged_channels.empty()) return out;
    std::vector<std::string> columns;
    size_t id = 0;
    for (const auto& c : ch->columns) {
        if (lower(c.name) == "id") id = columns.size();
        columns.push_back(c.name);
    }
    // As many rows as the plan holds merged channels (which it keeps in memory already).
    std::map<std::string, RowValues> want;
    FieldRow row;
    auto kept = dst.read_where(kKeptChannels, columns, "");
    while (kept->next(row)) {
        RowValues v;
        for (const auto& f : row) v.push_back(f.null ? std::nullopt : std::optional<std::string>(std::string(f.view())));
        want[*v[id]] = std::move(v);
    }
    for (const auto& c : plan.merged_channels) {
        auto it = want.find(c.dest_id);
        if (it == want.end()) continue;  // counted missing below
        for (size_t i = 0; i < columns.size(); ++i)
            for (const auto& rule : kChannelTotals)
                if (lower(columns[i]) == rule.column) {
                    const int64_t mine = number(it->second[i]), theirs = c.*rule.source;
                    it->second[i] = std::to_string(rule.sum ? mine + theirs : std::max(mine, theirs));
                }
    }
    auto example = [&](std::string text) {
        if (out.examples.size() < examples) out.examples.push_back(std::move(text));
    };
    auto now = dst.read_where(ch->name, columns, dst.quote_ident(columns[id]) + " IN (SELECT " + dst.quote_ident(columns[id]) + " FROM " +
                                                     kKeptChannels + ")");
    while (now->next(row)) {
        auto it = want.find(std::string(row[id].view()));
        if (it == want.end()) continue;
        ++out.compared, ++out.kept;
        for (size_t i = 0; i < row.size(); ++i) {
            if ((row[i].null ? std::nullopt : std::optional<std::string>(std::string(row[i].view()))) == it->second[i]) continue;
            ++out.differ;
            example(columns[id] + "=" + it->first + ": " + columns[i] + " differs");
            break;
        }
        want.erase(it);
    }
    out.missing = plan.merged_channels.size() > out.compared ? plan.merged_channels.size() - out.compared : 0;
    for (const auto& [key, v] : want) example(columns[id] + "=" + key + ": missing on the destination");
    return out;
}

StageVerifyTable verify_seen_members(Database& dst, const Catalog& cat, const MergePlan& plan, size_t examples) {
    StageVerifyTable out{"channelmembers (destination-only members of channels both sides have)", 0, 0, 0, 0, "", {}};
    const Table* cm = cat.find("channelmembers");
    if (!cm) return out;
    std::string kept, now;
    std::vector<std::string> columns;
    for (const auto& c : cm->columns) {
        columns.push_back(c.name);
        kept += (kept.empty() ? "k." : ", k.") + dst.quote_ident(c.name);
        now += ", d." + dst.quote_ident(c.name);
    }
    auto col = [&](const char* name) { return dst.quote_ident(cm->find_column(name) ? cm->find_column(name)->name : name); };
    const size_t n = columns.size();
    // One channel at a time: memory is bounded by a channel's members, never by the table.
    for (const auto& c : plan.merged_channels) {
        auto rows = dst.query("SELECT " + kept + now + " FROM " + kKeptSeenMembers + " k LEFT JOIN " + dst.quote_ident(cm->name) + " d ON d." +
                              col("channelid") + " = k." + col("channelid") + " AND d." + col("userid") + " = k." + col("userid") + " WHERE k." +
                              col("channelid") + " = " + dst.quote_literal(c.dest_id));
        for (auto& r : rows) {
            std::string shown;
            for (size_t i = 0; i < n; ++i)
                if (lower(columns[i]) == "userid") shown = "channelid=" + c.dest_id + ", userid=" + r[i].value_or("");
            if (!r[n]) {  // every column of the destination's row is NULL only when the row is gone
                ++out.missing;
                if (out.examples.size() < examples) out.examples.push_back(shown + ": missing on the destination");
                continue;
            }
            ++out.compared, ++out.kept;
            for (size_t i = 0; i < n; ++i) {
                std::optional<std::string> want = r[i];
                if (lower(columns[i]) == "msgcount") want = std::to_string(number(r[i]) + c.source_total);
                if (lower(columns[i]) == "msgcountroot") want = std::to_string(number(r[i]) + c.source_total_root);
                if (want == r[n + i]) continue;
                ++out.differ;
                if (out.examples.size() < examples) out.examples.push_back(shown + ": " + columns[i] + " differs");
                break;
            }
        }
    }
    return out;
}

}  // namespace mmmove
