#include "job/move_job.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "core/error.h"
#include "core/printable.h"
#include "core/trusted_path.h"
#include "pipeline/sync_state.h"
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
    return o;
}

uint64_t changed_rows(const CatchUpResult& r) {
    uint64_t n = 0;
    for (const auto& t : r.tables) n += t.inserted + t.updated + t.deleted;
    return n;
}

std::string pass_detail(const MovePass& p) {
    return std::to_string(p.rows) + " rows changed in " + std::to_string(static_cast<long long>(p.seconds * 1000)) + " ms";
}

MovePass one_pass(Database& src, Database& dst, const CatchUpOptions& o, unsigned n, CatchUpResult& r, std::ostream& log) {
    auto start = Clock::now();
    r = run_sync(src, dst, o, log);
    return MovePass{n, o.final_pass, std::chrono::duration<double>(Clock::now() - start).count(), changed_rows(r)};
}

}  // namespace

void run_job_command(const std::vector<std::string>& argv, const std::string& what, ExitCode code) {
    require_trusted_file(argv.at(0), "command " + what);  // again: the program may have changed since the job was read
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw Error(code, "The command " + what + " (" + printable(argv[0]) + ") could not be started.");
    if (pid == 0) {  // the child: stdin empty, stdout to stderr (stdout may carry the JSON summary)
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    std::string how = WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status)) : "was killed by a signal";
    throw Error(code, "The command " + what + " (" + printable(argv[0]) + ") " + how + ". Fix it (run it by hand to see why) and run the job again.");
}

void run_move(const Job& job, Database& src, Database& dst, bool quiet, JobResult& result, std::ostream& log,
              const std::function<void(const std::string&, const std::function<std::string()>&)>& step,
              const std::function<std::string()>& copy) {
    MoveOutcome& m = result.move.emplace();
    if (!read_sync_state(dst)) {
        m.copied = true;
        step("copy", copy);
    }
    CatchUpOptions o = sync_options(job, quiet);
    CatchUpResult r;
    bool small = false;
    for (unsigned n = 1; n <= job.move.max_passes && !small; ++n)
        step("sync " + std::to_string(n), [&] {
            m.passes.push_back(one_pass(src, dst, o, n, r, log));
            small = m.passes.back().rows <= job.move.until_changed_rows;
            return pass_detail(m.passes.back());
        });
    if (!small)
        throw Error(ExitCode::source_moving, "After " + std::to_string(job.move.max_passes) + " sync passes the last still changed " +
                                                 std::to_string(m.passes.back().rows) + " rows (move.until_changed_rows: " +
                                                 std::to_string(job.move.until_changed_rows) + "). Nothing was stopped. Run the "
                                                 "job again at a quieter hour, or raise move.max_passes or move.until_changed_rows.");
    auto down = Clock::now();  // the downtime starts with the stop
    if (!job.move.stop.empty()) step("stop", [&] { run_job_command(job.move.stop, "move.stop", ExitCode::source); return std::string("ran"); });
    o.final_pass = true;
    o.verify = job.has(JobStep::verify);
    step("final sync", [&] {
        m.passes.push_back(one_pass(src, dst, o, static_cast<unsigned>(m.passes.size() + 1), r, log));
        m.final_moved = r.source_moved;
        m.downtime_seconds = std::chrono::duration<double>(Clock::now() - down).count();
        if (!source_stood_still(r)) throw Error(ExitCode::source_moving, final_pass_failure(r));
        if (!quiet) print_final_pass(r, log);
        if (r.verify && !r.verify->equal()) {
            print_verify(*r.verify, log, false);
            throw Error(ExitCode::differs, "verify: the destination does not hold what the source holds (above).");
        }
        return pass_detail(m.passes.back()) + "; the source stood still" + (r.verify ? "; verified" : "");
    });
    if (!job.move.start.empty()) step("start", [&] { run_job_command(job.move.start, "move.start", ExitCode::destination); return std::string("ran"); });
    log << "Downtime: " << static_cast<long long>(*m.downtime_seconds * 1000) << " ms (from the stop to the end of the final sync"
        << (r.verify ? " and its verify" : "") << ").\n";
}

}  // namespace mmmove
