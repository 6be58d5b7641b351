#pragma once
// `mode: move` (job_file.h, JobMove): a live server's move, unattended.
//
//   copy (only when the destination holds no mmmove record) → sync passes until one changes at most
//   until_changed_rows rows → stop command → sync --final → verify (on the final snapshot) → start
//
// A final pass that finds the source still moving ends the run with ExitCode::source_moving and runs
// nothing further: the start command is not run, so no second server comes up beside a live one.
// The passes' times tell the downtime in advance: the final pass takes about as long as the last one.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "db/database.h"
#include "job/job_file.h"
#include "job/run_job.h"

namespace mmmove {

// The steps of a move, run by run_job after the lock and the guard. `step` times and records one
// step (run_job's StepLog); `copy` runs the job's copy step.
void run_move(const Job& job, Database& src, Database& dst, bool quiet, JobResult& result, std::ostream& log,
              const std::function<void(const std::string&, const std::function<std::string()>&)>& step,
              const std::function<std::string()>& copy);

// Runs `argv` (argv[0] an absolute path) without a shell, its output on stderr, stdin empty; waits for
// it. Throws Error(`code`) naming `what` when it cannot run or does not exit 0.
void run_job_command(const std::vector<std::string>& argv, const std::string& what, ExitCode code);

}  // namespace mmmove
