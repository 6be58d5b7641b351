#pragma once
// `mmmove merge`: one live Mattermost instance into another. The phases:
//   prepare  the check (same schema version; the destination may hold data), the plan (identity
//            matches, collisions, conflicts; merge_plan.h), and, before any row moves, the ID map and
//            the plan's names saved in the destination's checkpoint;
//   chunks   the copy's chunk runner, with the merge's stage (merge_stage.h) rewriting every row;
//   finish   memberships and channel totals (members.h), the record of the merge, the checkpoint dropped.
// A scoped merge (--team, --channel) is the same merge reading only the scope's source rows (scope.h).
// The source is only read, on one snapshot. A killed merge finishes with --resume, from the saved plan;
// the same source merged again into the same destination is refused.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "check/check.h"
#include "files/file_sync.h"
#include "merge/merge_plan.h"
#include "merge/scope.h"
#include "pipeline/progress.h"
#include "transform/convert.h"
#include "verify/stage_verify.h"

namespace mmmove {

struct MergeOptions {
    CheckOptions check;
    MergeRules rules = MergeRules::defaults();
    bool plan_only = false;  // --plan: decide and print, write nothing
    bool resume = false;
    bool quiet = false;
    unsigned jobs = 0;
    uint64_t chunk_rows = 200000;
    ConvertPolicy policy;
    Progress::Style progress = Progress::Style::quiet;
    size_t examples = 20;    // matches printed in the plan
    // The data directories (./data): when given, the merge ends by copying the source's files into the
    // destination's, never replacing a destination file, following the ID map (users/<id>, teams/<id>,
    // emoji/<id>: a row the destination already had keeps its own image; a renumbered row's files move).
    std::string files_from, files_to;
    bool files_checksum = false;  // a file both sides hold is the same when its content is (not size and mtime)
    bool verify = false;  // then compare every merged row with the source's, through the ID map
    ScopeRequest scope;   // --team / --channel: only that part of the source (merge/scope.h); empty: all of it
};

struct MergedTable {
    std::string table;
    uint64_t inserted = 0, matched = 0, skipped = 0;
    bool combined = false;  // memberships: held, then combined with the destination's or added
};

struct MergeResult {
    CheckReport check;
    MergePlan plan;
    bool applied = false;  // false for --plan
    bool resumed = false;
    std::vector<MergedTable> tables;
    std::optional<SyncResult> files;
    std::optional<StageVerifyResult> verify;
    double seconds = 0;
};

MergeResult run_merge(Database& source, Database& dest, const MergeOptions& options, std::ostream& log);
void print_merge_summary(const MergeResult& result, std::ostream& out);
std::string merge_summary_json(const MergeResult& result);

}  // namespace mmmove
