#include "job/move_job.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "core/error.h"
#include "core/printable.h"
#include "core/trusted_path.h"
#include "pipeline/index_rebuild.h"
#include "pipeline/sync_state.h"
#include "pipeline/follow_start.h"
#include "sync/final_pass.h"
#include "sync/sync.h"

namespace mmmove {
namespace {

using Clock = std::chrono::steady_clock;

CatchUpOptions sync_options(const Job& job, bool quiet) {
    CatchUpOptions o;
    for (const auto& t : job.copy.skip_tables) o.check.skip_tables.insert(lower(t));
    o.policy = convert_policy_named(job.copy.on_overlong, job.copy.on_invalid_json, job.copy.on_refused_value);
    o.jobs = job.copy.jobs;
    o.chunk_rows = job.copy.chunk_rows;
    o.quiet = quiet;
    o.refresh_views = false;  // the passes while Mattermost runs: the final pass and the views step refresh the views once
    o.recorded_left_behind = false;  // the job's skip_tables, not a record on the destination, say what a move leaves
    return o;
}

uint64_t changed_rows(const CatchUpResult& r) {
    uint64_t n = 0;
    for (const auto& t : r.tables) n += t.inserted + t.updated + t.deleted;
    return n;
}

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string ms(double seconds) { return std::to_string(static_cast<long long>(seconds * 1000)) + " ms"; }

std::string pass_detail(const MovePass& p) { return std::to_string(p.rows) + " rows changed in " + ms(p.seconds); }

MovePass one_pass(Database& src, Database& dst, const CatchUpOptions& o, unsigned n, CatchUpResult& r, std::ostream& log) {
    auto start = Clock::now();
    r = run_sync(src, dst, o, log);
    return MovePass{n, o.final_pass, since(start), changed_rows(r), 0};
}

// Runs one step and returns its time (the files step's time belongs to its pass).
double timed(const MoveSteps& steps, const std::string& name, const std::function<std::string()>& step) {
    auto start = Clock::now();
    steps.run(name, step);
    return since(start);
}

std::string command_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + printable(a);
    return line;
}

// The steps from the stop on, in the order they run: those a failure leaves unrun are recorded as skipped.
// `views`: the destination has statistics views for the step after the start (PostgreSQL).
std::vector<std::string> tail_steps(const Job& job, const MoveSteps& steps, bool views) {
    std::vector<std::string> names;
    if (!job.move.stop.empty()) names.push_back("stop");
    names.push_back("final sync");
    if (job.has(JobStep::verify)) names.push_back("verify");
    if (steps.files) names.push_back("final files");
    if (steps.config) names.push_back("config");
    if (!job.move.start.empty()) names.push_back("start");
    if (views) names.push_back("views");
    return names;
}

void mark_skipped(const std::vector<std::string>& names, const JobResult& result, const MoveSteps& steps) {
    for (const auto& name : names) {
        bool ran = false;
        for (const auto& s : result.steps) ran = ran || s.name == name;
        if (!ran) steps.note(name, "skipped", "an earlier step failed");
    }
}

// Sync passes (each with its files) until one changes at most until_changed_rows rows. Throws when
// max_passes passes did not get there: nothing has been stopped.
void catch_up(const Job& job, Database& src, Database& dst, const CatchUpOptions& o, MoveOutcome& m, std::ostream& log,
              const MoveSteps& steps) {
    CatchUpResult r;
    for (unsigned n = 1; n <= job.move.max_passes; ++n) {
        steps.run("sync " + std::to_string(n), [&] {
            m.passes.push_back(one_pass(src, dst, o, n, r, log));
            return pass_detail(m.passes.back());
        });
        if (steps.files) m.passes.back().files_seconds = timed(steps, "files " + std::to_string(n), steps.files);
        if (m.passes.back().rows <= job.move.until_changed_rows) return;
    }
    throw Error(ExitCode::source_moving, "After " + std::to_string(job.move.max_passes) + " sync passes the last still changed " +
                                             std::to_string(m.passes.back().rows) + " rows (move.until_changed_rows: " +
                                             std::to_string(job.move.until_changed_rows) + "). Nothing was stopped: Mattermost "
                                             "still serves from the old server. Run the job again at a quieter hour (it syncs on "
                                             "from where the destination stands), or raise move.max_passes or "
                                             "move.until_changed_rows.");
}

// The downtime in advance: a pass after the stop does what the last pass did, with less change to carry.
void announce_downtime(const Job& job, const MoveSteps& steps, JobResult& result, std::ostream& log) {
    MoveOutcome& m = *result.move;
    const MovePass& last = m.passes.back();
    m.expected_downtime_seconds = last.seconds + last.files_seconds;
    log << "Expected downtime: about " << ms(*m.expected_downtime_seconds) << " (the last pass: " << ms(last.seconds) << " sync"
        << (steps.files ? " + " + ms(last.files_seconds) + " files" : "") << (job.has(JobStep::verify) ? "; the final sync's verify comes on top" : "")
        << "). " << (job.move.stop.empty() ? "No move.stop command: the final sync starts now." : "Running move.stop now.") << "\n";
    if (!job.summary.empty()) write_running_summary(result, job.summary);  // an admin watching it sees the estimate before the stop
}

// What a failed stop leaves: the old server in an unknown state, the new one not started.
std::string stop_failed_state(const MoveOutcome& m) {
    return "Mattermost on the old server may be running, stopped or partly stopped: check it (start it again by hand to serve "
           "users meanwhile). The new database holds the source as of sync pass " + std::to_string(m.passes.size()) +
           " (not final) and nothing was started on it. Fix the stop command (run it by hand to see why) and run the job "
           "again: it syncs on from where the destination stands, without copying again.";
}

const char* start_failed_state =
    "The old server is stopped; the new database holds all of its data, verified when the job verifies, with the files and "
    "config in place when the job moves them. Fix the start command (run it by hand to see why) and start Mattermost on the "
    "new server by hand; running the job again is also safe (it finds nothing left to move).";

// What a failure after the stop leaves: the old server stopped, the new one not started.
const char* stopped_state =
    "Mattermost on the old server is stopped (move.stop ran) and nothing was started on the new one: fix the above and run "
    "the job again (it syncs on from where the destination stands), or start the old server by hand to serve users meanwhile.";

// The final sync, its verify, the files once more and the config; what fails says where things stand.
// Returns the statistics views the final sync left as they stood, for the views step after the start.
std::vector<std::string> final_pass(const Job& job, Database& src, Database& dst, CatchUpOptions o, bool quiet, MoveOutcome& m,
                                    std::ostream& log, const MoveSteps& steps) {
    o.final_pass = true;
    o.refresh_views = true;
    o.verify = job.has(JobStep::verify);
    CatchUpResult r;
    steps.run("final sync", [&] {
        m.passes.push_back(one_pass(src, dst, o, static_cast<unsigned>(m.passes.size() + 1), r, log));
        m.final_moved = r.source_moved;
        if (!source_stood_still(r)) throw Error(ExitCode::source_moving, final_pass_failure(r));
        if (!quiet) print_final_pass(r, log, false);
        // The source is stopped and the destination holds it: the slot (move.follow) would only keep its WAL.
        const std::string dropped = r.follow_slot.empty() ? "" : stop_following(src, dst, log);
        return pass_detail(m.passes.back()) + "; the source stood still" + (dropped.empty() ? "" : "; dropped the slot " + dropped);
    });
    if (r.verify)
        steps.run("verify", [&] {
            print_verify(*r.verify, log, false);
            if (!r.verify->equal()) throw Error(ExitCode::differs, "verify: the destination does not hold what the source holds (above).");
            return std::string("with the final sync, on its snapshot");
        });
    if (steps.files) m.passes.back().files_seconds = timed(steps, "final files", steps.files);
    if (steps.config) steps.run("config", [&] { return steps.config(false); });
    return r.views_left;
}

// From the stop to the start: the downtime, measured. Returns what final_pass returns.
std::vector<std::string> final_steps(const Job& job, Database& src, Database& dst, const CatchUpOptions& o, bool quiet, MoveOutcome& m, std::ostream& log,
                 const MoveSteps& steps) {
    auto down = Clock::now();  // the downtime starts with the stop
    if (!job.move.stop.empty())
        steps.run("stop", [&] { run_job_command(job.move.stop, "move.stop", ExitCode::source, stop_failed_state(m), job.move.stop_timeout_seconds); return std::string("ran"); });
    std::vector<std::string> views_left;
    try {
        views_left = final_pass(job, src, dst, o, quiet, m, log, steps);
    } catch (const Error& e) {
        if (job.move.stop.empty()) throw;
        throw Error(e.code(), std::string(e.what()) + " " + stopped_state);
    }
    m.downtime_seconds = since(down);
    log << "Downtime: " << ms(*m.downtime_seconds) << " (from the stop to the start";
    if (m.expected_downtime_seconds) log << "; expected: about " << ms(*m.expected_downtime_seconds);
    log << ").\n";
    return views_left;
}

// After the start, outside the downtime: the statistics views the final sync left (Mattermost serves
// meanwhile; only its statistics read them). The data has moved whatever happens here, so a failure is
// a warning with the command to run by hand, not a failed move.
void refresh_after_start(const Job& job, Database& dst, const std::vector<std::string>& views, bool quiet, JobResult& result,
                         std::ostream& log, const MoveSteps& steps) {
    if (views.empty()) return;
    std::string names;
    for (const auto& v : views) names += (names.empty() ? "" : ", ") + printable(v);
    try {
        steps.run("views", [&] {
            refresh_views_apart(dst.data_source(), views, job.copy.jobs, log, quiet);
            return "refreshed the statistics views " + names + " after the start";
        });
    } catch (const std::exception& e) {
        result.warnings.push_back("the move is complete, but refreshing the statistics views " + names + " failed (" + printable(e.what()) +
                                  "): Mattermost serves with them stale (only its statistics read them). Refresh them by hand: "
                                  "mmmove refresh-views --to <the job's destination database>");
        log << "  [warning] " << result.warnings.back() << "\n";
    }
}

// The environment a job command gets, deny by default: what finds programs, speaks the admin's language
// and reaches the admin's ssh agent or session bus (ssh old-host, systemctl --user). Everything else stays
// with mmmove: the passwords (MMMOVE_*_PASSWORD, a job's *_env), the key, and any variable the job file
// read through ${NAME}, whose DSN may carry a password.
bool passed_to_commands(const std::string& entry) {
    static const char* const names[] = {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM",
                                        "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"};
    const std::string name = entry.substr(0, entry.find('='));
    if (name.size() == entry.size()) return false;
    if (name.rfind("LC_", 0) == 0) return true;
    for (const char* n : names)
        if (name == n) return true;
    return false;
}

std::vector<std::string> command_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e)
        if (passed_to_commands(*e)) env.emplace_back(*e);
    return env;
}

