#include "sync/final_pass.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>

#include "core/printable.h"
#include "core/workers.h"
#include "pipeline/source_moved.h"
#include "sync/stillness_stream.h"

namespace mmmove {

namespace {

// A table's whole content as one value, whatever the rows' order: the sum of each row's md5 (its first
// 60 bits) and the row count. Each engine prints a row so that NULL and '' differ.
std::string content_digest(Database& db, const Table& t) {
    std::string row, sql;
    for (const auto& c : t.columns) {
        const std::string q = db.quote_ident(c.name), sep = row.empty() ? "" : ", ";
        row += sep + (db.engine() == Engine::postgres ? q : "IFNULL(CONCAT('v', HEX(" + q + ")), 'n')");
    }
    if (db.engine() == Engine::postgres)
        sql = "SELECT coalesce(sum(('x' || substr(md5(ROW(" + row + ")::text), 1, 15))::bit(60)::bigint), 0)::text || ':' || count(*)::text";
    else
        sql = "SELECT CONCAT(COALESCE(SUM(CAST(CONV(SUBSTRING(MD5(CONCAT_WS(',', " + row + ")), 1, 15), 16, 10) AS UNSIGNED)), 0), ':', COUNT(*))";
    auto r = db.query(sql + " FROM " + db.quote_ident(t.name));
    return r.empty() || r[0].empty() ? "" : r[0][0].value_or("");
}

// One reading of a table, inside the pass's snapshot (then) or on the present (now): its figures
// (row count, rows stamped within the window), or for a table without change columns also its
// content digest (an edit in place leaves the count as it is).
struct Reading {
    const Table* table = nullptr;
    bool now = false, digest = false;
    uint64_t weight = 0;  // the table's estimated rows: the largest readings start first
    TableFigures figures;
    std::string content;
};

std::vector<Reading> readings(const Catalog& source, const CopyPlan& plan) {
    std::vector<Reading> out;
    for (const auto& p : plan.tables) {
        const Table* t = source.find(p.source->name);
        if (!t) continue;
        const bool count_only = live_change_columns(*t).empty();
        for (bool digest : {false, true})
            for (bool now : {false, true})
                if (!digest || count_only) out.push_back(Reading{t, now, digest, p.estimated_rows + 1, {}, {}});
    }
    std::stable_sort(out.begin(), out.end(), [](const Reading& a, const Reading& b) { return a.weight > b.weight; });
    return out;
}

// What the readings say, table by table, in the order they were listed.
SourceMoved compare_readings(const std::vector<Reading>& all, int64_t snapshot_ms) {
    SourceMoved m;
    m.snapshot_ms = snapshot_ms;
    std::map<const Table*, std::array<const Reading*, 4>> by_table;  // figures then, now; digest then, now
    std::vector<const Table*> order;
    for (const auto& r : all) {
        auto [it, added] = by_table.try_emplace(r.table, std::array<const Reading*, 4>{});
        if (added) order.push_back(r.table);
        it->second[(r.digest ? 2 : 0) + (r.now ? 1 : 0)] = &r;
    }
    for (const Table* t : order) {
        const auto& r = by_table[t];
        const bool count_only = live_change_columns(*t).empty();
        ++m.tables_checked;
        if (count_only) m.count_only.push_back(t->name);
        TableMoved tm = compare_figures(*t, r[0]->figures, r[1]->figures, !count_only, false);
        if (!table_moved(tm) && r[2] && r[3] && r[2]->content != r[3]->content) tm.content_changed = true;
        if (table_moved(tm)) m.moved.push_back(tm);
    }
    return m;
}

}  // namespace

void measure_final_pass(ReadSnapshot& snapshot, const Catalog& source, const CopyPlan& plan, int64_t snapshot_ms, CatchUpResult& result,
                        StillnessStream* stream) {
    if (stream) {
        if (auto m = stream->measure(source, plan, snapshot_ms)) {
            result.source_moved = std::move(*m);
            return;
        }
    }
    const auto start = std::chrono::steady_clock::now();
    try {
        // Each reading is one statement, the largest first, on as many connections as the pass's
        // snapshot has, each worker reading the snapshot on its own connection of it and the present on
        // a connection of its own. Those read-only transactions begin once the pass has written
        // everything: a transaction committed after the snapshot and before the measurement is seen,
        // as when one connection read every table's present.
        std::vector<Reading> all = readings(source, plan);
        const size_t n = std::max<size_t>(1, std::min(snapshot.size(), all.size()));
        auto present = connect_all(static_cast<unsigned>(n), [&] {
            auto db = Database::connect(snapshot.worker(0).data_source(), Side::source);
            db->begin_snapshot_read();
            return db;
        });
        for_each_item(static_cast<unsigned>(n), all.size(), [&](unsigned w, size_t i) {
            Reading& r = all[i];
            Database& db = r.now ? *present[w] : snapshot.worker(w);
            if (r.digest) r.content = content_digest(db, *r.table);
            else r.figures = read_figures(db, *r.table, live_change_columns(*r.table), snapshot_ms);
        });
        for (auto& db : present) db->rollback();
        SourceMoved m = compare_readings(all, snapshot_ms);
        m.proof = "row counts";
        if (stream) m.proof_note = stream->why_not();
        m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result.source_moved = std::move(m);
    } catch (const std::exception& e) {
        // The sync's writes stand; only the proof is missing, and a cut-over must not go on without it.
        result.source_moved_error = e.what();
    }
}

bool source_stood_still(const CatchUpResult& r) { return r.source_moved && !r.source_moved->moved_on(); }

void print_final_pass(const CatchUpResult& r, std::ostream& out, bool views_note) {
    if (source_stood_still(r) && r.source_moved->proof == "change stream")
        out << "Final sync: the source stood still during the final sync (proof: change stream; no change to its "
            << r.source_moved->tables_checked << " tables after the snapshot). The destination holds everything the source holds.\n";
    else if (source_stood_still(r))
        out << "Final sync: the source stood still during the final sync (proof: row counts; " << r.source_moved->tables_checked
            << " tables measured; " << r.source_moved->count_only.size()
            << " without change columns by row count and content). The destination holds everything the source holds.\n";
    else
        out << final_pass_failure(r) << "\n";
    if (views_note && !r.views_left.empty()) out << views_left_text(r.views_left) << "\n";
}

std::string views_left_text(const std::vector<std::string>& views) {
    std::string names;
    for (const auto& v : views) names += (names.empty() ? "" : ", ") + printable(v);
    return "Statistics views left as they stood (not refreshed inside the downtime): " + names +
           ". Mattermost serves without them fresh (only its statistics read them); once it runs on the destination, "
           "refresh them: mmmove refresh-views --to DESTINATION (the same --to as this sync).";
}

std::string final_pass_failure(const CatchUpResult& r) {
    if (!r.source_moved)
        return "Final sync: whether the source was written to during the final sync could not be measured (" +
               printable(r.source_moved_error) + "). The destination is equal to the sync's snapshot, but nothing proves the "
               "source stood still. Make sure Mattermost is stopped (or read-only) and run the final sync again.";
    std::string text = "Final sync: THE SOURCE MOVED while the final sync ran (proof: " + r.source_moved->proof +
                       "); the destination lacks what follows:\n";
    for (const auto& t : r.source_moved->moved) text += "    " + source_moved_line(t) + "\n";
    return text + "Mattermost still writes to the source: stop it (or set it read-only) and run the final sync again. Do not "
                  "point Mattermost at the destination yet.";
}

nlohmann::json final_pass_json(const CatchUpResult& r) {
    nlohmann::json j;
    j["source_stood_still"] = source_stood_still(r);
    if (r.source_moved) j["source_moved"] = source_moved_json(*r.source_moved), j["proof"] = r.source_moved->proof;
    if (!r.source_moved_error.empty()) j["error"] = r.source_moved_error;
    j["statistics_views_left"] = r.views_left;
    if (!r.views_left.empty()) j["refresh_views"] = "mmmove refresh-views --to DESTINATION";
    return j;
}

}  // namespace mmmove
