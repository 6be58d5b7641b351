// What a copy prints when it ends: a line per table, the summary, and the same as JSON for scripts.
#include <iomanip>
#include <nlohmann/json.hpp>

#include "copy/copy.h"
#include "core/json_text.h"
#include "core/printable.h"

namespace mmmove {

void print_table_line(const TableCopy& t, bool bootstrap, std::ostream& log) {
    log << "  " << std::left << std::setw(28) << t.dest_table << std::right << std::setw(10) << t.rows_read << " rows  " << t.chunks
        << (t.chunks == 1 ? " chunk " : " chunks") << std::fixed << std::setprecision(2) << std::setw(8) << t.seconds << " s"
        << (t.raw ? "  (raw COPY)" : "") << (t.careful ? "  (rows refused: loaded row by row)" : "")
        << (t.rows_skipped ? "  " + std::to_string(t.rows_skipped) + " rows left out" : "")
        << (bootstrap ? "  (replaces the destination's rows)" : "") << "\n";
}

static void print_copy_summary_unescaped(const CopyResult& r, std::ostream& out) {
    uint64_t rows = 0, skipped = 0;
    std::vector<const TableCopy*> mismatched;
    for (const auto& t : r.tables) {
        rows += t.rows_read;
        skipped += t.rows_skipped;
        if (t.rows_read != t.rows_in_dest) mismatched.push_back(&t);
    }
    out << "Summary: " << r.tables.size() << " tables, " << rows << " rows copied in " << std::fixed << std::setprecision(1)
        << r.seconds << " s (" << r.jobs << (r.jobs == 1 ? " worker" : " workers") << ", indexes rebuilt in " << r.index_seconds
        << " s" << (r.resumed ? ", resumed" : "") << ") from " << r.check.source.label << " to " << r.check.dest.label << ".\n";
    for (const auto* t : mismatched)
        out << "  ROW COUNT MISMATCH: " << t->source_table << ": " << t->rows_read << " written from the source, " << t->rows_in_dest
            << " in the destination.\n";
    if (mismatched.empty()) out << "  Row counts match on every table.\n";
    for (const auto& [table, n] : r.left_behind)
        out << "  Left behind (--skip-table / --skip-missing-tables): " << table << ", " << n << " rows on the source.\n";
    if (skipped) out << "  " << skipped << " rows were left out by --on-refused-value; each is listed in " << r.report_path << ".\n";
    if (r.issues) {
        out << "  " << r.issues << " values were changed or refused; every one is listed in " << r.report_path << ":\n";
        for (const auto& [what, n] : r.issue_counts) out << "    " << n << " × " << what << "\n";
    } else {
        out << "  No value needed changing.\n";
    }
    if (r.source_moved && r.source_moved->moved_on())
        print_source_moved(*r.source_moved, out);
    else if (r.source_moved)
        out << "  The source did not move on after the snapshot (" << r.source_moved->tables_checked << " tables checked in "
            << r.source_moved->seconds << " s; " << r.source_moved->count_only.size() << " without change timestamps by row count only).\n";
    else
        out << "  [warning] Whether the source moved on after the snapshot could not be measured: " << r.source_moved_error << "\n";
}

void print_copy_summary(const CopyResult& r, std::ostream& out) {
    print_printable(out, [&](std::ostream& text) { print_copy_summary_unescaped(r, text); });
}

std::string copy_summary_json(const CopyResult& r) {
    nlohmann::json j;
    j["source"] = r.check.source.label;
    j["destination"] = r.check.dest.label;
    j["seconds"] = r.seconds;
    j["index_seconds"] = r.index_seconds;
    j["follow_slot"] = r.follow_slot;
    j["workers"] = r.jobs;
    j["resumed"] = r.resumed;
    j["counts_match"] = r.counts_match();
    uint64_t rows = 0, skipped = 0;
    j["tables"] = nlohmann::json::array();
    for (const auto& t : r.tables) {
        rows += t.rows_read;
        skipped += t.rows_skipped;
        j["tables"].push_back({{"table", t.dest_table}, {"rows", t.rows_read}, {"rows_in_destination", t.rows_in_dest},
                               {"rows_left_out", t.rows_skipped}, {"chunks", t.chunks}, {"seconds", t.seconds}, {"raw", t.raw},
                               {"careful", t.careful}});
    }
    j["left_behind"] = nlohmann::json::array();
    for (const auto& [table, n] : r.left_behind) j["left_behind"].push_back({{"table", table}, {"source_rows", n}});
    j["rows"] = rows;
    j["rows_left_out"] = skipped;
    j["changed_values"] = r.issues;
    j["changed_value_counts"] = r.issue_counts;
    if (!r.report_path.empty()) j["report"] = r.report_path;
    if (r.source_moved)
        j["source_moved_on"] = source_moved_json(*r.source_moved);
    else
        j["source_moved_on"] = {{"moved_on", nullptr}, {"error", printable(r.source_moved_error)}};
    if (r.verify) j["verify"] = nlohmann::json::parse(verify_json(*r.verify));
    return json_text(j, 2);
}

}  // namespace mmmove
