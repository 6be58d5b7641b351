#include "sync/sync.h"

#include "core/workers.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/kill_point.h"
#include "core/printable.h"
#include "db/destination_lock.h"
#include "db/transaction.h"
#include "pipeline/checkpoint.h"
#include "pipeline/chunk_runner.h"
#include "pipeline/index_rebuild.h"
#include "pipeline/planner.h"
#include "pipeline/snapshot.h"
#include "pipeline/source_moved.h"
#include "pipeline/sync_state.h"
#include "sync/chunk_apply.h"
#include "sync/early_views.h"
#include "sync/final_pass.h"
#include "sync/follow.h"
#include "sync/stillness_stream.h"
#include "sync/masked_key_finder.h"
#include "sync/seen_rows.h"

namespace mmmove {
namespace {

using namespace sync_detail;
using verify_detail::TableComparer;
using Clock = std::chrono::steady_clock;
CheckOptions check_options_given(const std::optional<SyncState>& recorded, const CheckOptions& base, bool recorded_left_behind);
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct TableRun {
    TableRun(const PlannedTable& t, Engine from, Engine to, std::optional<int64_t> since_ms, const SeenRows* seen, const KeyLedger* ledger,
             const CatchUpOptions& o)
        : comparer(t, from, to, nullptr, o.stage, o.policy),
          finder(masked_key_finder_for(comparer, o.stage, from, to, o.policy, fast_path(since_ms, o.stage))) {
        if (!finder) finder = change_finder_for(comparer, fast_path(since_ms, o.stage), seen, ledger);
    }
    // The change-column path finds inserts and deletes by the source's keys: only where the stage
    // writes every row (a table it drops rows of is compared whole, through the stage).
    std::optional<int64_t> fast_path(std::optional<int64_t> since_ms, const LoadStage* stage) const {
        return comparer.staged() && !stage->keeps_rows(comparer.table()) ? std::nullopt : since_ms;
    }
    TableComparer comparer;
    std::unique_ptr<ChangeFinder> finder;
    // The table's jobs: its chunks, or the parts its finder cuts it into.
    size_t parts() const { return finder->parts() ? finder->parts() : comparer.table().chunk_count(); }
    // Whether its whole-table check runs first: a table of several parts, or a finder that cuts its own
    // parts (it tells cheaply that it has nothing to compare).
    bool whole_first() const { return parts() > 1 || finder->parts(); }
    size_t level = 0;  // after the tables its foreign keys point to: a child row is written after its parent
    size_t left = 1;   // its jobs not yet done (under m): one to begin with, its whole-table check or its one chunk
    std::mutex m;
    TableCatchUp result;
};

// What the destination's record says, checked against this source: the destination must be one mmmove
// filled from this Mattermost instance, with the source's own rows. Returns the record.
// `state`: the record, read once at the start of the pass. Sets `id` to the source's DiagnosticId.
SyncState require_record(Database& src, Database& dst, const std::optional<SyncState>& state, const CheckReport& check,
                         const LoadStage* stage, std::string& id) {
    if (Checkpoint(dst).exists())
        throw Error(ExitCode::destination, "A mmmove copy or merge into the destination (" + check.dest.label + ") did not finish. "
                                           "Finish it first (the same command with --resume), then sync.");
    if (!state)
        throw Error(ExitCode::destination, "The destination (" + check.dest.label + ") holds no record that mmmove filled it (table " +
                                               kSyncStateTable + "), so mmmove cannot tell which rows are the source's to bring up to "
                                               "date and which a sync would delete. Fill it with mmmove copy first (copy --truncate "
                                               "replaces what it holds), then sync.");
    if (stage && (!state->transformed || state->fingerprint.empty() || state->fingerprint != stage->fingerprint()))
        throw Error(ExitCode::destination, "The destination (" + check.dest.label + ") does not hold a refresh written under this "
                                               "job's anonymisation key and rules (its record: " + state->command + " from " +
                                               state->source + ", " + state->finished + "): an incremental refresh would keep rows "
                                               "masked otherwise. Run a full refresh (the job without copy.incremental) first.");
    if (state->transformed && !stage)
        throw Error(ExitCode::destination, "The destination (" + check.dest.label + ") holds an anonymised refresh of " + state->source +
                                               " (" + state->finished + "): a sync would write the source's rows unmasked into it. "
                                               "Refresh it with its mmmove run job instead.");
    id = source_diagnostic_id(src, check.source.catalog);
    if (!state->diagnostic_id.empty() && !id.empty() && id != state->diagnostic_id)
        throw Error(ExitCode::destination, "The destination (" + check.dest.label + ") was filled from another Mattermost instance (" +
                                               state->source + ", DiagnosticId " + state->diagnostic_id + ") than this source (" +
                                               check.source.label + ", DiagnosticId " + id + "): a sync would delete that instance's "
                                               "rows. Sync from the source it was copied from, or fill it again with mmmove copy --truncate.");
    return *state;
}

// The source tables this sync leaves behind (lower case), for the record: the next sync leaves them too.
std::vector<std::string> left_behind(const CheckReport& check, const CheckOptions& co) {
    std::vector<std::string> tables;
    for (const auto& t : check.source.catalog.tables)
        if (co.skip_tables.count(lower(t.name)) ||
            std::find(check.source_only_tables.begin(), check.source_only_tables.end(), t.name) != check.source_only_tables.end())
            tables.push_back(lower(t.name));
    return tables;
}

// The moment the fast path reads changes since, or nullopt for digests everywhere: --full, no moment
// recorded, or a recorded moment later than the source's clock now (not a moment mmmove noted on this
// source, or its clock went back: rows stamped in between could be missed, so no guess).
std::optional<int64_t> fast_path_since(const SyncState& previous, int64_t now_ms, const CatchUpOptions& o) {
    if (o.full || !previous.snapshot_ms || *previous.snapshot_ms > now_ms) return std::nullopt;
    return previous.snapshot_ms;
}

// What the workers share besides the tables.
struct SyncShared {
    const CatchUpOptions& o;
    Progress& compared;
    Progress& writes;
    std::mutex m;
    ExpectedChanges changed;  // the values this sync changed on the way: --verify expects them changed
    EarlyViews* early = nullptr;  // an incremental refresh's views, refreshed once their tables are done
};

void set_levels(std::vector<std::unique_ptr<TableRun>>& tables) {
    for (size_t pass = 0; pass < tables.size(); ++pass)
        for (auto& t : tables)
            for (const auto& parent : t->comparer.table().parents)
                for (auto& p : tables)
                    if (lower(p->comparer.table().source->name) == parent && p.get() != t.get()) t->level = std::max(t->level, p->level + 1);
}

// One chunk: find what changed and, unless only planning, put it right in one transaction. A
// transaction the destination chose as a deadlock victim is rolled back whole and run again.
// Returns the rows the source's side of the chunk holds.
uint64_t sync_chunk(TableRun& t, size_t chunk, Database& s, Database& d, SyncShared& shared, size_t index) {
    constexpr unsigned kAttempts = 6;
    const CatchUpOptions& o = shared.o;
    for (unsigned attempt = 1;; ++attempt) {
        try {
            std::optional<Transaction> tx;
            if (!o.plan_only) tx.emplace(d);
            ChunkChanges c = t.finder->find(s, d, chunk);
            ChunkApplied a;
            if (c.diff && o.plan_only)
                a = ChunkApplied{c.diff->missing.size(), c.diff->differs.size(), c.diff->extra.size(), 0, !t.comparer.literal_keys(), {}};
            else if (c.diff)
                a = apply_chunk(s, d, t.comparer, chunk, *c.diff, o.policy, shared.writes, index, o.stage);
            if (tx) tx->commit();
            if (a.inserted || a.updated || a.deleted) kill_point("sync-chunk-written");
            if (!a.report_lines.empty()) {
                std::lock_guard lock(shared.m);
                for (const auto& line : a.report_lines) shared.changed.add_line(line);
            }
            std::lock_guard lock(t.m);
            t.result.source_rows += c.source_rows;
            t.result.rows_compared += c.rows_read;
            t.result.inserted += a.inserted, t.result.updated += a.updated, t.result.deleted += a.deleted;
            t.result.chunks_changed += (a.inserted || a.updated || a.deleted) ? 1 : 0;
            t.result.converted_values += a.converted_values;
            return c.source_rows;
        } catch (const Error& e) {
            if (o.plan_only || !lost_lock_conflict(e) || attempt == kAttempts) throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25 * (1u << attempt) + 7 * (chunk % 11)));
    }
}

constexpr size_t kWholeTable = SIZE_MAX;  // a job's chunk: the table's whole-table check (ChangeFinder::unchanged)

// A table of several chunks that its finder proves unchanged as a whole needs no chunk compared. Reads only.
void check_whole(TableRun& t, size_t ti, Database& s, Database& d, SyncShared& shared, std::vector<char>& unchanged) {
    uint64_t rows = 0;
    const bool same = t.finder->unchanged(s, d, rows);
    if (same) shared.compared.add_rows(ti, rows);
    unchanged[ti] = same;
    std::lock_guard lock(t.m);
    t.result.source_rows += rows;
}

using Job = std::pair<size_t, size_t>;  // a table's index and its chunk (or kWholeTable)

// One job on worker `w`; its table is done once its last job is (EarlyViews are told).
void run_job(std::vector<std::unique_ptr<TableRun>>& tables, Job job, unsigned w, ReadSnapshot& src,
             std::vector<std::unique_ptr<Database>>& dst, SyncShared& shared, std::vector<char>& unchanged) {
    auto [ti, chunk] = job;
    auto start = Clock::now();
    shared.compared.set_active(ti, +1);
    if (chunk == kWholeTable)
        check_whole(*tables[ti], ti, src.worker(w), *dst[w], shared, unchanged);
    else
        shared.compared.add_rows(ti, sync_chunk(*tables[ti], chunk, src.worker(w), *dst[w], shared, ti));
    shared.compared.set_active(ti, -1);
    TableRun& t = *tables[ti];
    bool done = false, written = false;
    {
        std::lock_guard lock(t.m);
        t.result.seconds += since(start);
        // A whole-table check that found differences leaves the table its parts to compare.
        if (chunk == kWholeTable && !unchanged[ti]) t.left = t.parts();
        else done = --t.left == 0;
        written = t.result.changed();
    }
    if (done && shared.early) shared.early->table_done(lower(t.comparer.table().dest->name), written);
}

// The tables at one level, on every worker, largest tables first: each table's whole-table check (a
// table of several parts) or its one chunk; a table whose check did not prove it unchanged then has
// its parts queued at once, so they run beside the other tables' checks (Reactions' chunks beside
// Posts' table-wide pass), not after all of them. A failed job's transaction was rolled back by its
// guard; the pool keeps its error, every worker takes no further job, and it is rethrown.
void run_level(std::vector<std::unique_ptr<TableRun>>& tables, size_t level, ReadSnapshot& src,
               std::vector<std::unique_ptr<Database>>& dst, SyncShared& shared) {
    std::vector<char> unchanged(tables.size());  // char, not bool: each job writes its own element
    std::mutex m;
    std::condition_variable cv;
    std::vector<Job> queue;  // under m, in the order taken
    size_t running = 0;      // jobs taken and not yet finished (under m): they may queue more
    const auto larger = [&](const Job& a, const Job& b) {
        return tables[a.first]->comparer.table().estimated_rows > tables[b.first]->comparer.table().estimated_rows;
    };
    for (size_t i = 0; i < tables.size(); ++i)
        if (tables[i]->level == level) queue.emplace_back(i, tables[i]->whole_first() ? kWholeTable : 0);
    std::stable_sort(queue.begin(), queue.end(), larger);
    const auto workers = static_cast<unsigned>(std::min(src.size(), dst.size()));
    run_workers(
        workers,
        [&](unsigned w, const StopFlag& stop) {
            for (;;) {
                Job job;
                {
                    std::unique_lock lock(m);
                    cv.wait(lock, [&] { return stop.stopped() || !queue.empty() || running == 0; });
                    if (stop.stopped() || queue.empty()) return;
                    job = queue.front();
                    queue.erase(queue.begin());
                    ++running;
                }
                run_job(tables, job, w, src, dst, shared, unchanged);
                {
                    std::lock_guard lock(m);
                    --running;
                    if (job.second == kWholeTable && !unchanged[job.first]) {
                        for (size_t c = 0; c < tables[job.first]->parts(); ++c) queue.emplace_back(job.first, c);
                        std::stable_sort(queue.begin(), queue.end(), larger);
                    }
                }
                cv.notify_all();
            }
        },
        [&] {
            std::lock_guard lock(m);
            cv.notify_all();
        });
}

// One run per planned table, each known to both progress displays.
// `since_ms`: the previous snapshot's moment, for tables with change columns (nullopt: digests for all).
// `ledger`: the key digests the previous pass recorded (sync/key_ledger.h), or null.
std::vector<std::unique_ptr<TableRun>> table_runs(const CopyPlan& plan, Engine from, Engine to, std::optional<int64_t> since_ms,
                                                  const SeenRows* seen, const KeyLedger* ledger, Progress& compared, Progress& writes,
                                                  const CatchUpOptions& o) {
    std::vector<std::unique_ptr<TableRun>> tables;
    for (const auto& t : plan.tables) {
        tables.push_back(std::make_unique<TableRun>(t, from, to, since_ms, seen, ledger, o));
        TableCatchUp& r = tables.back()->result;
        r.method = is_masked_key_finder(*tables.back()->finder) ? "masked_keys" : finder_method(*tables.back()->finder);
        r.source_table = t.source->name;
        r.dest_table = t.dest->name;
        r.chunks = t.chunk_count();
        r.whole_chunks = !tables.back()->comparer.literal_keys();
        compared.add_table(t.dest->name, t.estimated_rows);
        writes.add_table(t.dest->name, 0);
    }
    set_levels(tables);
    return tables;
}

// Every level in turn: a table after those its foreign keys point to.
void run_all(std::vector<std::unique_ptr<TableRun>>& tables, ReadSnapshot& snapshot, std::vector<std::unique_ptr<Database>>& loaders,
             SyncShared& shared) {
    size_t levels = 0;
    for (const auto& t : tables) levels = std::max(levels, t->level + 1);
    shared.compared.start();
    try {
        for (size_t level = 0; level < levels; ++level) run_level(tables, level, snapshot, loaders, shared);
    } catch (const Error& e) {
        shared.compared.stop();
        if (shared.o.plan_only) throw;
        throw Error(e.code(), std::string(e.what()) + "\nEvery chunk the sync committed is equal to the source; the others are as they "
                                                      "were. Run the same sync again (--resume) to finish it. The source was only read.");
    }
    shared.compared.stop();
}

// The materialized views, refreshed on the loaders' connections at once. An incremental refresh
// refreshes only the views reading a table it wrote: every refresh, full or incremental, leaves all
// views fresh, and a view of tables that did not change is what a refresh would make of it again. A
// plain sync refreshes them all (a move's earlier passes leave them stale on purpose).
// A final pass (the downtime) refreshes every view but the statistics views, which it leaves as they
// stood (result.views_left) for refresh-views after the start: Mattermost lives with them stale.
// `early`: the views already refreshed while the sync ran (EarlyViews), not refreshed again.
void refresh_views_after(CatchUpResult& result, const Catalog& catalog, Database& dst, std::vector<std::unique_ptr<Database>>& loaders,
                         const CatchUpOptions& o, const std::set<std::string>& early, std::ostream& log) {
    std::vector<std::string> views = catalog.materialized_views;
    if (o.stage && !o.final_pass) {
        std::set<std::string> written;
        for (const auto& t : result.tables)
            if (t.changed()) written.insert(lower(t.dest_table));
        views = views_reading(dst, catalog, written);
        std::erase_if(views, [&](const std::string& v) {
            if (!early.count(lower(v))) return false;
            if (!o.quiet) log << "  refreshed materialized view " << printable(v) << "\n";
            return true;
        });
    }
    if (o.final_pass)
        std::erase_if(views, [&](const std::string& v) { return statistics_view(v) && (result.views_left.push_back(v), true); });
    std::vector<Database*> connections;
    for (auto& l : loaders) connections.push_back(l.get());
    if (connections.empty()) connections.push_back(&dst);
    refresh_views(views, connections, log, o.quiet);
}

// The change stream's hints, read right after the snapshot, replace the scanning finders of the tables
// whose keys the stream names (keys named as literals, compared as they are).
void use_stream(FollowPass& follow, Database& snapshot, std::vector<std::unique_ptr<TableRun>>& tables) {
    if (!follow.following()) return;
    std::map<std::string, std::vector<std::string>> keys;
    for (const auto& t : tables)
        if (t->comparer.literal_keys() && !t->comparer.staged() && !t->comparer.key_columns(Side::source).empty())
            keys[t->comparer.table().source->name] = t->comparer.key_columns(Side::source);
    follow.read(snapshot, keys);
    for (auto& t : tables)
        if (auto finder = follow.finder_for(t->comparer)) {
            t->finder = std::move(finder);
            t->result.method = "stream";
            t->result.chunks = t->parts();  // its shares of keys, each one destination transaction
        }
}

// An incremental refresh refreshes a view as soon as the tables it reads are done (EarlyViews): null
// otherwise (a plain sync refreshes every view at the end; a move's earlier passes none).
std::unique_ptr<EarlyViews> early_views(const std::vector<std::unique_ptr<TableRun>>& tables, const Catalog& catalog, Database& dst,
                                        const CatchUpOptions& o) {
    if (!o.stage || o.final_pass || o.plan_only || !o.refresh_views || dst.engine() != Engine::postgres || catalog.materialized_views.empty())
        return nullptr;
    std::set<std::string> names;
    for (const auto& t : tables) names.insert(lower(t->comparer.table().dest->name));
    return std::make_unique<EarlyViews>(dst.data_source(), catalog.materialized_views, view_sources(dst), std::move(names));
}

}  // namespace

