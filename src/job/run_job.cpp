#include "job/run_job.h"

#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>

#include "copy/copy.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/printable.h"
#include "db/database.h"
#include "db/destination_lock.h"
#include "files/file_sync.h"
#include "files/file_system.h"
#include "files/placeholder.h"
#include "job/anonymise_gate.h"
#include "job/incremental.h"
#include "job/job_config.h"
#include "job/move_job.h"
#include "job/refresh_target.h"
#include "job/run_lock.h"
#include "job/secrets_source.h"
#include "merge/merge.h"
#include "pipeline/checkpoint.h"
#include "sync/sync.h"
#include "transform/anonymise.h"

namespace mmmove {

namespace {

using Clock = std::chrono::steady_clock;

// The steps of one run, timed and recorded as they go; the first failure marks the rest skipped.
class StepLog {
public:
    StepLog(JobResult& result, std::ostream& log, bool quiet) : r_(result), log_(log), quiet_(quiet) {}

    void run(const std::string& name, const std::function<std::string()>& step) {
        if (!quiet_) log_ << "== " << name << "\n";
        auto start = Clock::now();
        r_.steps.push_back({name, "running", 0, ""});
        try {
            std::string detail = step();
            finish("ok", start, detail);
        } catch (const Error& e) {
            finish("failed", start, "exit " + std::to_string(static_cast<int>(e.code())));
            throw;
        } catch (const std::exception&) {
            finish("failed", start, "");
            throw;
        }
    }
    void note(const std::string& name, const std::string& status, const std::string& detail) { r_.steps.push_back({name, status, 0, detail}); }
    void skipped(const std::string& name) { r_.steps.push_back({name, "skipped", 0, "an earlier step failed"}); }

private:
    void finish(const char* status, Clock::time_point start, const std::string& detail) {
        auto& s = r_.steps.back();
        s.status = status;
        s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        s.detail = detail;
    }
    JobResult& r_;
    std::ostream& log_;
    bool quiet_;
};

// The password comes through read_secret, which refuses what a job must not name as a password file
// (a FIFO, a device, a link, another account's or a readable file), unlike --from-password-file.
DataSource side_source(const JobSide& s, Side side) {
    DataSource ds = resolve_data_source(s.database, side, "");
    if (!s.password_env.empty() || !s.password_file.empty())
        ds.password = read_secret(s.password_env, s.password_file, std::string(side_name(side)) + " database password");
    return ds;
}

ConvertPolicy policy_of(const JobCopy& c) { return convert_policy_named(c.on_overlong, c.on_invalid_json, c.on_refused_value); }

CheckOptions check_options_of(const Job& job) {
    CheckOptions c;
    c.create_schema = job.copy.create_schema;
    c.merge = job.mode == "merge";
    c.writes = true;
    c.allow_other_sessions = job.copy.allow_other_sessions;
    for (const auto& t : job.copy.skip_tables) c.skip_tables.insert(lower(t));
    return c;
}

std::unique_ptr<AnonymiseStage> anonymise_stage(const Job& job, Engine source, Engine dest, std::string server_id) {
    const JobAnonymise& a = job.anonymise;
    AnonymiseOptions o;
    o.server_id = std::move(server_id);
    o.key = read_secret(a.key_env, a.key_file, "anonymisation key");
    if (o.key.size() < 16)
        throw Error(ExitCode::bad_input, "The anonymisation key (" + (a.key_env.empty() ? a.key_file : "$" + a.key_env) +
                                             ") is shorter than 16 bytes: masks under a short key can be guessed. Use a long random "
                                             "key, e.g. `openssl rand -hex 32`.");
    if (a.passwords == "test-password") {
        o.passwords = AnonymiseOptions::Passwords::test_password;
        o.password_hash = test_password_hash(read_secret(a.test_password_env, a.test_password_file, "test password"), o.key);
    }
    o.messages = a.messages == "keep" ? TextMode::keep : a.messages == "replace" ? TextMode::replace : TextMode::scramble;
    std::vector<AnonymiseOverrideSpec> specs;
    for (const auto& c : a.columns) specs.push_back({c.table, c.column, c.kind, c.keep_paths});
    o.columns = anonymised_columns_with(specs);
    o.drop_tables = anonymised_drop_tables(a.drop_rows, a.keep_rows);
    return std::make_unique<AnonymiseStage>(std::move(o), source, dest);
}

// Everything a run holds open from the lock to the summary.
struct RunState {
    const Job& job;
    const RunOptions& options;
    JobResult& result;
    std::ostream& log;
    std::unique_ptr<Database> src, dst;
    std::unique_ptr<AnonymiseStage> stage;
    bool truncate = false, resume = false;
    bool incremental = false;      // a refresh as a sync through the stage (job/incremental.h)
    std::string full_reason = "";  // copy.incremental, yet a full refresh: why
    std::optional<CheckReport> sync_check = std::nullopt;
    std::optional<Catalog> src_catalog = std::nullopt;  // read once, before anything is written
    std::optional<Catalog> dst_catalog = std::nullopt;  // the same; stale once a step has written
    const Catalog& source_catalog() {
        if (!src_catalog) src_catalog = read_catalog(*src);
        return *src_catalog;
    }  // incremental: the check step's report, which the sync uses as its own
    const Catalog& dest_catalog_before_steps() {
        if (!dst_catalog) dst_catalog = read_catalog(*dst);
        return *dst_catalog;
    }
};

std::string check_step(RunState& s) {
    CheckOptions c = check_options_of(s.job);
    c.truncate = s.truncate;
    c.resume = s.resume;
    // Incremental: the check the sync runs (the rows are an earlier refresh's, the sync's record says
    // so), run once here; the sync takes its report instead of reading both catalogs again.
    if (s.incremental) c = sync_check_options(*s.dst, c, /*recorded_left_behind=*/false);
    CheckReport report = run_check(*s.src, *s.dst, c);
    if (s.incremental && !report.blocked()) s.sync_check = report;
    if (!s.options.quiet || report.blocked()) print_check(report, s.log);
    if (report.blocked()) {
        std::string hint = s.job.mode == "refresh" && !s.truncate && !report.dest_rows.empty()
                               ? " The destination holds data no mmmove refresh wrote: if it may go, run the job once with --force "
                                 "(later runs replace it by themselves)."
                               : "";
        throw Error(report.exit_code(), "The check found blocking problems (above); nothing was written." + hint);
    }
    return "schema migration " + std::to_string(report.source.version.highest()) + " on both sides" +
           (s.truncate ? "; the destination's data will be replaced" : "");
}

// A source written to after the copy's snapshot: the copy step still succeeds (it is complete as of the
// snapshot); the summary says which tables moved on and a warning says what to do.
void record_source_moved(RunState& s, const CopyResult& cr) {
    s.result.source_moved = cr.source_moved;
    if (!cr.source_moved) {
        s.result.warnings.push_back("whether the source moved on after the snapshot could not be measured: " + printable(cr.source_moved_error));
        s.log << "  [warning] " << s.result.warnings.back() << "\n";
        return;
    }
    if (!cr.source_moved->moved_on()) return;
    if (s.job.mode == "move") {  // expected while Mattermost runs: the sync passes that follow catch up
        if (!s.options.quiet) s.log << "  the source moved on after the copy's snapshot, as it does while Mattermost runs: the sync passes catch up\n";
        return;
    }
    std::string tables;
    for (const auto& t : cr.source_moved->moved) tables += (tables.empty() ? "" : "; ") + source_moved_line(t);
    print_printable(s.log, [&](std::ostream& text) { print_source_moved(*cr.source_moved, text); });
    s.result.warnings.push_back("the source moved on after the copy's snapshot (" + (tables.empty() ? "resumed copy" : tables) +
                                "): run mmmove sync, or stop Mattermost before the copy");
}

void record_stage_counts(RunState& s) {
    if (s.stage) {
        for (const auto& [kind, n] : s.stage->counts().by_kind)
            if (n.load()) s.result.masked[anon_kind_name(kind)] = n.load();
        s.result.dropped_rows = s.stage->counts().dropped_rows.load();
    }
}

void record_copy(RunState& s, const CopyResult& cr) {
    for (const auto& t : cr.tables) {
        s.result.tables.push_back({t.dest_table, t.rows_read, t.seconds});
        s.result.rows += t.rows_read;
    }
    record_stage_counts(s);
    if (cr.issues) s.result.warnings.push_back(std::to_string(cr.issues) + " values were changed to fit the destination (listed in " + cr.report_path + ")");
    record_source_moved(s, cr);
}

// An incremental refresh: the sync through the stage, its verify through the stage too. A failed one
// leaves the refresh record unfinished, so the next run is a full refresh.
std::string sync_step(RunState& s) {
    const Job& job = s.job;
    CatchUpOptions o;
    o.check = check_options_of(job);
    o.policy = policy_of(job.copy);
    o.jobs = job.copy.jobs;
    o.chunk_rows = job.copy.chunk_rows;
    o.verify = job.has(JobStep::verify);
    o.quiet = s.options.quiet;
    o.progress = Progress::style_for(s.options.quiet, isatty(STDERR_FILENO));
    o.stage = s.stage.get();
    o.recorded_left_behind = false;  // the job's skip_tables say what stays behind, not staging's record
    if (s.sync_check) o.checked = &*s.sync_check;
    record_refresh_start(*s.dst, job.name, s.src->data_source().label());
    CatchUpResult r = run_sync(*s.src, *s.dst, o, s.log);
    if (!s.options.quiet) print_sync_summary(r, s.log);
    uint64_t inserted = 0, updated = 0, deleted = 0;
    for (const auto& t : r.tables) {
        s.result.tables.push_back({t.dest_table, t.inserted + t.updated + t.deleted, t.seconds});
        inserted += t.inserted, updated += t.updated, deleted += t.deleted;
    }
    s.result.rows = inserted + updated + deleted;
    record_stage_counts(s);
    if (r.stage_verify) {
        print_stage_verify(*r.stage_verify, s.log, "masked");
        if (!r.stage_verify->equal()) throw Error(ExitCode::differs, "verify: the destination does not hold the masked rows (above).");
    } else if (r.verify) {
        print_verify(*r.verify, s.log, false);
        if (!r.verify->equal()) throw Error(ExitCode::differs, "verify: the destination does not hold what the source holds (above).");
    }
    record_refresh_end(*s.dst, job.name);
    return "incremental: " + std::to_string(inserted) + " rows inserted, " + std::to_string(updated) + " updated, " +
           std::to_string(deleted) + " deleted in " + std::to_string(r.tables.size()) + " tables" + (o.verify ? ", verified" : "");
}

std::string copy_step(RunState& s) {
    if (s.incremental) return sync_step(s);
    const Job& job = s.job;
    CopyOptions o;
    o.check = check_options_of(job);
    o.check.truncate = s.truncate;
    o.lower_case_tables = job.copy.lower_case_tables;
    o.policy = policy_of(job.copy);
    o.report_path = job.report;
    o.quiet = s.options.quiet;
    o.jobs = job.copy.jobs;
    o.chunk_rows = job.copy.chunk_rows;
    o.resume = s.resume;
    o.verify = job.has(JobStep::verify) && job.mode != "move";  // a move verifies on its final snapshot
    o.follow = job.mode == "move" && job.move.follow;
    o.stage = s.stage.get();
    o.progress = Progress::style_for(s.options.quiet, isatty(STDERR_FILENO));
    if (job.mode == "refresh" && !s.resume) record_refresh_start(*s.dst, job.name, s.src->data_source().label());
    CopyResult cr = run_copy(*s.src, *s.dst, o, s.log);
    record_copy(s, cr);
    if (!cr.counts_match()) throw Error(ExitCode::mismatch, "The destination's row counts differ from what was read (see the tables above).");
    if (cr.stage_verify) {
        print_stage_verify(*cr.stage_verify, s.log, "masked");
        if (!cr.stage_verify->equal()) throw Error(ExitCode::differs, "verify: the destination does not hold the masked rows (above).");
    } else if (cr.verify) {
        print_verify(*cr.verify, s.log, false);
        if (!cr.verify->equal()) throw Error(ExitCode::differs, "verify: the destination does not hold what the source holds (above).");
    }
    if (job.mode == "refresh") record_refresh_end(*s.dst, job.name);
    return (s.full_reason.empty() ? "" : "full refresh (" + s.full_reason + "): ") + std::to_string(s.result.rows) + " rows in " +
           std::to_string(cr.tables.size()) + " tables" +
           (cr.resumed ? " (resumed)" : "") + (o.verify ? ", verified" : "");
}

std::string merge_step(RunState& s) {
    MergeOptions o;
    o.check = check_options_of(s.job);
    if (!s.job.merge_rules.empty()) o.rules = MergeRules::load(s.job.merge_rules);
    o.resume = s.resume;
    o.quiet = s.options.quiet;
    o.jobs = s.job.copy.jobs;
    o.chunk_rows = s.job.copy.chunk_rows;
    o.policy = policy_of(s.job.copy);
    o.progress = Progress::style_for(s.options.quiet, isatty(STDERR_FILENO));
    o.verify = s.job.has(JobStep::verify);
    if (s.job.has(JobStep::files)) {  // the merge's file join: never a destination file replaced or deleted
        o.files_from = s.job.source.data;
        o.files_to = s.job.destination.data;
        o.files_checksum = s.job.files.checksum;
    }
    MergeResult mr = run_merge(*s.src, *s.dst, o, s.log);
    if (!s.options.quiet) print_merge_summary(mr, s.log);
    for (const auto& t : mr.tables) {
        s.result.tables.push_back({t.table, t.inserted, 0});
        s.result.rows += t.inserted;
    }
    if (mr.files) {
        s.result.file_bytes = mr.files->bytes;
        s.result.files_copied = mr.files->copied;
        for (const auto& refused : mr.files->refused) s.result.warnings.push_back("files: refused " + refused);
    }
    if (mr.verify && !mr.verify->equal()) throw Error(ExitCode::differs, "verify: the destination does not hold the merged rows (above).");
    return std::to_string(s.result.rows) + " rows inserted" + (mr.resumed ? " (resumed)" : "");
}

std::string files_step(RunState& s) {
    SyncOptions o;
    o.from = s.job.source.data;
    o.to = s.job.destination.data;
    o.checksum = s.job.files.checksum;
    o.remove_extra = s.job.files.remove_extra;
    o.jobs = s.job.copy.jobs;
    o.quiet = s.options.quiet;
    if (s.stage) {  // anonymised: the names FileInfo's masked paths give, and placeholders unless the job keeps contents
        const Masker& masker = s.stage->masker();
        o.file_name = [&masker](const std::string& rel) {
            std::string name = rel.substr(rel.rfind('/') + 1);
            return mattermost_file_name(rel) ? name : masker.file_name(name);
        };
        o.placeholders = !s.job.files.keep_contents;
    }
    SyncResult r = sync_files(o, real_file_system(), s.log);
    s.result.file_bytes += r.bytes;  // a move syncs the files with each pass
    s.result.files_copied += r.copied;
    for (const auto& refused : r.refused) s.result.warnings.push_back("files: refused " + refused);
    if (!r.failed.empty())
        throw Error(ExitCode::destination, std::to_string(r.failed.size()) + " files could not be copied (listed above).");
    return std::to_string(r.copied) + (o.placeholders ? " placeholders written, " : " copied, ") + std::to_string(r.unchanged) +
           " unchanged, " + std::to_string(r.deleted) + " deleted";
}

std::string config_step(RunState& s, bool dry_run = false) {
    auto r = run_config_step(s.job, s.stage != nullptr, dry_run, s.log);
    return std::to_string(r.changed) + " settings changed, " + std::to_string(r.turned_off.size()) + " turned off";
}

// Decides how a refresh treats what the destination holds (an earlier refresh is replaced; an
// unfinished one is finished with --resume, else started over).
void plan_destination(RunState& s) {
    if (s.job.mode == "merge") {
        s.resume = s.options.resume;
        return;
    }
    bool unfinished = Checkpoint(*s.dst).exists();
    s.resume = unfinished && s.options.resume;
    if (s.options.resume && !unfinished) s.result.warnings.push_back("--resume: no unfinished run in the destination; running from the start");
    if (s.job.mode == "refresh" && !s.resume && s.job.copy.incremental) {
        s.full_reason = full_refresh_reason(*s.src, s.source_catalog(), *s.dst, s.dest_catalog_before_steps(), s.job, s.stage.get());
        s.incremental = s.result.incremental = s.full_reason.empty();
    }
    if (s.job.mode == "refresh" && !s.resume && !s.incremental) s.truncate = holds_earlier_refresh(*s.dst) || s.options.force || s.job.force;
    if (s.options.quiet) return;
    if (s.resume) s.log << "  finishing the unfinished run the destination holds (--resume)\n";
    else if (s.incremental) s.log << "  incremental: only what changed since the last refresh is written, through the same masks\n";
    else if (!s.full_reason.empty()) s.log << "  a full refresh: " << s.full_reason << "\n";
    else if (s.truncate) s.log << "  the destination's data will be replaced (" << (holds_earlier_refresh(*s.dst) ? "an earlier refresh" : "--force") << (unfinished ? ", unfinished" : "") << ")\n";
}

void run_steps(RunState& s) {
    StepLog steps(s.result, s.log, s.options.quiet);
    if (s.job.mode == "move") {  // its own order: job/move_job.h
        MoveSteps move{[&](const std::string& name, const std::function<std::string()>& step) { steps.run(name, step); },
                       [&](const std::string& name, const std::string& status, const std::string& detail) { steps.note(name, status, detail); },
                       [&] { return check_step(s); }, [&] { return copy_step(s); }, nullptr, nullptr};
        if (s.job.has(JobStep::files)) move.files = [&] { return files_step(s); };
        if (s.job.has(JobStep::config)) move.config = [&](bool dry_run) { return config_step(s, dry_run); };
        if (s.options.dry_run)
            plan_move(s.job, *s.dst, s.log, move);
        else
            run_move(s.job, *s.src, *s.dst, s.options.quiet, s.result, s.log, move);
        return;
    }
    std::vector<JobStep> order = s.job.steps;
    size_t i = 0;
    try {
        for (; i < order.size(); ++i) {
            JobStep step = order[i];
            std::string name = job_step_name(step);
            if (s.options.dry_run && step != JobStep::check) {
                steps.note(name, "planned", "");
                continue;
            }
            if (step == JobStep::anonymise || step == JobStep::verify) {  // they run inside the copy or merge
                steps.note(name, "ok", step == JobStep::anonymise ? "in the copy's stream" : "with the copy, on its snapshot");
                continue;
            }
            if (step == JobStep::files && s.job.mode == "merge") {  // a plain sync would replace and delete
                steps.note(name, "ok", "with the merge, through its ID map");
                continue;
            }
            if (step == JobStep::check) steps.run(name, [&] { return check_step(s); });
            if (step == JobStep::copy) steps.run(s.job.mode == "merge" ? "merge" : name, [&] { return s.job.mode == "merge" ? merge_step(s) : copy_step(s); });
            if (step == JobStep::config) steps.run(name, [&] { return config_step(s); });
            if (step == JobStep::files) steps.run(name, [&] { return files_step(s); });
        }
    } catch (...) {
        for (++i; i < order.size(); ++i) steps.skipped(job_step_name(order[i]));
        throw;
    }
}

}  // namespace

JobResult run_job(const Job& job, const RunOptions& options, std::ostream& log) {
    JobResult r;
    r.job = job.name;
    r.mode = job.mode;
    r.started = utc_timestamp("%Y-%m-%dT%H:%M:%SZ");
    auto start = Clock::now();
    try {
        DataSource src_ds = side_source(job.source, Side::source);
        DataSource dst_ds = side_source(job.destination, Side::destination);
        r.source = src_ds.label();
        r.destination = dst_ds.label();
        std::optional<RunLock> lock;
        if (!options.dry_run) {
            std::string note;
            lock.emplace(RunLock::acquire_file(job.lock.empty() ? default_lock_path(job.name) : job.lock, job.name, note));
            if (!note.empty()) r.warnings.push_back(note);
            if (!job.summary.empty()) write_running_summary(r, job.summary);
        }
        RunState s{job, options, r, log, Database::connect(src_ds, Side::source), Database::connect(dst_ds, Side::destination), nullptr};
        std::optional<DestinationLock> dest_lock;
        if (!options.dry_run) dest_lock.emplace(*s.dst);
        refuse_source_as_destination(*s.src, *s.dst, job, options.force || job.force, r.warnings);
        // Deny by default, before anything is written (and in --dry-run): what nobody classified stops the run.
        if (job.has(JobStep::anonymise)) refuse_unclassified(unclassified_data(s.source_catalog(), job), job);
        // Staging's identity is read before anything empties the destination.
        if (job.has(JobStep::anonymise))
            s.stage = anonymise_stage(job, s.src->engine(), s.dst->engine(),
                                      staging_identity(*s.src, s.source_catalog(), *s.dst, s.dest_catalog_before_steps()));
        plan_destination(s);
        run_steps(s);
    } catch (const Error& e) {
        r.exit_code = static_cast<int>(e.code());
        r.error = e.what();
    } catch (const std::exception& e) {
        r.exit_code = static_cast<int>(ExitCode::internal);
        r.error = std::string("internal error: ") + e.what();
    }
    r.finished = utc_timestamp("%Y-%m-%dT%H:%M:%SZ");
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return r;
}

}  // namespace mmmove
