#pragma once
// Deny by default: an anonymised run copies only what is classified. Every column of every table the
// source holds and the copy would carry must be masked or kept (mappings/anonymise.yaml `columns` and
// `keep`, or the job's anonymise.columns), or its table's rows dropped (drop_rows, the job's
// anonymise.drop_rows) or kept as they are by the job (anonymise.keep_tables). What is none of these
// (a plugin's table, a column a newer Mattermost added) stops the run before anything is written.
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "job/job_file.h"

namespace mmmove {

struct UnclassifiedTable {
    std::string table;                 // as the source spells it
    std::vector<std::string> columns;  // its unclassified columns, in the table's order
    bool unknown = false;              // the model classifies none of its columns: a table mmmove does not know
};

// The tables of `source` the copy carries (not per-instance or the migration record, not in
// copy.skip_tables) with the columns that neither the model nor `job` classifies. Names compare
// case-insensitively.
std::vector<UnclassifiedTable> unclassified_data(const Catalog& source, const Job& job);

// Throws Error(ExitCode::unclassified) naming each table and column and the job key that classifies
// it; does nothing when `found` is empty.
void refuse_unclassified(const std::vector<UnclassifiedTable>& found, const Job& job);

}  // namespace mmmove
