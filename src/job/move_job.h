#pragma once
// `mode: move` (job_file.h, JobMove): a live server's move, unattended.
//
//   copy (only when the destination holds no mmmove record) → sync passes, each followed by the files
//   step's sync, until one changes at most until_changed_rows rows → stop command → sync --final →
//   verify (on the final snapshot) → files once more → config merge → start → views (PostgreSQL: the
//   statistics views the final sync left as they stood, refreshed outside the downtime; a failure there
//   is a warning, the data has moved)
//
// Before the stop the expected downtime is printed and put in the summary: the last pass's time (sync
// and files), which a pass after the stop repeats with a few minutes' less change; the summary sets
// the measured downtime beside it. Both config.json are read (and the merge made, not written) before
// the stop too, so a config mmmove cannot merge fails the run while the old server still serves. A
// step that fails ends the run there and the steps after it are
// recorded as skipped: the start command runs only after everything before it succeeded, so no second
// server comes up beside a live one, nor on a database or data directory left half-moved.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "db/database.h"
#include "job/job_file.h"
#include "job/run_job.h"

namespace mmmove {

// What run_job lends a move: its step log, and the steps a move shares with the other modes.
struct MoveSteps {
    std::function<void(const std::string& name, const std::function<std::string()>& step)> run;  // times and records one step
    std::function<void(const std::string& name, const std::string& status, const std::string& detail)> note;
    std::function<std::string()> check, copy;
    std::function<std::string()> files;   // empty: the job has no files step
    std::function<std::string(bool dry_run)> config;  // empty: the job has no config step; dry_run writes nothing
};

// The steps of a move, run by run_job after the lock and the guard.
void run_move(const Job& job, Database& src, Database& dst, bool quiet, JobResult& result, std::ostream& log, const MoveSteps& steps);

// --dry-run: the check (when a copy would run), then each step in the order it would run, with the
// commands it would run, as "planned" steps and on `log`. Writes nothing.
void plan_move(const Job& job, Database& dst, std::ostream& log, const MoveSteps& steps);

// Runs `argv` (argv[0] an absolute path) without a shell, its output on stderr, stdin empty, no other
// descriptor of mmmove's open, and only the environment's PATH, HOME, USER, LOGNAME, SHELL, LANG,
// LANGUAGE, LC_*, TZ, TERM, SSH_AUTH_SOCK, XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS, in a process
// group of its own; waits for it at most `timeout_seconds`, then ends that group (SIGTERM, SIGKILL 5 s
// later). Throws Error(`code`) naming `what` when it cannot run, times out or does not exit 0, followed
// by `state` (where the move stands and what to do).
void run_job_command(const std::vector<std::string>& argv, const std::string& what, ExitCode code, const std::string& state,
                     unsigned timeout_seconds);

}  // namespace mmmove
