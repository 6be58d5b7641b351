#include "pipeline/source_moved.h"

#include <algorithm>
#include <chrono>

#include "catalog/schema_model.h"
#include "core/error.h"
#include "core/printable.h"

namespace mmmove {
namespace {

// COUNT(*) alone (an index-only scan where the engine can), then the rows stamped within the window
// (T - margin onwards): only those are aggregated, and where every change column is indexed the
// engine can read just them. The same text runs inside the snapshot and on the present, so the two
// agree on everything but what changed. "Newest change column >= X" is written as "c1 >= X OR c2 >= X
// …" (the same for X > 0, NULL being older than anything), which an index on a column can serve.
std::string stamped_since(Database& db, const std::vector<std::string>& columns, int64_t x) {
    std::string out;
    for (const auto& c : columns) out += (out.empty() ? "" : " OR ") + db.quote_ident(c) + " >= " + std::to_string(x);
    return "(" + out + ")";
}

std::string window_sql(Database& db, const Table& t, const std::vector<std::string>& columns, int64_t since_ms) {
    int64_t window = std::max<int64_t>(1, since_ms - SourceMoved::kMarginMs);
    // SUM widens to numeric/DECIMAL; adding two bigints within a row could overflow.
    std::string sql = "SELECT COUNT(CASE WHEN " + stamped_since(db, columns, std::max<int64_t>(1, since_ms)) + " THEN 1 END), COUNT(*)";
    for (const auto& c : columns) sql += ", COALESCE(SUM(" + db.quote_ident(c) + "), 0)";
    return sql + " FROM " + db.quote_ident(t.name) + " WHERE " + stamped_since(db, columns, window);
}

// A figure as the server printed it: digits only (an aggregate of integers), else the table's answer
// is not what the query asks for.
const std::string& digits(const std::optional<std::string>& v, const std::string& what, bool sign = false) {
    static const std::string zero = "0";
    if (!v) return zero;
    size_t from = sign && !v->empty() && (*v)[0] == '-' ? 1 : 0;
    bool ok = v->size() > from && v->size() <= 60 && v->find_first_not_of("0123456789", from) == std::string::npos;
    if (!ok) throw Error(ExitCode::source, "The source answered " + what + " with something else than a number.");
    return *v;
}

}  // namespace

// The live table's change columns: the model's, where the source has them as integers (an older
// level lacks some; a column of another type is not a Mattermost timestamp and is passed over).
std::vector<std::string> live_change_columns(const Table& t) {
    std::vector<std::string> out;
    for (const auto& name : change_columns(t.name))
        if (const Column* c = t.find_column(name); c && c->kind == ColumnKind::integer) out.push_back(c->name);
    return out;
}

TableFigures read_figures(Database& db, const Table& t, const std::vector<std::string>& columns, int64_t since_ms) {
    const std::string what = "the row count of " + printable(t.name);
    TableFigures f;
    f.rows = std::stoull(digits(db.query("SELECT COUNT(*) FROM " + db.quote_ident(t.name)).at(0).at(0), what));
    if (columns.empty()) return f;
    auto rows = db.query(window_sql(db, t, columns, since_ms));
    const QueryRow& r = rows.at(0);
    f.since = std::stoull(digits(r.at(0), what));
    f.window = std::stoull(digits(r.at(1), what));
    f.window_sum.clear();
    for (size_t i = 2; i < r.size(); ++i) f.window_sum += digits(r.at(i), what, true) + " ";
    return f;
}

TableMoved compare_figures(const Table& t, const TableFigures& then, const TableFigures& now, bool with_columns, bool resumed) {
    TableMoved tm;
    tm.table = t.name;
    tm.rows_then = then.rows;
    tm.rows_now = now.rows;
    if (resumed && with_columns) {
        // Earlier chunks came from an earlier snapshot: every row stamped since the first run may be one of them.
        tm.new_or_changed = now.window;
        tm.upper_bound = true;
    } else if (with_columns) {
        tm.new_or_changed = now.since > then.since ? now.since - then.since : 0;
        if (now.window > then.window) tm.new_or_changed = std::max(tm.new_or_changed, now.window - then.window);
        tm.changed_near_snapshot = tm.new_or_changed == 0 && (now.window != then.window || now.window_sum != then.window_sum);
    }
    return tm;
}

bool table_moved(const TableMoved& t) {
    return t.rows_then != t.rows_now || t.new_or_changed || t.changed_near_snapshot || t.content_changed || t.truncated;
}

namespace {
std::string plural(uint64_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); }
}  // namespace

