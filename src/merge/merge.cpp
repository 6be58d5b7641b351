#include "merge/merge.h"

#include <chrono>
#include <optional>
#include <thread>

#include "catalog/catalog.h"
#include "core/json_text.h"
#include "core/workers.h"
#include "core/clock.h"
#include "core/printable.h"
#include "db/destination_lock.h"
#include "db/transaction.h"
#include "merge/members.h"
#include "merge/merge_stage.h"
#include "merge/same_instance.h"
#include "pipeline/checkpoint.h"
#include "pipeline/chunk_runner.h"
#include "pipeline/planner.h"
#include "pipeline/snapshot.h"
#include "pipeline/sync_state.h"

namespace mmmove {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kMerges = "mmmove_merges";  // one row per finished merge: the same source is not merged twice

// A finished merge is recorded under the source's identity; a scoped one under the identity and its
// scope's key, so another team of the same source may follow, but neither the same team twice nor
// a full merge after a part of it (nor a part after the whole).
std::string merge_record(const std::string& identity, const MergeScope& scope) {
    return scope.active() ? identity + ":" + scope.key() : identity;
}

void refuse_second_merge(Database& dst, const std::string& identity, const MergeScope& scope) {
    if (identity.empty() || !table_exists(dst, kMerges)) return;
    std::string where = "source_id = " + dst.quote_literal(identity);
    if (scope.active()) where += " OR source_id = " + dst.quote_literal(merge_record(identity, scope));
    else where += " OR source_id LIKE " + dst.quote_literal(identity + ":%");
    auto r = dst.query(std::string("SELECT finished FROM ") + kMerges + " WHERE " + where);
    if (!r.empty())
        throw Error(ExitCode::destination, "This source (Mattermost instance " + identity + ")" + (scope.active() ? ", or this part of it," : " or a part of it") +
                                               " was already merged into the destination, on " + r[0][0].value_or("?") +
                                               ". Merging it again would duplicate its posts; nothing was written.");
}

void record_merge(Database& dst, const std::string& identity, const MergeScope& scope, const std::string& label) {
    if (identity.empty()) return;
    if (!table_exists(dst, kMerges))
        dst.exec(std::string("CREATE TABLE ") + kMerges + " (source_id varchar(64) NOT NULL PRIMARY KEY, source varchar(512) NOT NULL, "
                 "finished varchar(64) NOT NULL)");
    const std::string what = scope.active() ? (label + " (" + scope.label() + ")").substr(0, 512) : label;
    dst.exec(std::string("INSERT INTO ") + kMerges + " (source_id, source, finished) VALUES (" + dst.quote_literal(merge_record(identity, scope)) + ", " +
             dst.quote_literal(what) + ", " + dst.quote_literal(utc_timestamp("%Y-%m-%d %H:%M:%S UTC")) + ")");
}

// The chunks a merge loads: every table the plan merges, none replaced at the end.
CopyPlan merge_chunks(const MergeResult& r, const MergeOptions& o, Database& src, const CheckOptions& check, const MergeScope& scope) {
    CopyPlan plan = plan_copy(r.check, check, src, o.chunk_rows);
    std::erase_if(plan.tables, [&](const PlannedTable& t) {
        for (const auto& tp : r.plan.tables)
            if (lower(tp.table) == lower(t.source->name)) return !tp.merged;
        return true;
    });
    for (auto& t : plan.tables) t.bootstrap = false, t.scope = scope.where(t.source->name);
    return plan;
}

void create_hold(Database& dst, const Catalog& cat) {
    const Table* cm = cat.find("channelmembers");
    dst.exec(std::string("DROP TABLE IF EXISTS ") + MergeStage::kHeldMembers);
    if (dst.engine() == Engine::postgres)
        dst.exec(std::string("CREATE TABLE ") + MergeStage::kHeldMembers + " (LIKE " + dst.quote_ident(cm->name) + " INCLUDING ALL)");
    else
        dst.exec(std::string("CREATE TABLE ") + MergeStage::kHeldMembers + " LIKE " + dst.quote_ident(cm->name));
}

// For verify, the destination's own rows under the keys the merge leaves to it (or combines with), as
// they were: a table shaped like each table the merge writes with skip_existing or hold, indexed by its
// key. No unique key: two source rows may map onto one key. DDL, so before any chunk moves.
void create_kept(Database& dst, const CopyPlan& chunks, const MergeStage& stage) {
    for (const auto& t : chunks.tables) {
        const std::string kept = stage.write_plan(t).kept_table;
        if (kept.empty() || t.dest->primary_key.empty()) continue;
        dst.exec("DROP TABLE IF EXISTS " + dst.quote_ident(kept));
        dst.exec("CREATE TABLE " + dst.quote_ident(kept) + " AS SELECT * FROM " + dst.quote_ident(t.dest->name) + " WHERE 1 = 0");
        dst.exec("CREATE INDEX " + dst.quote_ident(kept + "_key") + " ON " + dst.quote_ident(kept) + " (" + dst.column_list(t.dest->primary_key) + ")");
    }
}

void drop_merge_state(Database& dst, Checkpoint& checkpoint, const CopyPlan& chunks, const MergeStage& stage) {
    for (const auto& t : chunks.tables)
        if (const std::string kept = stage.write_plan(t).kept_table; !kept.empty()) dst.exec("DROP TABLE IF EXISTS " + dst.quote_ident(kept));
    dst.exec(std::string("DROP TABLE IF EXISTS ") + MergeStage::kHeldMembers);
    dst.exec(std::string("DROP TABLE IF EXISTS ") + kMergedChannels);
    dst.exec(std::string("DROP TABLE IF EXISTS ") + kKeptChannels);
    dst.exec(std::string("DROP TABLE IF EXISTS ") + kKeptSeenMembers);
    IdMap::drop(dst);
    checkpoint.drop();
}

// What the phases share.
struct MergeRun {
    std::unique_ptr<ReadSnapshot> snapshot;  // the source as the merge reads it
    nlohmann::json saved = nlohmann::json::object();  // an interrupted merge's checkpoint state (resume)
    MergeScope scope;
};

// Phase 1: the check and the plan (or the saved plan of an interrupted merge). False for --plan.
bool prepare(Database& src, Database& dst, const MergeOptions& o, MergeResult& r, Checkpoint& checkpoint, MergeRun& run,
             std::ostream& log) {
    bool previous = checkpoint.exists();
    if (previous) run.saved = checkpoint.state();
    // An unfinished merge has its plan saved and part of its rows written: a new plan would not be
    // what happens (its renames and new ids are fixed), and neither would a second merge.
    if (previous && o.plan_only) {
        const bool merge = run.saved.value("kind", std::string()) == "merge";
        throw Error(ExitCode::destination, "A previous mmmove " + std::string(merge ? "merge" : "copy") + " into this destination (started " +
                                               run.saved.value("started", std::string("?")) + ") did not finish, so there is nothing new to plan: " +
                                               (merge ? "resume it with mmmove merge --resume, which follows the plan it saved."
                                                      : "finish it with mmmove copy --resume.") +
                                               " Nothing was written.");
    }
    if (previous && !o.resume)
        throw Error(ExitCode::destination, "A previous mmmove run into this destination (started " +
                                               run.saved.value("started", std::string("?")) +
                                               ") did not finish. Run the same merge with --resume to finish it.");
    if (!previous && o.resume) throw Error(ExitCode::bad_input, "There is no interrupted mmmove merge in the destination to resume; run the merge without --resume.");
    if (previous && o.resume && run.saved.value("kind", std::string()) != "merge")
        throw Error(ExitCode::destination, "The interrupted run in the destination is a copy, not a merge: finish it with mmmove copy --resume.");
    r.resumed = previous && o.resume;
    CheckOptions co = o.check;
    co.merge = true;
    co.resume = r.resumed;
    co.writes = !o.plan_only;
    r.check = run_check(src, dst, co);
    if (!r.check.blocked()) run.scope = MergeScope::resolve(src, r.check.source.catalog, o.scope);
    if (r.resumed && run.saved.value("scope", ScopeRequest().state()) != o.scope.state())
        throw Error(ExitCode::bad_input, "The interrupted merge moved " + (run.saved.contains("scope") ? json_text(run.saved["scope"]) : std::string("all of the source")) +
                                             ": resume it with the same --team, --channel and --no-direct-messages options.");
    if (!r.resumed && !r.check.blocked()) refuse_second_merge(dst, diagnostic_id(src, r.check.source.catalog), run.scope);
    if (!r.check.blocked()) check_distinct_instances(src, dst, r.check, r.resumed);
    if (!o.quiet || r.check.blocked()) print_check(r.check, log, "merge");
    if (r.check.blocked()) throw Error(r.check.exit_code(), "The merge did not start: see the blocking problems above.");
    unsigned jobs = worker_count(o.jobs);
    run.snapshot = std::make_unique<ReadSnapshot>(src, r.check.source.catalog, o.plan_only ? 1 : jobs, log);
    if (r.resumed) {
        r.plan.ids = IdMap::load(dst, merge_id_forms(r.check));
        r.plan.scope = run.scope.label();
        try {
            r.plan.restore(run.saved["plan"]);
        } catch (const nlohmann::json::exception&) {
            throw Error(ExitCode::destination, std::string("The saved plan of the interrupted merge (table ") + Checkpoint::kStateTable +
                                                   " on the destination) is damaged or was not written by mmmove. Restore the destination "
                                                   "from its backup and merge again.");
        }
        return true;
    }
    r.plan = plan_merge(run.snapshot->worker(0), dst, r.check, o.rules, run.scope);
    if (!o.quiet || o.plan_only || r.plan.blocked()) print_merge_plan(r.plan, log, o.examples);
    if (o.plan_only) return false;
    if (r.plan.blocked()) throw Error(ExitCode::conflict, "The merge did not start: the plan above has conflicts without a policy. Nothing was written.");
    return true;
}

void save_plan(Database& dst, const MergeResult& r, const CopyPlan& chunks, const MergeStage& stage, Checkpoint& checkpoint,
               const ScopeRequest& scope) {
    IdMap::drop(dst);
    r.plan.ids.save(dst);
    create_hold(dst, r.check.dest.catalog);
    create_kept(dst, chunks, stage);
    save_channel_totals(dst, r.check.dest.catalog, r.plan);  // DDL here: MySQL commits at every CREATE, so none may happen while settling
    checkpoint.create({{"kind", "merge"}, {"started", utc_timestamp("%Y-%m-%d %H:%M:%S UTC")}, {"source", r.check.source.label},
                       {"bounds", plan_bounds(chunks)}, {"plan", r.plan.state()}, {"settled", false}, {"scope", scope.state()}});
    forget_sync_state(dst);  // the destination now holds another instance's rows too: a sync would delete them
}

// The files phase: the source's data directory into the destination's, through the ID map.
// A scoped merge copies only the folders of the rows it moved (`folders`; null: every folder).
SyncResult merge_files(const MergeOptions& o, const MergePlan& plan, const ScopeFolders* folders, std::ostream& log) {
    SyncOptions so;
    so.from = o.files_from;
    so.to = o.files_to;
    so.quiet = o.quiet;
    so.jobs = o.jobs;
    so.keep_existing = true;
    so.checksum = o.files_checksum;
    so.folder_name = [&plan, folders, by_id = id_folders()](const std::string& rel) -> std::optional<std::string> {
        if (folders && !folders->moves(rel)) return std::string();  // left behind with its rows
        size_t slash = rel.find('/');
        if (slash == std::string::npos || rel.find('/', slash + 1) != std::string::npos) return std::nullopt;
        const auto table = by_id.find(rel.substr(0, slash));
        if (table == by_id.end()) return std::nullopt;  // not a folder named by a row's id
        const std::string id = rel.substr(slash + 1);
        if (plan.ids.matched(table->second, id)) return std::string();  // the destination's own image stays
        if (const std::string* renumbered = plan.ids.find(table->second, id)) return *renumbered;
        return std::nullopt;
    };
    SyncResult r = sync_files(so, real_file_system(), log);
    if (!r.failed.empty())
        throw Error(ExitCode::destination, "Every row is merged, but " + std::to_string(r.failed.size()) + " files could not be copied; the first: " +
                                               r.failed.front() + ". Fix it, then run the same merge with --resume: it copies the files again "
                                               "(never replacing a destination file) and finishes.");
    return r;
}

// The rows the progress line expects of a table: the plan's count of the source rows that move (a
// scoped merge reads only those; none is a count too), else (a resumed merge's saved plan has no
// counts) the estimate.
uint64_t expected_rows(const MergePlan& plan, const PlannedTable& t, bool counted) {
    for (const auto& tp : plan.tables)
        if (lower(tp.table) == lower(t.source->name) && (counted || tp.source_rows > 0)) return tp.source_rows;
    return t.estimated_rows;
}

}  // namespace

