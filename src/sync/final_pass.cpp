#include "sync/final_pass.h"

#include <algorithm>

#include "core/printable.h"
#include "core/workers.h"

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

// The tables measured by row count only (no change column): an edit in place leaves the count as it
// is, so their content is compared, on the final snapshot and now.
void compare_count_only(Database& snapshot_db, const Catalog& source, SourceMoved& m) {
    auto now_db = Database::connect(snapshot_db.data_source(), Side::source);
    now_db->begin_snapshot_read();
    for (const auto& name : m.count_only) {
        const Table* t = source.find(name);
        bool listed = false;
        for (const auto& moved : m.moved) listed = listed || moved.table == name;
        if (!t || listed) continue;
        const std::string then = content_digest(snapshot_db, *t), now = content_digest(*now_db, *t);
        if (then == now) continue;
        TableMoved tm;
        tm.table = t->name;
        tm.content_changed = true;
        auto rows = [](const std::string& digest) {
            const std::string n = digest.substr(digest.find(':') + 1);
            return n.empty() || n.find_first_not_of("0123456789") != std::string::npos ? 0 : std::stoull(n);
        };
        tm.rows_then = rows(then), tm.rows_now = rows(now);
        m.moved.push_back(tm);
    }
    now_db->rollback();
}

}  // namespace

void measure_final_pass(ReadSnapshot& snapshot, const Catalog& source, const CopyPlan& plan, int64_t snapshot_ms, CatchUpResult& result) {
    // The tables in shares, one per connection of the pass's snapshot, largest first to the least loaded
    // share: the measurement is inside the downtime. Each share reads the present on a connection of its
    // own, opened once the pass has written everything, as one share did: a transaction committed after
    // the snapshot and before the measurement is seen whichever share its tables fall in.
    const size_t n = std::max<size_t>(1, std::min(snapshot.size(), plan.tables.size()));
    std::vector<const PlannedTable*> order;
    for (const auto& t : plan.tables) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](const PlannedTable* a, const PlannedTable* b) { return a->estimated_rows > b->estimated_rows; });
    std::vector<std::vector<std::string>> shares(n);
    std::vector<uint64_t> load(n);
    for (const auto* t : order) {
        const size_t i = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        shares[i].push_back(t->source->name);
        load[i] += t->estimated_rows + 1;
    }
    std::vector<SourceMoved> parts(n);
    std::vector<std::string> errors(n);
    for_each_item(static_cast<unsigned>(n), n, [&](unsigned, size_t i) {
        try {
            parts[i] = measure_source_moved(snapshot.worker(i), source, shares[i], snapshot_ms, false, false);
            compare_count_only(snapshot.worker(i), source, parts[i]);
        } catch (const std::exception& e) {
            errors[i] = e.what();
        }
    });
    for (const auto& e : errors)
        if (!e.empty()) {
            // The sync's writes stand; only the proof is missing, and a cut-over must not go on without it.
            result.source_moved_error = e;
            return;
        }
    SourceMoved& m = result.source_moved.emplace(parts[0]);
    for (size_t i = 1; i < n; ++i) {
        m.tables_checked += parts[i].tables_checked;
        m.count_only.insert(m.count_only.end(), parts[i].count_only.begin(), parts[i].count_only.end());
        m.moved.insert(m.moved.end(), parts[i].moved.begin(), parts[i].moved.end());
        m.seconds = std::max(m.seconds, parts[i].seconds);
    }
}

bool source_stood_still(const CatchUpResult& r) { return r.source_moved && !r.source_moved->moved_on(); }

void print_final_pass(const CatchUpResult& r, std::ostream& out, bool views_note) {
    if (source_stood_still(r))
        out << "Final sync: the source stood still during the final sync (" << r.source_moved->tables_checked
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
    std::string text = "Final sync: THE SOURCE MOVED while the final sync ran; the destination lacks what follows:\n";
    for (const auto& t : r.source_moved->moved) text += "    " + source_moved_line(t) + "\n";
    return text + "Mattermost still writes to the source: stop it (or set it read-only) and run the final sync again. Do not "
                  "point Mattermost at the destination yet.";
}

nlohmann::json final_pass_json(const CatchUpResult& r) {
    nlohmann::json j;
    j["source_stood_still"] = source_stood_still(r);
    if (r.source_moved) j["source_moved"] = source_moved_json(*r.source_moved);
    if (!r.source_moved_error.empty()) j["error"] = r.source_moved_error;
    j["statistics_views_left"] = r.views_left;
    if (!r.views_left.empty()) j["refresh_views"] = "mmmove refresh-views --to DESTINATION";
    return j;
}

}  // namespace mmmove
