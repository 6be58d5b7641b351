// How verify's result is printed: a table per line for people, JSON for scripts.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "core/printable.h"
#include "verify/verify.h"

namespace mmmove {
namespace {

const char* kind_name(RowDifference::Kind k) {
    switch (k) {
        case RowDifference::Kind::differs: return "differs";
        case RowDifference::Kind::missing: return "missing";
        case RowDifference::Kind::extra: return "extra";
    }
    return "";
}

std::string verdict(const TableVerify& t) {
    if (t.equal()) return "equal";
    std::string s;
    auto part = [&](uint64_t n, const char* what) {
        if (n) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    };
    part(t.differing, t.differing == 1 ? "row differs" : "rows differ");
    part(t.missing, "missing on the destination");
    part(t.extra, "only on the destination");
    return s;
}

std::string padded(const std::string& s, size_t width) { return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' '); }

}  // namespace

static void print_verify_unescaped(const VerifyResult& r, std::ostream& out, bool every_table) {
    if (!r.source_label.empty()) out << "verify: " << r.source_label << " -> " << r.dest_label << "\n";
    std::vector<const TableVerify*> tables;
    for (const auto& t : r.tables) tables.push_back(&t);
    std::sort(tables.begin(), tables.end(), [](auto* a, auto* b) { return a->dest_table < b->dest_table; });
    if (every_table || !r.equal()) out << "  " << padded("table", 30) << padded("source rows", 14) << padded("destination", 14) << "result\n";
    uint64_t rows = 0, expected_changed = 0, expected_absent = 0;
    size_t differing_tables = 0;
    for (const TableVerify* t : tables) {
        rows += t->source_rows;
        expected_changed += t->expected_changed;
        expected_absent += t->expected_absent;
        if (!t->equal()) ++differing_tables;
        if (!every_table && t->equal()) continue;
        out << "  " << padded(t->dest_table, 30) << padded(std::to_string(t->source_rows), 14) << padded(std::to_string(t->dest_rows), 14)
            << verdict(*t) << "\n";
        for (const auto& e : t->examples) {
            out << "      " << padded(kind_name(e.kind), 8) << e.key;
            if (!e.columns.empty()) {
                std::string names;
                for (const auto& c : e.columns) names += (names.empty() ? "" : ", ") + c;
                out << ": " << names;
            }
            out << "\n";
            if (!e.detail.empty()) out << "               " << e.detail << "\n";
        }
        uint64_t listed = t->differing + t->missing + t->extra;
        if (listed > t->examples.size()) out << "      … and " << listed - t->examples.size() << " more\n";
    }
    for (const auto& n : r.source_only)
        out << "  " << padded(n, 30) << "only on the source: its rows are not in the destination (--skip-table " << n
            << " if it was left behind on purpose)\n";
    for (const auto& n : r.dest_only) out << "  " << padded(n, 30) << "only on the destination: not compared\n";
    for (const auto& n : r.notes) out << "  [note] " << n << "\n";
    if (r.expected_lines)
        out << "  the copy's report accounts for " << expected_changed << " rows with changed values and " << expected_absent
            << " rows it left out\n";
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", r.seconds);
    if (r.equal())
        out << "verify: equal: " << tables.size() << " tables, " << rows << " source rows, " << r.jobs << " workers, " << secs << " s\n";
    else
        out << "verify: DIFFERENT: " << differing_tables << " of " << tables.size() << " tables differ"
            << (r.source_only.empty() ? "" : ", " + std::to_string(r.source_only.size()) + " source tables missing") << " (" << secs << " s)\n";
}

void print_verify(const VerifyResult& r, std::ostream& out, bool every_table) {
    print_printable(out, [&](std::ostream& text) { print_verify_unescaped(r, text, every_table); });
}

std::string verify_json(const VerifyResult& r) {
    nlohmann::json j = {{"equal", r.equal()}, {"seconds", r.seconds}, {"jobs", r.jobs}, {"source", r.source_label},
                        {"destination", r.dest_label}, {"source_only", r.source_only}, {"destination_only", r.dest_only},
                        {"notes", r.notes}, {"expected_changes", r.expected_lines}};
    j["tables"] = nlohmann::json::array();
    for (const auto& t : r.tables) {
        nlohmann::json examples = nlohmann::json::array();
        for (const auto& e : t.examples)
            examples.push_back({{"kind", kind_name(e.kind)}, {"key", e.key}, {"columns", e.columns}, {"detail", e.detail}});
        j["tables"].push_back({{"source_table", t.source_table}, {"destination_table", t.dest_table}, {"source_rows", t.source_rows},
                               {"destination_rows", t.dest_rows}, {"equal", t.equal()}, {"differing", t.differing},
                               {"missing", t.missing}, {"extra", t.extra}, {"expected_changed", t.expected_changed},
                               {"expected_absent", t.expected_absent}, {"chunks", t.chunks}, {"chunks_by_row", t.chunks_by_row},
                               {"seconds", t.seconds}, {"examples", examples}});
    }
    return json_text(j);
}

}  // namespace mmmove