MergeResult run_merge(Database& src, Database& dst, const MergeOptions& o, std::ostream& log) {
    auto start = Clock::now();
    MergeResult r;
    std::optional<DestinationLock> lock;  // one writer per destination database; --plan writes nothing
    if (!o.plan_only) lock.emplace(dst);
    Checkpoint checkpoint(dst);
    MergeRun run;
    if (!prepare(src, dst, o, r, checkpoint, run, log)) return r;
    ReadSnapshot& snapshot = *run.snapshot;

    CheckOptions co = o.check;
    co.merge = true;
    CopyPlan chunks = merge_chunks(r, o, src, co, run.scope);
    MergeStage stage(r.plan);
    if (r.resumed) apply_bounds(chunks, run.saved["bounds"]);
    else save_plan(dst, r, chunks, stage, checkpoint, o.scope);

    std::vector<std::unique_ptr<Database>> loaders;
    for (size_t i = 0; i < snapshot.size(); ++i) loaders.push_back(open_loader(dst.data_source()));
    Progress progress(log, o.progress);
    for (const auto& t : chunks.tables) progress.add_table(t.dest->name, expected_rows(r.plan, t, !r.resumed));
    progress.start();
    size_t retried = 0;
    try {
        retried = run_chunks(chunks, checkpoint.done(), snapshot, loaders, o.policy, progress, &stage).retried;
    } catch (const Error& e) {
        progress.stop();
        throw Error(e.code(), std::string(e.what()) + "\nThe chunks merged so far are kept with the merge's ID map: run the same merge "
                                                      "with --resume to finish it. The source was only read.");
    }
    progress.stop();
    if (retried > 0 && !o.quiet)  // the rows are right; the admin may want fewer --jobs on a busy server
        log << "  " << retried << " chunk load(s) lost a lock conflict on the destination (deadlock or lock wait timeout), "
            << "were rolled back whole and loaded again\n";

    if (!run.saved.value("settled", false)) {
        Transaction tx(dst);
        std::string kept;  // the memberships' (created with the plan when the merge writes them)
        for (const auto& t : chunks.tables)
            if (stage.write_plan(t).kind == WritePlan::Kind::hold) kept = stage.write_plan(t).kept_table;
        settle_memberships(dst, r.check.dest.catalog, kept);
        checkpoint.set("settled", true);
        tx.commit();
    }
    if (!o.files_from.empty()) {
        std::optional<ScopeFolders> folders;
        if (run.scope.active()) folders = run.scope.folders(snapshot.worker(0), r.check.source.catalog);
        r.files = merge_files(o, r.plan, folders ? &*folders : nullptr, log);
    }
    if (o.verify) {
        if (!o.quiet) log << "  verifying every table the merge wrote, through the ID map, on the snapshot the merge read\n";
        r.verify = verify_through_stage(chunks, snapshot, dst, stage, o.policy, 5);
        r.verify->tables.push_back(verify_merged_channels(dst, r.check.dest.catalog, r.plan, 5));
        r.verify->tables.push_back(verify_seen_members(dst, r.check.dest.catalog, r.plan, 5));
    }
    const DoneChunks done_chunks = checkpoint.done();
    for (const auto& t : chunks.tables) {
        MergedTable m{t.dest->name, 0, 0, 0, stage.write_plan(t).kind == WritePlan::Kind::hold};
        for (const auto& [key, done] : done_chunks)
            if (key.first == lower(t.source->name)) m.inserted += done.rows, m.matched += done.matched, m.skipped += done.skipped;
        r.tables.push_back(m);
    }
    record_merge(dst, diagnostic_id(snapshot.worker(0), r.check.source.catalog), run.scope, r.check.source.label);
    drop_merge_state(dst, checkpoint, chunks, stage);
    r.applied = true;
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return r;
}

