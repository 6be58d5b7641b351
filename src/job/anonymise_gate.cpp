#include "job/anonymise_gate.h"

#include <set>
#include <utility>

#include "catalog/anonymise_model.h"
#include "check/check.h"
#include "core/error.h"
#include "files/printable_path.h"

namespace mmmove {
namespace {

using ColumnSet = std::set<std::pair<std::string, std::string>>;  // lower-case (table, column)

std::set<std::string> lower_set(const std::vector<std::string>& names) {
    std::set<std::string> out;
    for (const std::string& n : names) out.insert(lower(n));
    return out;
}

// What the model and the job classify, column by column, regardless of dropped tables.
ColumnSet classified_columns(const Job& job) {
    ColumnSet out;
    const AnonymiseModel& m = anonymise_model();
    for (const AnonymisedColumn& c : m.columns) out.emplace(lower(c.table), lower(c.column));
    for (const KeptColumn& k : m.kept) out.emplace(lower(k.table), lower(k.column));
    for (const AnonymiseOverride& o : job.anonymise.columns) out.emplace(lower(o.table), lower(o.column));  // any kind, keep too
    return out;
}

// Tables whose rows are left out (the model's and the job's drop_rows, less the job's keep_rows), or
// copied as they are by the job's keep_tables: their columns need no classification of their own.
std::set<std::string> whole_tables(const Job& job) {
    std::set<std::string> out = lower_set(anonymise_model().drop_rows);
    for (const std::string& t : job.anonymise.drop_rows) out.insert(lower(t));
    for (const std::string& t : job.anonymise.keep_rows) out.erase(lower(t));
    for (const std::string& t : job.anonymise.keep_tables) out.insert(lower(t));
    return out;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// Names come from the source's catalog: printed as one safe line each (no control characters).
std::string described(const UnclassifiedTable& u) {
    UnclassifiedTable t{printable_path(u.table), {}, u.unknown};
    for (const std::string& c : u.columns) t.columns.push_back(printable_path(c));
    if (t.unknown)
        return "  table " + t.table + " (a table mmmove does not know: a plugin's, or a newer Mattermost's), columns " +
               joined(t.columns) + ": leave its rows out with anonymise.drop_rows: [" + t.table +
               "], copy it as it is with anonymise.keep_tables: [" + t.table +
               "], or classify each column under anonymise.columns.\n";
    std::string out;
    for (const std::string& c : t.columns)
        out += "  column " + t.table + "." + c + ": mask it with anonymise.columns: [{table: " + t.table + ", column: " + c +
               ", kind: free_text}] (or another kind), or copy it as it is with kind: keep.\n";
    return out;
}

}  // namespace

std::vector<UnclassifiedTable> unclassified_data(const Catalog& source, const Job& job) {
    const ColumnSet classified = classified_columns(job);
    const std::set<std::string> whole = whole_tables(job), skipped = lower_set(job.copy.skip_tables);
    std::set<std::string> known;  // tables the model classifies at least one column of
    for (const auto& [table, column] : classified_columns(Job{})) known.insert(table);
    for (const std::string& t : anonymise_model().drop_rows) known.insert(lower(t));
    std::vector<UnclassifiedTable> out;
    for (const Table& t : source.tables) {
        const std::string name = lower(t.name);
        if (!copied_role(t.name) || skipped.count(name) || whole.count(name)) continue;
        UnclassifiedTable u{t.name, {}, !known.count(name)};
        for (const Column& c : t.columns)
            if (!classified.count({name, lower(c.name)})) u.columns.push_back(c.name);
        if (!u.columns.empty()) out.push_back(std::move(u));
    }
    return out;
}

void refuse_unclassified(const std::vector<UnclassifiedTable>& found, const Job& job) {
    if (found.empty()) return;
    std::string list;
    for (const UnclassifiedTable& t : found) list += described(t);
    throw Error(ExitCode::unclassified,
                "The source holds data that neither mmmove's anonymisation model (mappings/anonymise.yaml) nor the job " +
                    job.file + " classifies, and an anonymised refresh copies nothing unclassified (deny by default):\n" + list +
                    "Classify each in the job's anonymise section (when unsure whether it holds personal or secret data, mask "
                    "it or drop its rows), or leave a table out with copy.skip_tables. Nothing was written.");
}

}  // namespace mmmove
