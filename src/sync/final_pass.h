#pragma once
// `mmmove sync --final`: the last pass of a live move's cut-over, run after Mattermost was stopped (or
// set read-only). Nothing written before the stop can be lost: the sync's snapshot was taken after it,
// and the sync makes the destination equal to that snapshot. What a final pass adds is the proof that
// the stop held: after writing, it reads the source's change stream (sync/stillness_stream.h) or
// measures (as a copy does, pipeline/source_moved.h) whether the source was written to after the snapshot. If so, the destination lacks those writes and the move
// must not be completed: the pass fails with ExitCode::source_moving, naming the tables.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "pipeline/planner.h"
#include "pipeline/snapshot.h"
#include "sync/sync.h"

namespace mmmove {

class StillnessStream;

// Proves whether the source moved since the pass's snapshot, into result.source_moved (or
// result.source_moved_error): from `stream` when it can (sync/stillness_stream.h), else by measuring
// every synced table on `snapshot` against the present, from `snapshot_ms` (the source's clock just
// before the snapshot). result.source_moved->proof says which.
void measure_final_pass(ReadSnapshot& snapshot, const Catalog& source, const CopyPlan& plan, int64_t snapshot_ms, CatchUpResult& result,
                        StillnessStream* stream = nullptr);

// True when a final pass proved the source stood still; false when it moved or was not measured.
bool source_stood_still(const CatchUpResult& result);

// The verdict: "the source stood still during the final sync", or the tables that moved and the fix;
// then (`views_note`) the statistics views it left as they stood and how to refresh them.
void print_final_pass(const CatchUpResult& result, std::ostream& out, bool views_note = true);
// The statistics views a final pass left, and the command that refreshes them once Mattermost runs.
std::string views_left_text(const std::vector<std::string>& views);
nlohmann::json final_pass_json(const CatchUpResult& result);

// The error a failed final pass ends with (exit code 11): the tables and amounts, and the fix.
std::string final_pass_failure(const CatchUpResult& result);

}  // namespace mmmove
