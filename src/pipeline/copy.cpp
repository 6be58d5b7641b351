#include "pipeline/copy.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <condition_variable>
#include <iomanip>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "catalog/schema_model.h"
#include "core/clock.h"
#include "pipeline/checkpoint.h"
#include "pipeline/index_rebuild.h"
#include "pipeline/planner.h"
#include "pipeline/snapshot.h"

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

struct ChunkJob {
    size_t table = 0, number = 0;
};

// Chunks in the order workers take them: the largest tables first, so the long ones start early. A
// chunk waits until the tables its table's foreign keys point to are complete.
class ChunkQueue {
public:
    ChunkQueue(const CopyPlan& plan, const std::map<std::pair<std::string, size_t>, uint64_t>& done) : plan_(plan) {
        std::vector<size_t> order;
        for (size_t i = 0; i < plan.tables.size(); ++i)
            if (!plan.tables[i].bootstrap) order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return plan.tables[a].estimated_rows > plan.tables[b].estimated_rows;
        });
        remaining_.assign(plan.tables.size(), 0);
        for (size_t t : order)
            for (size_t c = 0; c < plan.tables[t].chunk_count(); ++c)
                if (!done.count({lower(plan.tables[t].source->name), c})) {
                    jobs_.push_back({t, c});
                    ++remaining_[t];
                }
        taken_.assign(jobs_.size(), false);
    }
    bool next(ChunkJob& out) {
        std::unique_lock lock(m_);
        for (;;) {
            if (aborted_) return false;
            bool pending = false;
            for (size_t i = 0; i < jobs_.size(); ++i) {
                if (taken_[i]) continue;
                pending = true;
                if (!parents_done(jobs_[i].table)) continue;
                taken_[i] = true;
                out = jobs_[i];
                return true;
            }
            if (!pending) return false;
            cv_.wait(lock);
        }
    }
    void finished(const ChunkJob& j) {
        std::lock_guard lock(m_);
        --remaining_[j.table];
        cv_.notify_all();
    }
    void abort() {
        std::lock_guard lock(m_);
        aborted_ = true;
        cv_.notify_all();
    }

private:
    bool parents_done(size_t t) const {
        for (const auto& parent : plan_.tables[t].parents)
            for (size_t i = 0; i < plan_.tables.size(); ++i)
                if (lower(plan_.tables[i].source->name) == parent && remaining_[i] > 0) return false;
        return true;
    }
    const CopyPlan& plan_;
    std::vector<ChunkJob> jobs_;
    std::vector<bool> taken_;
    std::vector<size_t> remaining_;
    std::mutex m_;
    std::condition_variable cv_;
    bool aborted_ = false;
};

struct ChunkOutcome {
    uint64_t rows = 0;
    bool raw = false;
};

// Streams one chunk inside the caller's destination transaction.
ChunkOutcome copy_chunk(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                        IssueLog& issues, Progress& progress, size_t progress_index) {
    ChunkOutcome out;
    RowConverter conv(*t.source, *t.dest, src.engine(), dst.engine(), policy, issues);
    auto reader = src.read_where(t.source->name, conv.source_columns(), chunk_predicate(src, t, number));
    auto writer = dst.write_table(t.dest->name, conv.dest_columns(), conv.dest_kinds());
    uint64_t unreported = 0;
    auto tick = [&] {
        if (++unreported == 5000) progress.add_rows(progress_index, unreported), unreported = 0;
    };
    if (src.engine() == Engine::postgres && dst.engine() == Engine::postgres && conv.identity()) {
        out.raw = true;  // same engine, same types: COPY lines pass through untouched
        std::string_view line;
        while (pg_read_raw(*reader, line)) {
            pg_write_raw(*writer, line);
            ++out.rows;
            tick();
        }
        writer->finish();
    } else {
        out.rows = writer->write_all([&](FieldRow& row) {
            if (!reader->next(row)) return false;
            conv.convert(row);
            tick();
            return true;
        });
        writer->finish();
    }
    progress.add_rows(progress_index, unreported);
    return out;
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

std::unique_ptr<Database> open_loader(const DataSource& ds) {
    auto db = Database::connect(ds, Side::destination);
    if (db->engine() == Engine::mysql) {
        db->exec("SET SESSION foreign_key_checks = 0");
        db->enable_bulk_load();
    }
    return db;
}

}  // namespace