// Waits for `pid` until `limit`; false when it still runs then.
bool wait_for(pid_t pid, int& status, Clock::duration limit) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return true;
        if (r < 0 && errno != EINTR) return true;  // not ours to wait for any more: nothing left to end
        if (Clock::now() >= deadline) return false;
        usleep(50 * 1000);
    }
}

// Ends the command's process group: SIGTERM, then SIGKILL if the command is still there after 5 s; reaps it.
void end_group(pid_t pid, int& status) {
    kill(-pid, SIGTERM);
    if (!wait_for(pid, status, std::chrono::seconds(5))) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    kill(-pid, SIGKILL);  // what it started and left behind in its group
}

}  // namespace

void run_job_command(const std::vector<std::string>& argv, const std::string& what, ExitCode code, const std::string& state,
                     unsigned timeout_seconds) {
    require_trusted_file(argv.at(0), "command " + what);  // again: the program may have changed since the job was read
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_text = command_environment();  // built before the fork: the child only execs
    std::vector<char*> env;
    for (auto& e : env_text) env.push_back(e.data());
    env.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw Error(code, "The command " + what + " (" + printable(argv[0]) + ") could not be started. " + state);
    if (pid == 0) {  // the child: its own process group (ended as one on timeout), stdin empty, stdout to stderr
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        // Nothing else of mmmove's: its database connections (a connector that does not mark its socket
        // close-on-exec would hand the child a logged-in session) and its files.
        if (close_range(3, ~0U, 0) != 0)
            for (int fd = 3; fd < 4096; ++fd) close(fd);
        execve(args[0], args.data(), env.data());
        _exit(127);
    }
    setpgid(pid, pid);  // also here: whichever runs first, the group exists before a kill could name it
    int status = 0;
    const bool finished = wait_for(pid, status, std::chrono::seconds(timeout_seconds));
    if (!finished) {
        end_group(pid, status);
        throw Error(code, "The command " + what + " (" + printable(argv[0]) + ") did not finish within " + std::to_string(timeout_seconds) +
                              " seconds (" + what + "_timeout_seconds): mmmove ended it and "
                              "every process it started. " + state);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    std::string how = WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status)) : "was killed by a signal";
    throw Error(code, "The command " + what + " (" + printable(argv[0]) + ") " + how + ". " + state);
}

