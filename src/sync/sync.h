#pragma once
// `mmmove sync`: brings a destination that mmmove filled (copy, or an earlier sync) up to the source's
// current state. Every table is compared chunk by chunk as verify compares it (digests of canonical
// rows on both sides; a chunk whose digests differ is compared by primary key), and each chunk that
// differs is put right in one destination transaction: the keys that differ or that only the
// destination has are deleted, then the source's current rows for the keys that differ or are missing
// are written through the copy's writers and conversions. The source is only read, on one consistent
// snapshot; memory is bounded by the chunk.
//
// Resuming: each chunk's apply is one transaction that makes that chunk equal to the snapshot, and a
// chunk found equal is not written. A sync killed at any point leaves every chunk either as it was or
// equal to the source; running it again (with or without --resume) compares again and writes only
// what still differs. Recording progress per chunk would save only the comparison of the chunks
// already done, which a sync repeats anyway to know what changed: so there is no checkpoint.
#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "check/check.h"
#include "pipeline/progress.h"
#include "pipeline/source_moved.h"
#include "transform/convert.h"
#include "verify/stage_verify.h"
#include "verify/verify.h"

namespace mmmove {

struct CatchUpOptions {
    CheckOptions check;              // skip_tables / skip_missing_tables, as the copy left tables behind
    ConvertPolicy policy;
    unsigned jobs = 0;               // 0 = number of cores
    uint64_t chunk_rows = 200000;
    bool plan_only = false;          // --plan: compare and list, write nothing
    bool resume = false;             // accepted: a sync continues by running again (see above)
    bool verify = false;             // then compare every row again, on the sync's snapshot
    bool full = false;               // --full: compare every row of every table (no change-column fast path)
    bool final_pass = false;         // --final: then measure whether the source moved since the snapshot (sync/final_pass.h)
    bool quiet = false;
    bool refresh_views = true;       // refresh the destination's materialized views after writing (a move's non-final passes skip it)
    // false: check.skip_tables alone says what stays behind (a job, whose file lists them), not the
    // destination's record, which whoever can write the destination can write.
    bool recorded_left_behind = true;
    Progress::Style progress = Progress::Style::quiet;
    // An incremental refresh (`mmmove run` with copy.incremental): the source's rows are compared and
    // written as the stage writes them (its masks), never as they are. The destination's record must
    // say it holds rows written through a stage with the same fingerprint (the same key and rules);
    // without a stage, a record saying it holds transformed rows is refused.
    const LoadStage* stage = nullptr;
    // The check this sync would run (sync_check_options), already run and passed by the caller (an
    // incremental refresh's check step): not run a second time. Null: the sync runs it.
    const CheckReport* checked = nullptr;
};

// The options a sync checks with: `base`, plus the tables the destination's record says the copy left
// behind (they stay behind), and no row counts (a fixed cost of every pass, which a sync does not judge).
CheckOptions sync_check_options(Database& dest, const CheckOptions& base, bool recorded_left_behind = true);

struct TableCatchUp {
    std::string source_table, dest_table;
    uint64_t inserted = 0, updated = 0, deleted = 0;
    uint64_t source_rows = 0;        // rows the source's snapshot holds (their keys at least were compared)
    uint64_t rows_compared = 0;      // source rows read whole and compared (all of them on the digest path)
    std::string method = "digest";   // how changes were found: "digest", "change_columns" (chunk_apply.h) or "stream" (follow.h)
    uint64_t converted_values = 0;   // values the edge conversion changed on the way (as a copy reports them)
    size_t chunks = 0, chunks_changed = 0;
    bool whole_chunks = false;       // keys that cannot be named as literals: differing chunks replaced whole
    std::string ledger;              // the previous pass's key digest: "trusted", "differed" or "" (unused; sync/key_ledger.h)
    double seconds = 0;
    bool changed() const { return inserted || updated || deleted; }
};

struct CatchUpResult {
    std::string source_label, dest_label;
    std::string previous;            // what the destination's record said before: "copy from … at …"
    std::vector<TableCatchUp> tables;
    std::vector<std::string> left_behind;     // source tables (lower case) not synced: --skip-table, or as the copy left them
    unsigned jobs = 1;
    double seconds = 0;
    bool planned = false;
    std::optional<VerifyResult> verify;
    std::optional<StageVerifyResult> stage_verify;  // verify with a stage
    std::optional<SourceMoved> source_moved;  // final_pass: what the source wrote after the sync's snapshot
    std::string source_moved_error;           // final_pass: why it could not be measured
    // final_pass: the statistics views (schema/tables.yaml statistics_views) it left as they stood, for
    // `mmmove refresh-views` once the new server runs; every other materialized view it refreshed.
    std::vector<std::string> views_left;
    std::string follow_slot;                  // the source's replication slot this sync followed (sync/follow.h), or ""
    std::string follow_note;                  // why the change stream was not used, or ""
    std::string follow_read;                  // what was read of the stream: up to where, lines, transactions
};

CatchUpResult run_sync(Database& source, Database& dest, const CatchUpOptions& options, std::ostream& log);
void print_sync_summary(const CatchUpResult& result, std::ostream& out);
std::string sync_summary_json(const CatchUpResult& result);

}  // namespace mmmove