CopyResult run_copy(Database& src, Database& dst, const CopyOptions& o, std::ostream& log) {
    auto start = Clock::now();
    CopyResult result;
    // The report is written only when a value changes, mid-copy: make sure it can be, before anything moves.
    std::filesystem::path report_dir = std::filesystem::path(o.report_path).parent_path();
    if (report_dir.empty()) report_dir = ".";
    if (::access(report_dir.c_str(), W_OK) != 0)
        throw Error(ExitCode::bad_input, "mmmove cannot write its report " + o.report_path + " (the folder " + report_dir.string() +
                                             " is not writable); pass --report with a writable path.");
    Checkpoint checkpoint(dst);
    bool previous = checkpoint.exists();
    if (previous && !o.resume && !o.check.truncate) {
        auto state = checkpoint.state();
        throw Error(ExitCode::destination,
                    "A previous mmmove copy into this destination (started " + state.value("started", std::string("?")) +
                        " from " + state.value("source", std::string("?")) + ") did not finish. Run the same command with "
                        "--resume to finish it, or with --truncate to start again from nothing.");
    }
    if (!previous && o.resume)
        throw Error(ExitCode::bad_input, "There is no interrupted mmmove copy in the destination to resume; run the copy without --resume.");
    bool resuming = previous && o.resume;
    result.resumed = resuming;

    CheckOptions check_options = o.check;
    check_options.resume = resuming;
    result.check = run_check(src, dst, check_options);
    if (!o.quiet) print_check(result.check, log);
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
    }
    const CheckReport& check = result.check;

    // The plan, the indexes to defer and the checkpoint.
    CopyPlan plan = plan_copy(check, check_options, src, o.chunk_rows);
    std::vector<SecondaryIndex> deferred;
    if (resuming) {
        nlohmann::json state = checkpoint.state();
        apply_bounds(plan, state["bounds"]);
        deferred = indexes_from_json(state["indexes"]);
    } else {
        if (previous) {  // --truncate over an interrupted copy: the indexes it dropped must come back
            deferred = indexes_from_json(checkpoint.state()["indexes"]);
            checkpoint.drop();
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
            for (const auto& t : plan.tables)
                if (!t.bootstrap && t.estimated_rows >= o.defer_indexes_min_rows) large.push_back(t.dest->name);
            std::set<std::string> known;
            for (const auto& i : deferred) known.insert(i.name);
            for (auto& i : secondary_indexes(dst, large))
                if (!known.count(i.name)) deferred.push_back(std::move(i));
        }
        checkpoint.create({{"started", utc_timestamp("%Y-%m-%d %H:%M:%S UTC")}, {"source", check.source.label}, {"bounds", plan_bounds(plan)},
                           {"indexes", indexes_to_json(deferred)}});
        drop_indexes(dst, deferred);
    }
    auto done_before = checkpoint.done();

    IssueLog issues(o.report_path);
    std::vector<TableCopy> copies(plan.tables.size());
    for (size_t i = 0; i < plan.tables.size(); ++i) {
        copies[i].source_table = plan.tables[i].source->name;
        copies[i].dest_table = plan.tables[i].dest->name;
        copies[i].chunks = plan.tables[i].chunk_count();
    }
    try {
        unsigned jobs = o.jobs ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
        SourceSnapshot snapshot(src, check.source.catalog, jobs, log);
        jobs = static_cast<unsigned>(snapshot.size());
        result.jobs = jobs;
        std::vector<std::unique_ptr<Database>> loaders;
        for (unsigned i = 0; i < jobs; ++i) loaders.push_back(open_loader(dst.data_source()));

        Progress progress(log, o.progress);
        for (size_t i = 0; i < plan.tables.size(); ++i) {
            progress.add_table(plan.tables[i].dest->name, plan.tables[i].estimated_rows);
            for (const auto& [key, rows] : done_before)
                if (key.first == lower(plan.tables[i].source->name)) progress.add_rows(i, rows);
        }
        ChunkQueue queue(plan, done_before);
        std::mutex m;
        std::exception_ptr error;
        progress.start();
        std::vector<std::thread> workers;
        for (unsigned w = 0; w < jobs; ++w)
            workers.emplace_back([&, w] {
                Database& s = snapshot.worker(w);
                Database& d = *loaders[w];
                ChunkJob job;
                while (queue.next(job)) {
                    const PlannedTable& t = plan.tables[job.table];
                    try {
                        auto chunk_start = Clock::now();
                        progress.set_active(job.table, +1);
                        d.begin();
                        ChunkOutcome c = copy_chunk(s, d, t, job.number, o.policy, issues, progress, job.table);
                        Checkpoint::record(d, t.source->name, job.number, c.rows);
                        d.commit();
                        progress.set_active(job.table, -1);
                        std::lock_guard lock(m);
                        copies[job.table].seconds += since(chunk_start);
                        copies[job.table].raw = copies[job.table].raw || c.raw;
                    } catch (...) {
                        try {
                            d.rollback();
                        } catch (...) {
                        }
                        std::lock_guard lock(m);
                        if (!error) error = std::current_exception();
                        queue.abort();
                        return;
                    }
                    queue.finished(job);
                }
            });
        for (auto& t : workers) t.join();
        if (error) std::rethrow_exception(error);

        // The rows a freshly started server wrote are replaced by the source's, all at once.
        Database& d = *loaders[0];
        d.begin();
        for (size_t i = 0; i < plan.tables.size(); ++i) {
            const PlannedTable& t = plan.tables[i];
            if (!t.bootstrap || done_before.count({lower(t.source->name), 0})) continue;
            auto chunk_start = Clock::now();
            d.exec("DELETE FROM " + d.quote_ident(t.dest->name));
            ChunkOutcome c = copy_chunk(snapshot.worker(0), d, t, 0, o.policy, issues, progress, i);
            Checkpoint::record(d, t.source->name, 0, c.rows);
            copies[i].seconds += since(chunk_start);
        }
        d.commit();
        progress.stop();
    } catch (const Error& e) {
        std::vector<std::string> content;
        for (const auto& t : plan.tables)
            if (!t.bootstrap) content.push_back(t.dest->name);
        if (e.code() == ExitCode::data) {
            // The admin has to fix the source first: put the destination back the way it was found.
            try {
                empty_tables(dst, content);
                rebuild_indexes(dst.data_source(), deferred, 1, log, true);
                checkpoint.drop();
            } catch (const std::exception&) {
            }
            throw Error(e.code(), std::string(e.what()) + "\nThe destination was emptied again and its indexes restored; the source was only read.");
        }
        throw Error(e.code(), std::string(e.what()) + "\nThe chunks copied so far are kept: run the same command with --resume "
                                                      "to finish the copy (or with --truncate to start again). The source was only read.");
    }

    auto index_start = Clock::now();
    rebuild_indexes(dst.data_source(), deferred, result.jobs, log, o.quiet);
    result.index_seconds = since(index_start);
    if (dst.engine() == Engine::postgres)
        for (const auto& v : check.dest.catalog.materialized_views) {
            dst.exec("REFRESH MATERIALIZED VIEW " + dst.quote_ident(v));
            if (!o.quiet) log << "  refreshed materialized view " << v << "\n";
        }

    auto done = checkpoint.done();
    for (size_t i = 0; i < plan.tables.size(); ++i) {
        TableCopy& tc = copies[i];
        for (size_t c = 0; c < plan.tables[i].chunk_count(); ++c) {
            auto it = done.find({lower(plan.tables[i].source->name), c});
            if (it != done.end()) tc.rows_read += it->second;
        }
        tc.rows_in_dest = count_rows(dst, tc.dest_table);
        if (!o.quiet)
            log << "  " << std::left << std::setw(28) << tc.dest_table << std::right << std::setw(10) << tc.rows_read << " rows  "
                << tc.chunks << (tc.chunks == 1 ? " chunk " : " chunks") << std::fixed << std::setprecision(2) << std::setw(8)
                << tc.seconds << " s" << (tc.raw ? "  (raw COPY)" : "") << (plan.tables[i].bootstrap ? "  (replaces the destination's rows)" : "")
                << "\n";
    }
    result.tables = std::move(copies);
    checkpoint.drop();
    result.issues = issues.total();
    result.issue_counts = issues.counts();
    result.report_path = issues.total() ? issues.path() : "";
    result.seconds = since(start);
    return result;
}