int64_t source_clock_ms(Database& src) {
    std::string sql = src.engine() == Engine::postgres ? "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS bigint)"
                                                       : "SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";
    auto rows = src.query(sql);
    const std::string& v = digits(rows.at(0).at(0), "the time of its clock", true);
    return std::stoll(v);
}

SourceMoved measure_source_moved(Database& snapshot_db, const Catalog& source, const std::vector<std::string>& tables,
                                 int64_t since_ms, bool resumed, bool resumed_unmeasured) {
    auto start = std::chrono::steady_clock::now();
    SourceMoved m;
    m.snapshot_ms = since_ms;
    m.resumed = resumed;
    m.resumed_unmeasured = resumed_unmeasured;
    // The present, read by a connection of its own in a read-only transaction: the source is only read.
    auto now_db = Database::connect(snapshot_db.data_source(), Side::source);
    now_db->begin_snapshot_read();
    for (const auto& name : tables) {
        const Table* t = source.find(name);
        if (!t) continue;
        std::vector<std::string> columns = live_change_columns(*t);
        if (columns.empty()) m.count_only.push_back(t->name);
        ++m.tables_checked;
        TableFigures then = read_figures(snapshot_db, *t, columns, since_ms);
        TableFigures now = read_figures(*now_db, *t, columns, since_ms);
        TableMoved tm = compare_figures(*t, then, now, !columns.empty(), resumed);
        if (table_moved(tm)) m.moved.push_back(tm);
    }
    now_db->rollback();
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return m;
}

std::string source_moved_line(const TableMoved& t) {
    std::vector<std::string> parts;
    if (t.new_or_changed) parts.push_back((t.upper_bound ? "up to " : "") + plural(t.new_or_changed, "row", "rows") + " new or changed");
    if (t.changed_near_snapshot) parts.push_back("rows stamped within " + std::to_string(SourceMoved::kMarginMs / 60000) + " minutes before the snapshot changed");
    if (t.content_changed) parts.push_back("rows edited in place (its content differs)");
    if (t.truncated) parts.push_back("truncated");
    if (t.rows_now > t.rows_then) parts.push_back(plural(t.rows_now - t.rows_then, "more row", "more rows"));
    if (t.rows_now < t.rows_then) parts.push_back(plural(t.rows_then - t.rows_now, "fewer row", "fewer rows"));
    std::string line = printable(t.table) + ": ";
    for (size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
    return line + " since the snapshot";
}

void print_source_moved(const SourceMoved& m, std::ostream& out) {
    if (!m.moved_on()) return;
    out << "  [warning] THE SOURCE MOVED ON: it was written to after the snapshot this copy read. The copy is complete and "
           "consistent as of the snapshot, but lacks what follows:\n";
    for (const auto& t : m.moved) out << "    " << source_moved_line(t) << "\n";
    if (m.resumed_unmeasured)
        out << "    (this copy was resumed and the first run's moment is unknown: changes made before this run's snapshot "
               "were not measured)\n";
    out << "  Fix: run `mmmove sync --from SOURCE --to DESTINATION` (the same two databases) to bring the destination up to "
           "date, or stop Mattermost before copying and copy again with --truncate. Rows are compared by Mattermost's "
           "change timestamps (its app server's clock, allowing "
        << SourceMoved::kMarginMs / 60000 << " minutes of skew) and by row counts; "
        << m.count_only.size() << " tables without such columns are compared by row count only.\n";
}

nlohmann::json source_moved_json(const SourceMoved& m) {
    nlohmann::json j;
    j["moved_on"] = m.moved_on();
    j["snapshot_ms"] = m.snapshot_ms;
    j["margin_ms"] = SourceMoved::kMarginMs;
    j["resumed"] = m.resumed;
    if (m.resumed_unmeasured) j["resumed_unmeasured"] = true;
    j["tables_checked"] = m.tables_checked;
    j["count_only_tables"] = m.count_only;
    j["seconds"] = m.seconds;
    if (!m.proof.empty()) j["proof"] = m.proof;
    if (m.proof == "change stream") j["stream_transactions"] = m.stream_transactions;
    if (!m.proof_note.empty()) j["proof_note"] = m.proof_note;
    j["tables"] = nlohmann::json::array();
    for (const auto& t : m.moved)
        j["tables"].push_back({{"table", t.table}, {"new_or_changed", t.new_or_changed}, {"up_to", t.upper_bound},
                               {"changed_near_snapshot", t.changed_near_snapshot}, {"rows_at_snapshot", t.rows_then},
                               {"rows_now", t.rows_now}, {"content_changed", t.content_changed}, {"truncated", t.truncated}});
    return j;
}

}  // namespace mmmove
