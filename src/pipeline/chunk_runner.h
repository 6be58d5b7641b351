#pragma once
// The middle phase of a copy: N workers take chunks from a queue and load each one into the
// destination inside its own transaction, together with its checkpoint row and the values it changed.
//
// A chunk the destination refuses because of its rows (a NULL the destination's schema forbids, a
// duplicate key, a value out of range…) is loaded again carefully: in batches under savepoints, and a
// refused batch row by row, so the refused row is named and the policy decides (stop, or leave it out
// and list it). Only a failing server or connection stops a chunk as such; --resume finishes it.
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/checkpoint.h"
#include "pipeline/issue_log.h"
#include "transform/convert.h"
#include "pipeline/planner.h"
#include "pipeline/progress.h"

namespace mmmove {

class ReadSnapshot;

class LoadStage;

struct ChunkOutcome {
    uint64_t rows = 0, skipped = 0;
    uint64_t dropped = 0;   // left out by a transform (a merge: the destination has the row already)
    uint64_t existing = 0;  // written to staging, then left out because the destination had the key
    bool raw = false;      // moved as untouched COPY lines
    bool careful = false;  // loaded again row by row after the destination refused rows
};

using DoneChunks = std::map<std::pair<std::string, size_t>, ChunkDone>;

// Loads chunk `number` of `t` inside the caller's open destination transaction (under a savepoint,
// falling back to the careful load), and records it with its issues in the checkpoint.
// A destination connection for loading chunks (MySQL: foreign key checks off, LOAD DATA when allowed).
std::unique_ptr<Database> open_loader(const DataSource& ds);

// `stage` (a merge's transforms and write plan) may be null: a plain copy.
ChunkOutcome load_chunk(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                        Progress& progress, size_t progress_index, const LoadStage* stage = nullptr);
// The same, counting its rows in `progress`, which it rewinds when it loads the chunk again carefully.
// The caller rewinds it when the transaction around the chunk is rolled back.
ChunkOutcome load_chunk(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                        ChunkProgress& progress, const LoadStage* stage);
// What load_chunk writes, without its checkpoint row: the chunk's rows through the transforms and the
// edge conversion, under a savepoint, falling back to the careful load; the values it changed go to
// `issues`. A sync writes the source's current rows for a few keys this way (t.scope selects them).
ChunkOutcome write_chunk_rows(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                              ChunkProgress& progress, ChunkIssues& issues, const LoadStage* stage = nullptr);

struct ChunkRun {
    std::vector<double> seconds;  // per table, summed over its chunks
    std::vector<bool> raw, careful;
    size_t retried = 0;  // chunk attempts rolled back after losing a lock conflict, then run again
};

// Runs every chunk not in `done` on the snapshot's workers, one loader connection each. A chunk that
// loses a lock conflict on the destination is rolled back and run again a few times. The first other
// error stops the queue and is rethrown once every worker has stopped.
ChunkRun run_chunks(const CopyPlan& plan, const DoneChunks& done, ReadSnapshot& snapshot,
                    std::vector<std::unique_ptr<Database>>& loaders, const ConvertPolicy& policy, Progress& progress,
                    const LoadStage* stage = nullptr);

}  // namespace mmmove