CheckOptions sync_check_options(Database& dst, const CheckOptions& base, bool recorded_left_behind) {
    return check_options_given(read_sync_state(dst), base, recorded_left_behind);
}

namespace {

// sync_check_options, given the destination's record as read_sync_state read it.
CheckOptions check_options_given(const std::optional<SyncState>& recorded, const CheckOptions& base, bool recorded_left_behind) {
    CheckOptions co = base;
    co.resume = true;  // the destination's rows are ours: the record says so, or the sync stops
    // The tables the copy left behind stay behind: filling them, or deleting what the destination
    // holds in them, is not what the admin who skipped them asked for. A job says itself what stays
    // behind (recorded_left_behind false), whatever the destination's record claims.
    if (recorded && recorded_left_behind)
        for (const auto& t : recorded->left_behind) co.skip_tables.insert(t);
    co.count_dest_rows = false;  // a resumed run judges no counts; counting 1 M posts is a fixed cost of every pass
    return co;
}

}  // namespace

CatchUpResult run_sync(Database& src, Database& dst, const CatchUpOptions& o, std::ostream& log) {
    auto start = Clock::now();
    CatchUpResult result;
    result.planned = o.plan_only;
    // The source is only read: this connection's statements outside the snapshot (the check, the
    // clock, the DiagnosticId) run read-only too, as the snapshot's and the final pass's connections do.
    src.exec(src.engine() == Engine::postgres ? "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY" : "SET SESSION TRANSACTION READ ONLY");
    std::optional<DestinationLock> lock;  // one writer per destination database; --plan writes nothing
    if (!o.plan_only) lock.emplace(dst);
    const std::optional<SyncState> recorded = read_sync_state(dst);  // read once: the check's options and the pass's premise
    CheckOptions co = check_options_given(recorded, o.check, o.recorded_left_behind);
    co.writes = !o.plan_only;
    CheckReport check = o.checked ? *o.checked : run_check(src, dst, co);
    if (!o.checked && (!o.quiet || check.blocked())) print_check(check, log, "sync");
    if (check.blocked()) throw Error(check.exit_code(), "The sync did not start: see the blocking problems above.");
    // The loaders connect while the pass reads its record, plans and takes its snapshot (after the
    // check: a MySQL connection is not yet marked as mmmove's while it connects, and the check counts
    // the destination's other sessions). One per possible worker; the snapshot may read with fewer.
    unsigned jobs = worker_count(o.jobs);
    std::vector<std::unique_ptr<Database>> loaders;
    WorkerPool connecting(1, [&](unsigned, const StopFlag&) {
        loaders = connect_all(jobs, [&] { return o.plan_only ? Database::connect(dst.data_source(), Side::destination) : open_loader(dst.data_source()); });
    });
    std::string diagnostic_id;
    const SyncState previous = require_record(src, dst, recorded, check, o.stage, diagnostic_id);
    // The key digests the previous pass recorded describe the destination only until this pass writes:
    // emptied (committed) before its first write, recorded again only if it ends (sync/key_ledger.h).
    const std::optional<KeyLedger> ledger = o.stage ? std::nullopt : KeyLedger::parse(previous.key_digests);
    if (!o.plan_only && !previous.key_digests.empty()) forget_key_digests(dst);
    result.previous = previous.command + " from " + previous.source + " (" + previous.finished + ")";
    result.source_label = check.source.label;
    result.dest_label = check.dest.label;

    CopyPlan plan = plan_copy(check, co, src, o.chunk_rows);
    // A table whose key the stage masks (Reactions.EmojiName) has its differing chunks rewritten whole;
    // when it masks the column chunks are cut by (IncomingWebhooks.Id), the table is one chunk.
    if (o.stage)
        for (auto& t : plan.tables)
            if (!o.stage->keeps_column(t, t.key_column)) t.bounds.clear(), t.key_column.clear();
    // The change stream, when a copy --follow left a slot to follow (sync/follow.h): checked before the snapshot.
    auto follow = std::make_unique<FollowPass>(src, dst, !o.full && !o.stage, o.quiet, log);
    // This snapshot's moment, read just before it, as copy does (source_moved.h): the next sync reads
    // what was stamped since, and a final pass what was stamped while it ran.
    // A final pass proves the source stood still from a temporary slot made before its snapshot
    // (sync/stillness_stream.h), or by counting when the source offers none.
    std::unique_ptr<StillnessStream> stillness;
    if (o.final_pass && !o.plan_only) stillness = std::make_unique<StillnessStream>(src, log, o.quiet);
    if (o.final_pass) pause_point("final-before-snapshot");
    const std::optional<std::string> cluster = source_cluster(src);
    const int64_t snapshot_ms = source_clock_ms(src);
    ReadSnapshot snapshot(src, check.source.catalog, jobs, log);
    if (stillness) stillness->snapshot_taken(snapshot.worker(0));
    // A PostgreSQL source's snapshot horizon: recorded, and against the previous pass's tells which of
    // the rows stamped within the margin that pass already read (sync/seen_rows.h).
    const std::optional<SnapshotHorizon> horizon = snapshot_horizon(cluster, snapshot.worker(0));
    std::optional<SeenRows> seen;
    if (horizon && !previous.horizon.empty())
        if (const auto before = SnapshotHorizon::parse(previous.horizon)) seen = SeenRows::make(*before, *horizon);
    result.jobs = static_cast<unsigned>(snapshot.size());
    connecting.join();
    loaders.resize(std::min(loaders.size(), snapshot.size()));
    // A copy autovacuum has not yet analysed reads its keys back by whole-table scans (a 1 % pass at
    // 1 M posts: 27 s instead of 9 s); analysing it first costs about 3 s, once.
    if (!o.plan_only) {
        const auto analysed = analyse_never_analysed(*loaders[0]);
        if (!o.quiet && !analysed.empty()) log << "  analysed " << analysed.size() << " destination tables PostgreSQL had no statistics for\n";
    }

    Progress compared(log, o.progress), writes(log, Progress::Style::quiet);
    auto tables = table_runs(plan, src.engine(), dst.engine(), fast_path_since(previous, snapshot_ms, o), seen ? &*seen : nullptr,
                             ledger ? &*ledger : nullptr, compared, writes, o);
    use_stream(*follow, snapshot.worker(0), tables);
    SyncShared shared{o, compared, writes, {}, {}};
    std::unique_ptr<EarlyViews> early = early_views(tables, check.dest.catalog, dst, o);
    shared.early = early.get();
    run_all(tables, snapshot, loaders, shared);
    const std::set<std::string> refreshed_early = early ? early->finish() : std::set<std::string>{};
    KeyLedger digests;  // the pass ended: each table's keys on the destination are the source's as digested
    for (auto& t : tables) {
        t->result.ledger = t->finder->ledger_use();
        if (auto d = t->finder->source_key_digest(); d && !o.stage) digests.set(lower(t->comparer.table().source->name), *d);
        result.tables.push_back(t->result);
    }
    result.left_behind = left_behind(check, co);
    // The views summarise the rows (Mattermost's poststats): after a change they are stale, as a copy
    // would not leave them. A final pass refreshes them anyway (a move's earlier passes skip it), but for
    // the statistics views (refresh_views_after).
    const bool changed = std::any_of(result.tables.begin(), result.tables.end(), [](const TableCatchUp& t) { return t.changed(); });
    if (!o.plan_only && o.refresh_views && (changed || o.final_pass)) refresh_views_after(result, check.dest.catalog, dst, loaders, o, refreshed_early, log);
    if (!o.plan_only)
        record_sync_state(dst, SyncState{check.source.label, diagnostic_id, o.stage ? "refresh" : "sync",
                                         utc_timestamp("%Y-%m-%d %H:%M:%S UTC"), o.stage != nullptr, snapshot_ms, result.left_behind,
                                         o.stage ? o.stage->fingerprint() : "", horizon ? horizon->text() : "", digests.text()});
    // After the record: the slot moves only past what this pass wrote. A final pass leaves it (it is
    // about to be dropped: the move job drops it, an admin runs --stop-following).
    if (!o.plan_only) follow->finish(dst, !o.final_pass);
    result.follow_slot = follow->slot();
    result.follow_note = follow->note();
    result.follow_read = follow->read_summary();
    if (o.final_pass && !o.plan_only) {
        const auto measuring = Clock::now();
        pause_point("final-before-proof");
        measure_final_pass(snapshot, check.source.catalog, plan, snapshot_ms, result, stillness.get());
        if (!o.quiet)
            log << "  measured whether the source moved since the snapshot in " << static_cast<long long>(since(measuring) * 1000) << " ms"
                << (result.source_moved ? " (" + result.source_moved->proof + ")" : "") << "\n";
    }
    result.seconds = since(start);
    if (o.verify && !o.plan_only && o.stage) {
        if (!o.quiet) log << "  verifying every row through the same transforms, on the snapshot the sync read\n";
        result.stage_verify = verify_through_stage(plan, snapshot, dst, *o.stage, o.policy, 5);
    } else if (o.verify && !o.plan_only) {
        VerifyOptions v;
        v.progress = o.progress;
        if (!o.quiet) log << "  verifying every row, on the snapshot the sync read\n";
        result.verify = verify_copy(plan, snapshot, dst, check.dest.catalog, shared.changed, v, log);
    }
    return result;
}

}  // namespace mmmove