static void print_merge_summary_unescaped(const MergeResult& r, std::ostream& out) {
    if (!r.applied) return;
    out << "Merged" << (r.resumed ? " (resumed)" : "") << " in " << static_cast<int>(r.seconds + 0.5) << " s:\n";
    for (const auto& t : r.tables) {
        if (!t.inserted && !t.matched && !t.skipped) continue;
        if (t.combined) {
            out << "  " << t.table << ": " << t.inserted << " memberships combined with the destination's or added\n";
            continue;
        }
        out << "  " << t.table << ": " << t.inserted << " rows added";
        if (t.matched) out << ", " << t.matched << " already there (mapped onto the destination's rows)";
        if (t.skipped) out << ", " << t.skipped << " left out (see the report)";
        out << "\n";
    }
    if (r.verify) print_stage_verify(*r.verify, out, "merged");
    if (r.files)
        out << "  files: " << r.files->copied << " copied, " << r.files->unchanged << " already there, " << r.files->kept
            << " kept (the destination's differs and is never replaced), " << r.files->refused.size() << " refused\n";
}

void print_merge_summary(const MergeResult& r, std::ostream& out) {
    print_printable(out, [&](std::ostream& text) { print_merge_summary_unescaped(r, text); });
}

std::string merge_summary_json(const MergeResult& r) {
    nlohmann::json j = merge_plan_json(r.plan);
    j["applied"] = r.applied;
    j["resumed"] = r.resumed;
    j["seconds"] = r.seconds;
    if (r.verify) {
        j["verify"] = {{"equal", r.verify->equal()}, {"tables", nlohmann::json::array()}};
        for (const auto& t : r.verify->tables)
            j["verify"]["tables"].push_back({{"table", t.table}, {"compared", t.compared}, {"missing", t.missing}, {"differ", t.differ},
                                             {"kept", t.kept}, {"not_compared", t.not_compared}, {"examples", t.examples}});
    }
    if (r.files)
        j["files"] = {{"copied", r.files->copied}, {"unchanged", r.files->unchanged}, {"kept", r.files->kept},
                      {"refused", r.files->refused.size()}};
    j["merged"] = nlohmann::json::array();
    for (const auto& t : r.tables)
        j["merged"].push_back({{"table", t.table}, {"inserted", t.inserted}, {"matched", t.matched}, {"skipped", t.skipped}, {"combined", t.combined}});
    return json_text(j, 2);
}

}  // namespace mmmove
