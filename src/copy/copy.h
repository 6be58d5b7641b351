#pragma once
// `mmmove copy`: the whole-database move. N workers read one consistent source snapshot (read-only
// transactions) and load chunks (key ranges of the large tables, whole small tables) into the
// destination, each chunk committed together with its checkpoint row. Secondary indexes of the large
// tables are dropped before the load and rebuilt after it. The tables a fresh server fills (Systems,
// Roles…) are replaced in one final transaction, materialized views refreshed, and every table's row
// count compared with what was read.
//
// The run has three phases: prepare (check, schema, plan, checkpoint, deferred indexes), the chunks
// (pipeline/chunk_runner.h), and finish (the server-bootstrap tables, indexes, views, counts, report).
//
// Failure: a value the policy refuses (ExitCode::data) empties what this run loaded and restores the
// dropped indexes, leaving the destination as found. Anything else (a lost connection, a killed
// process, an index or view that fails after the rows are in) keeps the committed chunks: the same
// command with --resume finishes the copy. The report lists every changed value of the whole copy,
// across resumed runs, once.
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "check/check.h"
#include "pipeline/progress.h"
#include "pipeline/source_moved.h"
#include "transform/convert.h"
#include "verify/stage_verify.h"
#include "verify/verify.h"

namespace mmmove {

struct CopyOptions {
    CheckOptions check;
    bool lower_case_tables = false;  // --create-schema on MySQL: Bitnami's lower-case names
    ConvertPolicy policy;
    std::string report_path = "mmmove-report.jsonl";
    bool quiet = false;
    unsigned jobs = 0;               // 0 = number of cores
    uint64_t chunk_rows = 200000;    // target rows per chunk of a large table
    bool resume = false;
    bool defer_indexes = true;
    uint64_t defer_indexes_min_rows = 20000;
    Progress::Style progress = Progress::Style::quiet;
    bool verify = false;             // compare every row afterwards, on the snapshot the copy read
    bool follow = false;             // --follow: create a slot on a PostgreSQL source before the snapshot (sync/follow.h)
    // Transforms between read and write (an anonymised refresh's masks), or null. With a stage,
    // verify puts the source rows through it before comparing (verify/stage_verify.h).
    const LoadStage* stage = nullptr;
};

struct TableCopy {
    std::string source_table, dest_table;
    uint64_t rows_read = 0, rows_in_dest = 0;  // rows_read: rows written from the source's snapshot
    uint64_t rows_skipped = 0;                 // left out by --on-refused-value (listed in the report)
    double seconds = 0;   // summed over its chunks
    size_t chunks = 0;
    bool raw = false;     // moved as untouched COPY lines
    bool careful = false; // the destination refused rows: loaded again row by row
};

struct CopyResult {
    CheckReport check;
    std::vector<TableCopy> tables;
    std::vector<std::pair<std::string, uint64_t>> left_behind;  // --skip-table / --skip-missing-tables: source rows
    uint64_t issues = 0;
    std::map<std::string, uint64_t> issue_counts;
    std::string report_path;
    double seconds = 0, index_seconds = 0;
    unsigned jobs = 1;
    bool resumed = false;
    std::optional<VerifyResult> verify;  // --verify
    std::optional<StageVerifyResult> stage_verify;  // verify with a stage
    // Whether the source was written to after the snapshot the copy read (pipeline/source_moved.h);
    // unset when it could not be measured (source_moved_error says why).
    std::optional<SourceMoved> source_moved;
    std::string source_moved_error;
    std::string follow_slot;  // --follow: the replication slot created on the source, "" when not following
    bool counts_match() const;
};

CopyResult run_copy(Database& source, Database& dest, const CopyOptions& options, std::ostream& log);
void print_copy_summary(const CopyResult& result, std::ostream& out);
void print_table_line(const TableCopy& table, bool bootstrap, std::ostream& out);
std::string copy_summary_json(const CopyResult& result);

// Putting the destination back after a refused value, step by step: the step that failed (none when
// all went well) decides what the message says the destination now holds and what to do.
enum class UndoStep { none, empty_tables, restore_indexes, drop_checkpoint };
std::string undo_outcome(UndoStep failed, const std::string& reason);

}  // namespace mmmove