void run_move(const Job& job, Database& src, Database& dst, bool quiet, JobResult& result, std::ostream& log, const MoveSteps& steps) {
    MoveOutcome& m = result.move.emplace();
    std::vector<std::string> views_left;
    try {
        steps.note("check", "ok", "with the copy and each sync pass");
        if (!read_sync_state(dst)) {
            m.copied = true;
            steps.run("copy", steps.copy);
        }
        CatchUpOptions o = sync_options(job, quiet);
        catch_up(job, src, dst, o, m, log, steps);
        if (steps.config) steps.config(true);  // a config that cannot be merged fails the run before anything is stopped
        announce_downtime(job, steps, result, log);
        views_left = final_steps(job, src, dst, o, quiet, m, log, steps);
        if (!job.move.start.empty())
            steps.run("start", [&] { run_job_command(job.move.start, "move.start", ExitCode::destination, start_failed_state, job.move.start_timeout_seconds); return std::string("ran"); });
    } catch (...) {
        mark_skipped(tail_steps(job, steps, dst.engine() == Engine::postgres), result, steps);
        throw;
    }
    refresh_after_start(job, dst, views_left, quiet, result, log, steps);
}

void plan_move(const Job& job, Database& dst, std::ostream& log, const MoveSteps& steps) {
    auto plan = [&](const std::string& name, const std::string& detail) {
        log << "  would " << name << ": " << detail << "\n";
        steps.note(name, "planned", detail);
    };
    if (!read_sync_state(dst)) {
        steps.run("check", steps.check);
        plan("copy", std::string("the destination holds no mmmove record: copy the source while Mattermost runs") +
                         (job.move.follow ? ", following its changes (a PostgreSQL source: creates a replication slot mmmove_… "
                                            "there, which holds its WAL until the final pass drops it; MariaDB: records the "
                                            "binlog position, nothing created)"
                                          : ""));
    } else {
        steps.note("check", "planned", "with each sync pass");
        log << "  the destination holds mmmove's record: no copy, the sync passes go on from where it stands\n";
    }
    plan("sync passes", "until one changes at most " + std::to_string(job.move.until_changed_rows) + " rows, at most " +
                            std::to_string(job.move.max_passes) + " passes (else stop nothing, exit 11)" +
                            (steps.files ? ", each followed by the files sync" : ""));
    plan("stop", job.move.stop.empty() ? "no move.stop command: nothing is run" : "run " + command_line(job.move.stop));
    plan("final sync", std::string("refresh the materialized views but the statistics views; prove the source stood still (else exit "
                                   "11, nothing started)") +
                           (job.move.follow ? ", then drop the replication slot it followed" : ""));
    if (job.has(JobStep::verify)) plan("verify", "every row, on the final sync's snapshot");
    if (steps.files)
        plan("final files", "sync " + printable(job.source.data) + " to " + printable(job.destination.data) +
                                (job.files.remove_extra ? ", deleting files the source lacks" : ", deleting nothing"));
    if (steps.config) plan("config", "merge the source's config into the destination's, which keeps its SqlSettings and ListenAddress");
    plan("start", job.move.start.empty() ? "no move.start command: nothing is run" : "run " + command_line(job.move.start));
    plan("views", "after the start, outside the downtime: refresh the statistics views the final sync left as they stood "
                  "(PostgreSQL destination; a failure is a warning, the data has moved)");
    log << "  expected downtime: the last pass's time before the stop (printed then, and in the summary)\n";
}

}  // namespace mmmove
