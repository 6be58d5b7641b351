#pragma once
// `mmmove run JOB.yaml`: one unattended job, its steps in order, under a lock, ending in a JSON summary
// and an exit code a scheduler can act on.
//
//   lock → connect → guard (the destination is not the source) → check → copy or merge (with the
//   anonymise stage in the stream) → verify → config merge → files sync → summary
//
// A refresh replaces the destination's data: an empty destination (schema only) or one an earlier
// refresh filled is emptied and loaded again. A failed refresh keeps its committed chunks: `mmmove run
// --resume JOB` finishes it; the next plain run starts over from a fresh snapshot of the source.
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "job/job_file.h"
#include "pipeline/source_moved.h"

namespace mmmove {

struct RunOptions {
    bool dry_run = false;  // print what the job would do (after a read-only check), change nothing
    bool force = false;    // the destination may look like the source, or hold data no refresh wrote
    bool resume = false;   // finish a run that failed half-way instead of starting over
    bool quiet = false;
};

struct StepOutcome {
    std::string name;
    std::string status;  // ok, failed, skipped (an earlier step failed), planned (dry run)
    double seconds = 0;
    std::string detail;  // one line, no secret and no personal value
};

struct TableOutcome {
    std::string table;
    uint64_t rows = 0;
    double seconds = 0;
};

// mode move: each sync pass (the final one last), and the downtime: from the stop command (or the
// final pass, without one) to the start command (the final pass, its verify, the files, the config).
struct MovePass {
    unsigned pass = 0;
    bool final = false;
    double seconds = 0;  // the database's sync
    uint64_t rows = 0;  // inserted + updated + deleted
    double files_seconds = 0;  // the files step's sync after it (0 without one)
};
struct MoveOutcome {
    bool copied = false;  // the job copied first (the destination held no mmmove record)
    std::vector<MovePass> passes;
    std::optional<double> expected_downtime_seconds;  // set before the stop: the last pass's sync and files
    std::optional<double> downtime_seconds;  // set once everything before the start has ended
    std::optional<SourceMoved> final_moved;  // what the final pass measured
};

struct JobResult {
    std::string job, mode, source, destination;  // sides as labels, without passwords
    std::string started, finished;
    double seconds = 0;
    int exit_code = 0;
    bool running = false;  // the summary written when the run starts: "status": "running", not ok
    std::string error;  // the failure, as printed
    std::vector<StepOutcome> steps;
    std::vector<TableOutcome> tables;
    uint64_t rows = 0, file_bytes = 0, files_copied = 0;  // rows: copied, or written by an incremental refresh
    bool incremental = false;  // the refresh was a sync through the stage (job/incremental.h)
    std::map<std::string, uint64_t> masked;  // kind → values replaced
    uint64_t dropped_rows = 0;               // rows an anonymised copy left out (sessions, tokens)
    std::vector<std::string> warnings;
    // The copy step: whether the source was written to after the snapshot it read (unset: no copy
    // step, or it could not be measured; then a warning says why).
    std::optional<SourceMoved> source_moved;
    std::optional<MoveOutcome> move;
};

// Runs the job; never throws for a failing step (the result carries the exit code and the error).
JobResult run_job(const Job& job, const RunOptions& options, std::ostream& log);

// The summary as JSON (one object), and written to `path` atomically: a new file created exclusively
// in its folder and renamed over the old. Refused (bad_input): a folder others could write, or
// anything at `path` but mmmove's own earlier summary (a link, another account's file, a hard link, a
// file that is no summary), which is left as it is.
std::string job_summary_json(const JobResult& result);
void write_job_summary(const JobResult& result, const std::string& path);
// The summary of a run that has just taken its lock: "status": "running", "ok": false, so a run that
// dies leaves that instead of the previous run's outcome.
void write_running_summary(const JobResult& so_far, const std::string& path);

}  // namespace mmmove