void print_copy_summary(const CopyResult& r, std::ostream& out) {
    uint64_t rows = 0;
    std::vector<const TableCopy*> mismatched;
    for (const auto& t : r.tables) {
        rows += t.rows_read;
        if (t.rows_read != t.rows_in_dest) mismatched.push_back(&t);
    }
    out << "Summary: " << r.tables.size() << " tables, " << rows << " rows copied in " << std::fixed << std::setprecision(1)
        << r.seconds << " s (" << r.jobs << (r.jobs == 1 ? " worker" : " workers") << ", indexes rebuilt in " << r.index_seconds
        << " s" << (r.resumed ? ", resumed" : "") << ") from " << r.check.source.label << " to " << r.check.dest.label << ".\n";
    for (const auto* t : mismatched)
        out << "  ROW COUNT MISMATCH: " << t->source_table << ": " << t->rows_read << " read from the source, " << t->rows_in_dest
            << " in the destination.\n";
    if (mismatched.empty()) out << "  Row counts match on every table.\n";
    if (r.issues) {
        out << "  " << r.issues << " values were changed to fit the destination; every one is listed in " << r.report_path << ":\n";
        for (const auto& [what, n] : r.issue_counts) out << "    " << n << " × " << what << "\n";
    } else {
        out << "  No value needed changing.\n";
    }
}

std::string copy_summary_json(const CopyResult& r) {
    nlohmann::json j;
    j["source"] = r.check.source.label;
    j["destination"] = r.check.dest.label;
    j["seconds"] = r.seconds;
    j["index_seconds"] = r.index_seconds;
    j["workers"] = r.jobs;
    j["resumed"] = r.resumed;
    j["counts_match"] = r.counts_match();
    uint64_t rows = 0;
    for (const auto& t : r.tables) {
        rows += t.rows_read;
        j["tables"].push_back({{"table", t.dest_table}, {"rows", t.rows_read}, {"rows_in_destination", t.rows_in_dest},
                               {"chunks", t.chunks}, {"seconds", t.seconds}, {"raw", t.raw}});
    }
    j["rows"] = rows;
    j["changed_values"] = r.issues;
    j["changed_value_counts"] = r.issue_counts;
    if (!r.report_path.empty()) j["report"] = r.report_path;
    return j.dump(2);
}

}  // namespace mmmove
