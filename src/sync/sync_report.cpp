// What a sync prints when it ends: a line per table, the summary, and the same as JSON for scripts.
#include <iomanip>
#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "core/printable.h"
#include "sync/sync.h"

namespace mmmove {
namespace {

void print_table_line(const TableCatchUp& t, bool planned, std::ostream& out) {
    out << "  " << std::left << std::setw(28) << t.dest_table << std::right << std::setw(9) << t.inserted << std::setw(9) << t.updated
        << std::setw(9) << t.deleted << std::setw(13) << t.source_rows << std::setw(5) << t.chunks_changed << "/" << std::left
        << std::setw(5) << t.chunks << std::right << std::fixed << std::setprecision(2) << std::setw(8) << t.seconds << " s"
        << (t.whole_chunks && t.changed() ? (planned ? "  (chunks would be replaced whole)" : "  (chunks replaced whole)") : "") << "\n";
}

void print_unescaped(const CatchUpResult& r, std::ostream& out) {
    out << (r.planned ? "sync --plan: " : "sync: ") << r.source_label << " -> " << r.dest_label << "\n";
    out << "  destination last filled by mmmove " << r.previous << "\n";
    out << "  " << std::left << std::setw(28) << "table" << std::right << std::setw(9) << "inserted" << std::setw(9) << "updated"
        << std::setw(9) << "deleted" << std::setw(13) << "source rows" << "  chunks changed    time\n";
    uint64_t inserted = 0, updated = 0, deleted = 0, converted = 0;
    size_t changed = 0;
    for (const auto& t : r.tables) {
        if (t.changed()) print_table_line(t, r.planned, out);  // the JSON lists every table
        inserted += t.inserted, updated += t.updated, deleted += t.deleted, converted += t.converted_values;
        changed += t.changed() ? 1 : 0;
    }
    out << "Summary: " << changed << " of " << r.tables.size() << " tables " << (r.planned ? "would change" : "changed") << ": "
        << inserted << " rows " << (r.planned ? "to insert, " : "inserted, ") << updated << (r.planned ? " to update, " : " updated, ")
        << deleted << (r.planned ? " to delete" : " deleted") << " in " << std::fixed << std::setprecision(1) << r.seconds << " s ("
        << r.jobs << (r.jobs == 1 ? " worker" : " workers") << ").\n";
    if (changed < r.tables.size()) out << "  The other " << r.tables.size() - changed << " tables are equal to the source.\n";
    if (!r.left_behind.empty()) {
        out << "  Left behind, as the copy left them (--skip-table, --skip-missing-tables):";
        for (const auto& t : r.left_behind) out << " " << t;
        out << "\n";
    }
    if (r.planned) out << "  Nothing was written (--plan).\n";
    if (converted) out << "  " << converted << " values were changed on the way, as a copy changes them (mmmove copy's report lists such values).\n";
}

}  // namespace

void print_sync_summary(const CatchUpResult& r, std::ostream& out) {
    print_printable(out, [&](std::ostream& text) { print_unescaped(r, text); });
}

std::string sync_summary_json(const CatchUpResult& r) {
    nlohmann::json j;
    j["source"] = r.source_label;
    j["destination"] = r.dest_label;
    j["previous"] = r.previous;
    j["plan"] = r.planned;
    j["seconds"] = r.seconds;
    j["workers"] = r.jobs;
    uint64_t inserted = 0, updated = 0, deleted = 0;
    j["tables"] = nlohmann::json::array();
    for (const auto& t : r.tables) {
        inserted += t.inserted, updated += t.updated, deleted += t.deleted;
        j["tables"].push_back({{"table", t.dest_table}, {"inserted", t.inserted}, {"updated", t.updated}, {"deleted", t.deleted},
                               {"source_rows", t.source_rows}, {"rows_compared", t.rows_compared},
                               {"method", t.method}, {"chunks", t.chunks}, {"chunks_changed", t.chunks_changed},
                               {"whole_chunks", t.whole_chunks}, {"converted_values", t.converted_values}, {"seconds", t.seconds},
                               {"key_ledger", t.ledger}});
    }
    j["inserted"] = inserted;
    j["updated"] = updated;
    j["deleted"] = deleted;
    j["left_behind"] = r.left_behind;
    if (!r.follow_slot.empty() || !r.follow_note.empty()) j["follow"] = {{"slot", r.follow_slot}, {"note", r.follow_note}, {"read", r.follow_read}};
    if (r.verify) j["verify"] = nlohmann::json::parse(verify_json(*r.verify));
    return json_text(j, 2);
}

}  // namespace mmmove
