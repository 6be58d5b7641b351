// mmmove run JOB.yaml: one unattended job (a nightly anonymised refresh, a move, a merge), for cron or
// a systemd timer.
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/printable.h"
#include "job/run_job.h"
#include "job/run_lock.h"

namespace mmmove::cli {

namespace {

void print_plan(const Job& job, std::ostream& out) {
    out << "job " << job.name << " (" << job.file << "): " << job.mode << "\n  steps:";
    for (auto step : job.steps) out << " " << job_step_name(step);
    std::string lock = job.lock.empty() ? default_lock_path(job.name) : job.lock;
    out << "\n  lock: " << (job.lock.empty() ? "(default) " : "") << (lock.empty() ? "none: set lock: in the job" : lock) << "\n";
    if (!job.summary.empty()) out << "  summary: " << job.summary << "\n";
}

}  // namespace

void add_run(CLI::App& app, Action& action) {
    static std::string path;
    static RunOptions options;
    static bool json = false;
    auto* cmd = app.add_subcommand("run", "run a job file: check, copy or merge, anonymise, verify, config merge, files sync (for cron and systemd timers)");
    cmd->add_option("job", path, "the job file (YAML); examples in config/")->required();
    cmd->add_flag("--dry-run", options.dry_run, "check both sides (read only) and print what the job would do; change nothing");
    cmd->add_flag("--force", options.force,
                  "go on although the destination has the source's SiteURL, or holds data no refresh wrote (never into the source's own database)");
    cmd->add_flag("--resume", options.resume, "finish a run that failed half-way instead of starting over");
    cmd->add_flag("--quiet", options.quiet, "print only the outcome");
    cmd->add_flag("--json", json, "print the summary as JSON on stdout");
    cmd->callback([&action] {
        action = [] {
            Job job = load_job(path);
            if (options.dry_run || !options.quiet) print_plan(job, std::cerr);
            JobResult r = run_job(job, options, std::cerr);
            if (!r.error.empty()) std::cerr << "mmmove: " << printable_lines(r.error) << "\n";
            // A run refused by the lock leaves the summary to the run that holds it.
            if (!job.summary.empty() && !options.dry_run && r.exit_code != static_cast<int>(ExitCode::lock_held)) {
                try {
                    write_job_summary(r, job.summary);
                } catch (const Error& e) {
                    std::cerr << "mmmove: the summary could not be written: " << printable_lines(e.what()) << "\n";
                    if (r.exit_code == 0) r.exit_code = static_cast<int>(e.code());
                }
            }
            if (json)
                std::cout << job_summary_json(r) << "\n";
            else {
                std::cout << "job " << r.job << ": " << (r.exit_code == 0 ? (options.dry_run ? "would run" : "done") : "FAILED") << " in "
                          << static_cast<long>(r.seconds) << " s (exit " << r.exit_code << ")\n";
                for (const auto& s : r.steps)
                    std::cout << "  " << s.name << ": " << s.status << (s.detail.empty() ? "" : " (" + printable_lines(s.detail) + ")") << "\n";
            }
            return r.exit_code;
        };
    });
}

}  // namespace mmmove::cli
