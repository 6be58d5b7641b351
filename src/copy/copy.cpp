#include "copy/copy.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "catalog/schema_model.h"
#include "core/workers.h"
#include "core/clock.h"
#include "core/printable.h"
#include "db/destination_lock.h"
#include "db/transaction.h"
#include "pipeline/checkpoint.h"
#include "pipeline/chunk_runner.h"
#include "pipeline/index_rebuild.h"
#include "pipeline/issue_log.h"
#include "pipeline/planner.h"
#include "pipeline/snapshot.h"
#include "pipeline/follow_start.h"
#include "pipeline/sync_state.h"

namespace mmmove {

bool CopyResult::counts_match() const {
    for (const auto& t : tables)
        if (t.rows_read != t.rows_in_dest) return false;
    return true;
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

uint64_t count_rows(Database& db, const std::string& table) {
    return std::stoull(db.query("SELECT COUNT(*) FROM " + db.quote_ident(table)).at(0).at(0).value_or("0"));
}

void empty_tables(Database& dst, const std::vector<std::string>& tables) {
    if (tables.empty()) return;
    if (dst.engine() == Engine::postgres) {
        std::string list;
        for (const auto& t : tables) list += (list.empty() ? "" : ", ") + dst.quote_ident(t);
        dst.exec("TRUNCATE " + list);
    } else {
        dst.exec("SET SESSION foreign_key_checks = 0");
        for (const auto& t : tables) dst.exec("TRUNCATE TABLE " + dst.quote_ident(t));
        dst.exec("SET SESSION foreign_key_checks = 1");
    }
}

// A value of the checkpoint's state as a message shows it: text in the form mmmove wrote (a timestamp,
// a masked DSN: printable ASCII), else "?". Whoever can write the destination cannot write to the terminal.
std::string shown_state(const nlohmann::json& state, const char* key) {
    auto it = state.find(key);
    if (it == state.end() || !it->is_string()) return "?";
    const std::string& v = it->get_ref<const std::string&>();
    bool printable = !v.empty() && v.size() <= 300 && std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    return printable ? v : "?";
}

// What the phases share.
struct CopyRun {
    CopyPlan plan;
    std::vector<SecondaryIndex> deferred;
    DoneChunks done_before;
    bool resuming = false;
    std::unique_ptr<ReadSnapshot> snapshot;  // the source as the copy reads it; --verify reads it again
    int64_t source_ms = 0;                   // the source's clock just before the first snapshot (source_moved.h)
    std::optional<FollowStart> follow;       // --follow: the slot, created before the snapshot
    std::optional<XidSnapshot> follow_snapshot;  // the snapshot's transaction ids, for the follow record
    std::optional<BinlogPosition> follow_binlog;  // a MariaDB source: the snapshot's binlog position, instead
    bool source_ms_unknown = false;          // resumed from a checkpoint that does not hold it
};

// Phase 1: the check (and the schema, when asked), the plan, the checkpoint and the deferred indexes.
CopyRun prepare(Database& src, Database& dst, const CopyOptions& o, CopyResult& result, Checkpoint& checkpoint, std::ostream& log) {
    CopyRun run;
    bool previous = checkpoint.exists();
    if (previous && !o.resume && !o.check.truncate) {
        auto state = checkpoint.state();
        throw Error(ExitCode::destination,
                    "A previous mmmove copy into this destination (started " + shown_state(state, "started") + " from " +
                        shown_state(state, "source") + ") did not finish. Run the same command with "
                        "--resume to finish it, or with --truncate to start again from nothing.");
    }
    if (!previous && o.resume)
        throw Error(ExitCode::bad_input, "There is no interrupted mmmove copy in the destination to resume; run the copy without --resume.");
    run.resuming = previous && o.resume;
    result.resumed = run.resuming;

    CheckOptions check_options = o.check;
    check_options.resume = run.resuming;
    check_options.writes = true;
    result.check = run_check(src, dst, check_options);
    if (!o.quiet || result.check.blocked()) print_check(result.check, log);
    if (result.check.blocked()) throw Error(result.check.exit_code(), "The copy did not start: see the blocking problems above.");
    if (result.check.create_model) {
        create_schema(dst, *result.check.create_model, o.lower_case_tables);
        if (!o.quiet) log << "  created the Mattermost schema at migration " << result.check.create_model->level << "\n";
        check_options.create_schema = false;
        result.check = run_check(src, dst, check_options);
        if (result.check.blocked()) {
            print_check(result.check, log);
            throw Error(ExitCode::internal, "The schema mmmove created does not match the source; please report this as a bug.");
        }
        // What only a schema shows (columns whose values the destination may refuse) is said now.
        for (const auto& f : result.check.findings)
            if (!o.quiet && f.severity == Finding::Severity::warning) log << "  [warning] " << printable_lines(f.text) << "\n";
    }
    const CheckReport& check = result.check;
    for (const auto& t : check.source.catalog.tables)
        if (o.check.skip_tables.count(lower(t.name)) ||
            std::find(check.source_only_tables.begin(), check.source_only_tables.end(), t.name) != check.source_only_tables.end())
            result.left_behind.emplace_back(t.name, count_rows(src, t.name));

    run.plan = plan_copy(check, check_options, src, o.chunk_rows);
    // Index definitions come from mmmove's model of the destination's level, never from the checkpoint.
    const SchemaModel* model = find_model(dst.engine(), check.dest.version.migrations);
    std::vector<std::string> content;
    for (const auto& t : run.plan.tables)
        if (!t.bootstrap) content.push_back(t.dest->name);
    if (run.resuming) {
        nlohmann::json state = checkpoint.state();
        apply_bounds(run.plan, state["bounds"]);
        run.deferred = indexes_from_json(state["indexes"], model, content);
    } else {
        // A checkpoint this run does not resume is dropped unread. The indexes the interrupted copy set
        // aside are the model's indexes the destination now lacks: they come back after the load.
        if (previous) {
            checkpoint.drop();
            run.deferred = missing_indexes(dst, model, content);
        }
        if ((o.check.truncate || check.fresh_destination) && !check.dest_rows.empty()) {
            std::vector<std::string> names;
            for (const auto& [t, n] : check.dest_rows) names.push_back(t);
            empty_tables(dst, names);
            if (!o.quiet && check.fresh_destination)
                log << "  replaced the rows a first server start wrote: " << check.first_start_rows << "\n";
            else if (!o.quiet)
                log << "  emptied " << names.size() << " destination tables (--truncate)\n";
        }
        if (o.defer_indexes) {
            std::vector<std::string> large;
            for (const auto& t : run.plan.tables)
                if (!t.bootstrap && t.estimated_rows >= o.defer_indexes_min_rows) large.push_back(t.dest->name);
            for (auto& i : deferrable_indexes(dst, model, large)) run.deferred.push_back(std::move(i));
        }
        checkpoint.create({{"started", utc_timestamp("%Y-%m-%d %H:%M:%S UTC")}, {"source", check.source.label},
                           {"bounds", plan_bounds(run.plan)}, {"indexes", indexes_to_json(run.deferred)}});
        drop_indexes(dst, run.deferred);
        forget_sync_state(dst);  // the destination holds what this copy makes of it, once it completes
        stop_following(src, dst, log);  // an earlier copy's slot would keep the source's WAL for nothing
    }
    run.done_before = checkpoint.done();
    return run;
}

// The rows a freshly started server wrote are replaced by the source's, all at once.
void replace_bootstrap_rows(const CopyRun& run, ReadSnapshot& snapshot, Database& d, const CopyOptions& o, Progress& progress,
                            std::vector<TableCopy>& copies) {
    Transaction tx(d);
    for (size_t i = 0; i < run.plan.tables.size(); ++i) {
        const PlannedTable& t = run.plan.tables[i];
        if (!t.bootstrap || run.done_before.count({lower(t.source->name), 0})) continue;
        auto start = Clock::now();
        d.exec("DELETE FROM " + d.quote_ident(t.dest->name));
        ChunkOutcome c = load_chunk(snapshot.worker(0), d, t, 0, o.policy, progress, i, o.stage);
        copies[i].seconds += since(start);
        copies[i].careful = copies[i].careful || c.careful;
    }
    tx.commit();
}

// After a refused value: empties what the run loaded, restores the indexes set aside and drops the
// checkpoint, and says what became of the destination — which step failed, if one did, and what the
// admin does about it.
std::string undo_refused_copy(Database& dst, const CopyRun& run, Checkpoint& checkpoint, std::ostream& log) {
    std::vector<std::string> content;
    for (const auto& t : run.plan.tables)
        if (!t.bootstrap) content.push_back(t.dest->name);
    UndoStep step = UndoStep::empty_tables;
    try {
        empty_tables(dst, content);
        step = UndoStep::restore_indexes;
        rebuild_indexes(dst.data_source(), run.deferred, 1, log, true);
        step = UndoStep::drop_checkpoint;
        checkpoint.drop();
    } catch (const std::exception& e) {
        return undo_outcome(step, e.what());
    }
    return undo_outcome(UndoStep::none, "");
}

// The source's clock just before the snapshot, kept in the checkpoint: a resumed copy measures what
// moved on since the first run's snapshot, whose rows its earlier chunks hold. Read back as data: a
// whole number of milliseconds no later than the source's clock now, else unknown.
void note_snapshot_moment(Database& src, CopyRun& run, Checkpoint& checkpoint) {
    run.source_ms = source_clock_ms(src);
    if (run.resuming && !run.done_before.empty()) {
        nlohmann::json state = checkpoint.state();
        nlohmann::json kept = state.is_object() && state.contains("source_clock_ms") ? state["source_clock_ms"] : nlohmann::json();
        if (kept.is_number_integer() && kept.get<int64_t>() > 0 && kept.get<int64_t>() <= run.source_ms)
            run.source_ms = kept.get<int64_t>();
        else
            run.source_ms_unknown = true;
        return;
    }
    checkpoint.set("source_clock_ms", run.source_ms);
}

// After the load: how far the source moved on since the snapshot. The copy is complete whatever this
// finds, so a failure to measure is reported, not fatal.
void measure_moved_on(const CopyRun& run, CopyResult& result) {
    std::vector<std::string> tables;
    for (const auto& t : run.plan.tables) tables.push_back(t.source->name);
    try {
        result.source_moved = measure_source_moved(run.snapshot->worker(0), result.check.source.catalog, tables, run.source_ms,
                                                   run.resuming && !run.done_before.empty(), run.source_ms_unknown);
    } catch (const std::exception& e) {
        result.source_moved_error = e.what();
    }
}

// A copy that failed after creating its slot drops it: a resumed copy does not follow, and the slot
// would keep the source's WAL for nothing.
void drop_unused_slot(Database& src, CopyRun& run, std::ostream& log) {
    if (!run.follow || run.follow->binlog) return run.follow.reset();  // a binlog reader left nothing on the source
    try {
        auto conn = Database::connect(src.data_source(), Side::source);
        drop_follow_slot(*conn, run.follow->slot);
        log << "  dropped the replication slot " << run.follow->slot << " this copy created on the source\n";
    } catch (const std::exception&) {
        log << "  the replication slot " << run.follow->slot << " remains on the source: " << how_to_drop(run.follow->slot) << "\n";
    }
    run.follow.reset();
}

// Where the stream starts for the next sync: the snapshot's transaction ids, or (MariaDB) its binlog
// position, read on the snapshot's own connection right after it started.
void note_follow_point(CopyRun& run, Database& snapshot, std::ostream& log) {
    if (!run.follow->binlog) {
        run.follow_snapshot = current_xid_snapshot(snapshot);
        return;
    }
    run.follow_binlog = binlog_snapshot_position(snapshot);
    if (run.follow_binlog) return;
    log << "  not following the source's changes: the source gave no binlog position for the snapshot; syncs will scan\n";
    run.follow.reset();
}

// Phase 2: every chunk, then the bootstrap tables. A value the policy refuses puts the destination
// back as it was found; anything else keeps the committed chunks for --resume.
void load_rows(Database& src, Database& dst, const CopyOptions& o, CopyRun& run, CopyResult& result, std::vector<TableCopy>& copies,
               Checkpoint& checkpoint, std::ostream& log) {
    try {
        unsigned jobs = worker_count(o.jobs);
        note_snapshot_moment(src, run, checkpoint);
        // The slot before the snapshot: every transaction the snapshot does not see is then in the stream.
        if (o.follow && run.resuming && !run.done_before.empty())
            log << "  not following the source's changes: a resumed copy read its first chunks before any slot existed; "
                   "syncs will scan (copy --truncate --follow to follow)\n";
        else if (o.follow)
            run.follow = start_following(src, log);
        run.snapshot = std::make_unique<ReadSnapshot>(src, result.check.source.catalog, jobs, log);
        ReadSnapshot& snapshot = *run.snapshot;
        if (run.follow) note_follow_point(run, snapshot.worker(0), log);
        result.jobs = static_cast<unsigned>(snapshot.size());
        std::vector<std::unique_ptr<Database>> loaders;
        for (unsigned i = 0; i < result.jobs; ++i) loaders.push_back(open_loader(dst.data_source()));

        Progress progress(log, o.progress);
        for (size_t i = 0; i < run.plan.tables.size(); ++i) {
            progress.add_table(run.plan.tables[i].dest->name, run.plan.tables[i].estimated_rows);
            for (const auto& [key, done] : run.done_before)
                if (key.first == lower(run.plan.tables[i].source->name)) progress.add_rows(i, done.rows + done.skipped);
        }
        progress.start();
        ChunkRun chunks = run_chunks(run.plan, run.done_before, snapshot, loaders, o.policy, progress, o.stage);
        for (size_t i = 0; i < copies.size(); ++i) {
            copies[i].seconds += chunks.seconds[i];
            copies[i].raw = chunks.raw[i];
            copies[i].careful = chunks.careful[i];
        }
        replace_bootstrap_rows(run, snapshot, *loaders[0], o, progress, copies);
        progress.stop();
    } catch (const Error& e) {
        drop_unused_slot(src, run, log);
        if (e.code() != ExitCode::data)
            throw Error(e.code(), std::string(e.what()) + "\nThe chunks copied so far are kept: run the same command with --resume "
                                                          "to finish the copy (or with --truncate to start again). The source was only read.");
        // The admin has to fix the source first (or choose a policy): put the destination back the way it was found.
        throw Error(e.code(), std::string(e.what()) + "\n" + undo_refused_copy(dst, run, checkpoint, log));
    }
}

// Phase 3, after every row is in: indexes, views. A failure here loses nothing; --resume redoes it.
void finish_destination(Database& dst, const CopyOptions& o, const CopyRun& run, CopyResult& result, std::ostream& log) {
    std::string step = "rebuilding the indexes mmmove set aside for the load";
    try {
        auto index_start = Clock::now();
        rebuild_indexes(dst.data_source(), run.deferred, result.jobs, log, o.quiet);
        result.index_seconds = since(index_start);
        refresh_materialized_views(dst, result.check.dest.catalog, log, o.quiet,
                                   [&](const std::string& v) { step = "refreshing the materialized view " + v; });
    } catch (const Error& e) {
        throw Error(e.code(), "Every row is in the destination, but " + step + " failed:\n" + e.what() +
                                  "\nNothing is lost and the source was only read. Fix what the server named (for a view: the rows "
                                  "it cannot summarise), then run the same command with --resume: it finishes the remaining steps "
                                  "(indexes, views, row counts, the report) without copying rows again.");
    }
}

void count_and_report(Database& dst, const CopyOptions& o, const CopyRun& run, Checkpoint& checkpoint, CopyResult& result,
                      std::vector<TableCopy>& copies, std::ostream& log) {
    auto done = checkpoint.done();
    for (size_t i = 0; i < run.plan.tables.size(); ++i) {
        TableCopy& tc = copies[i];
        for (size_t c = 0; c < run.plan.tables[i].chunk_count(); ++c) {
            auto it = done.find({lower(run.plan.tables[i].source->name), c});
            if (it == done.end()) continue;
            tc.rows_read += it->second.rows;
            tc.rows_skipped += it->second.skipped;
        }
        tc.rows_in_dest = count_rows(dst, tc.dest_table);
        if (!o.quiet) print_table_line(tc, run.plan.tables[i].bootstrap, log);
    }
    ReportSummary issues = summarize_issues(dst);
    if (issues.total) write_report(dst, o.report_path);
    result.issues = issues.total;
    result.issue_counts = std::move(issues.counts);
    result.report_path = issues.total ? o.report_path : "";
}

}  // namespace

std::string undo_outcome(UndoStep failed, const std::string& reason) {
    const std::string again = "Once the source is fixed (or with another --on-refused-value), run the copy again with --truncate, "
                              "or drop and recreate the destination database. The source was only read.";
    switch (failed) {
        case UndoStep::none: return "The destination was emptied again and its indexes restored; the source was only read.";
        case UndoStep::empty_tables:
            return "Emptying the destination again failed:\n" + reason +
                   "\nThe destination still holds the rows copied so far, without the indexes set aside for the load, and "
                   "mmmove's checkpoint tables (mmmove_copy_*). " + again;
        case UndoStep::restore_indexes:
            return "The destination's tables were emptied again, but restoring the indexes set aside for the load failed:\n" + reason +
                   "\nThe destination is empty but lacks some of its indexes; mmmove's checkpoint tables (mmmove_copy_*) still "
                   "name them. " + again;
        case UndoStep::drop_checkpoint:
            return "The destination was emptied again and its indexes restored, but dropping mmmove's checkpoint tables "
                   "(mmmove_copy_*) failed:\n" + reason + "\nDrop them, or run the copy again with --truncate once the source "
                   "is fixed. The source was only read.";
    }
    return reason;
}

CopyResult run_copy(Database& src, Database& dst, const CopyOptions& o, std::ostream& log) {
    auto start = Clock::now();
    CopyResult result;
    check_report_path(o.report_path);  // the report is written at the end: make sure it can be, before anything moves
    DestinationLock lock(dst);  // one writer per destination database (a job's run already holds it: taken again)
    Checkpoint checkpoint(dst);
    CopyRun run = prepare(src, dst, o, result, checkpoint, log);

    std::vector<TableCopy> copies(run.plan.tables.size());
    for (size_t i = 0; i < run.plan.tables.size(); ++i) {
        copies[i].source_table = run.plan.tables[i].source->name;
        copies[i].dest_table = run.plan.tables[i].dest->name;
        copies[i].chunks = run.plan.tables[i].chunk_count();
    }
    load_rows(src, dst, o, run, result, copies, checkpoint, log);
    finish_destination(dst, o, run, result, log);
    count_and_report(dst, o, run, checkpoint, result, copies, log);
    result.tables = std::move(copies);
    checkpoint.drop();
    measure_moved_on(run, result);
    // The record `mmmove sync` requires. An anonymised refresh's rows are not the source's: marked so.
    SyncState state{result.check.source.label, source_diagnostic_id(src, result.check.source.catalog), o.stage ? "refresh" : "copy",
                    utc_timestamp("%Y-%m-%d %H:%M:%S UTC"), o.stage != nullptr,
                    run.source_ms_unknown ? std::nullopt : std::optional<int64_t>(run.source_ms), {},
                    o.stage ? o.stage->fingerprint() : "",
                    // No horizon: a copy's chunks may span snapshots (a resumed copy), so the first sync
                    // compares every row stamped within the margin.
                    "",
                    // No key digests: the first sync compares both sides' keys (sync/key_ledger.h).
                    ""};
    for (const auto& [table, rows] : result.left_behind) state.left_behind.push_back(lower(table));  // a sync leaves them too
    record_sync_state(dst, state);
    if (run.follow && run.follow_snapshot) {
        record_following(dst, *run.follow, *run.follow_snapshot, log);
        result.follow_slot = run.follow->slot;
    } else if (run.follow && run.follow_binlog) {
        record_following(dst, *run.follow_binlog, log);
        result.follow_slot = run.follow->slot;
    }
    result.seconds = since(start);
    if (o.verify && o.stage) {
        if (!o.quiet) log << "  verifying every row through the same transforms, on the snapshot the copy read\n";
        result.stage_verify = verify_through_stage(run.plan, *run.snapshot, dst, *o.stage, o.policy, 5);
    } else if (o.verify) {
        ExpectedChanges expected = result.issues ? ExpectedChanges::load(o.report_path) : ExpectedChanges();
        VerifyOptions v;
        v.progress = o.progress;
        if (!o.quiet) log << "  verifying every row, on the snapshot the copy read\n";
        result.verify = verify_copy(run.plan, *run.snapshot, dst, result.check.dest.catalog, expected, v, log);
    }
    return result;
}

}  // namespace mmmove
