#pragma once
// `mmmove verify`: proves that the destination holds what the source holds, across engines, without
// writing to either side. Both sides are read on one consistent snapshot each, in parallel, in the
// key-range chunks the copy uses. Per chunk each side gives a digest (its row count and an
// order-independent sum of 128-bit hashes of its canonical rows, verify/canonical.h); only a chunk whose
// digests differ is read again and compared row by row, by primary key. Memory is bounded by the chunk
// size, never by the table's.
//
// Values a copy changed on purpose are expected differences when its report is given
// (ExpectedChanges): the source value is put through the same conversion and then compared.
#include <cstdint>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "pipeline/planner.h"
#include "pipeline/progress.h"
#include "verify/expected_changes.h"

namespace mmmove {

class ReadSnapshot;

struct VerifyOptions {
    std::set<std::string> tables;  // lower-case names to compare; empty = every table both sides hold
    std::set<std::string> skip_tables;  // lower-case names left out (as copy --skip-table left them behind)
    unsigned jobs = 0;             // 0 = number of cores
    uint64_t chunk_rows = 200000;
    std::string expect_changes;    // the copy's report: values it changed on purpose
    size_t examples = 5;           // differing rows itemised per table
    Progress::Style progress = Progress::Style::quiet;
};

struct RowDifference {
    enum class Kind { differs, missing, extra };  // missing: only on the source; extra: only on the destination
    Kind kind = Kind::differs;
    std::string key;                   // "Id=…", as the copy's report spells keys (secret keys masked)
    std::vector<std::string> columns;  // differs: the columns whose values differ
    std::string detail;                // differs: the first values, shortened; secrets masked
};

struct TableVerify {
    std::string source_table, dest_table;
    uint64_t source_rows = 0, dest_rows = 0;
    uint64_t differing = 0, missing = 0, extra = 0;
    uint64_t expected_changed = 0, expected_absent = 0;  // rows the copy's report accounts for
    size_t chunks = 0, chunks_by_row = 0;                // chunks compared row by row (their digests differed)
    std::vector<RowDifference> examples;
    double seconds = 0;  // summed over its chunks
    bool equal() const { return differing == 0 && missing == 0 && extra == 0; }
};

struct VerifyResult {
    std::string source_label, dest_label;  // DSNs without passwords
    std::vector<TableVerify> tables;
    // Tables one side lacks, not compared. A source table the destination lacks is a difference (its rows
    // are not there) unless it was left out with skip_tables; one only the destination has is not.
    std::vector<std::string> source_only, dest_only;
    std::vector<std::string> notes;                   // what the reader should know (versions, columns not compared)
    uint64_t expected_lines = 0;
    unsigned jobs = 1;
    double seconds = 0;
    bool equal() const;
};

// Opens a snapshot on each side, plans the chunks and compares every table both sides hold.
VerifyResult run_verify(Database& source, Database& dest, const VerifyOptions& options, std::ostream& log);
// After a copy: the copy's chunks, read on the snapshot the copy read the source on.
VerifyResult verify_copy(const CopyPlan& plan, ReadSnapshot& source, Database& dest, const Catalog& dest_catalog,
                         const ExpectedChanges& expected, const VerifyOptions& options, std::ostream& log);

// Every table, or (after a copy, which has listed them) only those that differ.
void print_verify(const VerifyResult& result, std::ostream& out, bool every_table = true);
std::string verify_json(const VerifyResult& result);

}  // namespace mmmove
