#include "pipeline/chunk_runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <optional>
#include <thread>

#include "catalog/catalog.h"
#include "core/workers.h"
#include "db/transaction.h"
#include "pipeline/issue_log.h"
#include "pipeline/snapshot.h"
#include "pipeline/staging.h"
#include "transform/transform.h"

namespace mmmove {
namespace {

using Clock = std::chrono::steady_clock;

struct ChunkJob {
    size_t table = 0, number = 0;
};

// Chunks in the order workers take them: the largest tables first, so the long ones start early. A
// chunk waits until the tables its table's foreign keys point to are complete.
class ChunkQueue {
public:
    ChunkQueue(const CopyPlan& plan, const DoneChunks& done) : plan_(plan) {
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

// One chunk on its way: the table, its transforms (ending in the edge conversion) and where its rows go.
struct ChunkWay {
    const PlannedTable& t;
    size_t number;
    RowConverter& conv;
    TransformChain chain;
    WritePlan plan;
    std::string target;  // the table the writer fills: the table itself, a staging table or the hold table

    ChunkWay(Database& dst, const PlannedTable& table, size_t n, RowConverter& c, const LoadStage* stage, ChunkIssues& issues)
        : t(table), number(n), conv(c) {
        if (stage) {
            chain = stage->chain(t, RowColumns(conv.source_columns()), issues);
            plan = stage->write_plan(t);
        }
        target = plan.kind == WritePlan::Kind::insert ? t.dest->name
                 : plan.kind == WritePlan::Kind::hold ? plan.hold_table
                                                      : open_staging(dst, t.dest->name);
    }
    // Runs the row through the chain, then the edge conversion; false when the row is not written.
    bool pass(FieldRow& row) { return chain.apply(row) && conv.convert(row); }
    // After the rows are in the target: staged rows join the table, minus those already there.
    void settle(Database& dst, ChunkOutcome& out) {
        if (plan.kind != WritePlan::Kind::skip_existing) return;
        uint64_t inserted = settle_staging(dst, t.dest->name, conv.dest_columns(), t.dest->primary_key, plan.kept_table);
        out.existing += out.rows - inserted;
    }
};

// Streams one chunk: the fast path, where any refused row fails the whole load.
ChunkOutcome stream_chunk(Database& src, Database& dst, ChunkWay& way, ChunkProgress& progress) {
    ChunkOutcome out;
    RowConverter& conv = way.conv;
    auto reader = src.read_where(way.t.source->name, conv.source_columns(), chunk_predicate(src, way.t, way.number));
    auto writer = dst.write_table(way.target, conv.dest_columns(), conv.dest_kinds());
    uint64_t unreported = 0;
    auto tick = [&] {
        if (++unreported == 5000) progress.add(unreported), unreported = 0;
    };
    if (src.engine() == Engine::postgres && dst.engine() == Engine::postgres && conv.identity() && way.chain.empty()) {
        out.raw = true;  // same engine, same types, nothing to transform: COPY lines pass through untouched
        std::string_view line;
        while (pg_read_raw(*reader, line)) {
            pg_write_raw(*writer, line);
            ++out.rows;
            tick();
        }
    } else {
        out.rows = writer->write_all([&](FieldRow& row) {
            while (reader->next(row)) {
                tick();
                if (way.pass(row)) return true;
            }
            return false;
        });
    }
    writer->finish();
    way.settle(dst, out);
    progress.add(unreported);
    out.skipped = conv.skipped();
    out.dropped = way.chain.dropped();
    return out;
}

// Rows that outlive the reader's buffers and the converter's scratch space.
class OwnedRows {
public:
    void add(const FieldRow& row) {
        std::vector<std::optional<std::string>> r;
        r.reserve(row.size());
        for (const auto& f : row) r.push_back(f.null ? std::nullopt : std::optional<std::string>(std::string(f.view())));
        rows_.push_back(std::move(r));
    }
    size_t size() const { return rows_.size(); }
    void clear() { rows_.clear(); }
    FieldRow view(size_t i) const {
        FieldRow row;
        for (const auto& v : rows_[i]) row.push_back(v ? Field::of(*v) : Field{});
        return row;
    }

private:
    std::vector<std::vector<std::optional<std::string>>> rows_;
};

// Writes rows [from, to) of `rows` under a savepoint. False (rolled back, with the server's words in
// `reason`) when the destination refuses them; any other failure is thrown.
bool try_rows(Database& dst, const std::string& target, const RowConverter& conv, const OwnedRows& rows, size_t from, size_t to,
              std::string& reason) {
    Savepoint savepoint(dst, "mmmove_rows");
    try {
        auto writer = dst.write_table(target, conv.dest_columns(), conv.dest_kinds());
        size_t next = from;
        writer->write_all([&](FieldRow& row) {
            if (next == to) return false;
            row = rows.view(next++);
            return true;
        });
        writer->finish();
    } catch (const Error& e) {
        if (!refused_rows(e)) throw;
        reason = e.server_message();
        savepoint.rollback();
        savepoint.release();
        return false;
    }
    savepoint.release();
    return true;
}

// The careful load: batches under savepoints; a refused batch row by row, each refused row named.
ChunkOutcome careful_chunk(Database& src, Database& dst, ChunkWay& way, ChunkProgress& progress) {
    constexpr size_t kBatch = 500;
    ChunkOutcome out;
    out.careful = true;
    RowConverter& conv = way.conv;
    auto reader = src.read_where(way.t.source->name, conv.source_columns(), chunk_predicate(src, way.t, way.number));
    OwnedRows batch;
    FieldRow row;
    bool more = true;
    std::string reason;
    while (more) {
        batch.clear();
        uint64_t read = 0;  // counted as the fast path counts: every row read, written or not
        while (batch.size() < kBatch && (more = reader->next(row))) {
            ++read;
            if (way.pass(row)) batch.add(row);
        }
        progress.add(read);
        if (batch.size() == 0) break;
        if (try_rows(dst, way.target, conv, batch, 0, batch.size(), reason)) {
            out.rows += batch.size();
            continue;
        }
        for (size_t i = 0; i < batch.size(); ++i) {
            if (try_rows(dst, way.target, conv, batch, i, i + 1, reason))
                ++out.rows;
            else
                conv.refused_by_destination(batch.view(i), reason);  // throws under the stop policy
        }
    }
    way.settle(dst, out);
    out.skipped = conv.skipped();
    out.dropped = way.chain.dropped();
    return out;
}

// InnoDB under REPEATABLE READ locks what an INSERT … SELECT reads and the gaps around it: the save of a
// chunk's kept rows (staging JOIN table) takes shared next-key locks on the table's primary key, and
// the insert that skips existing keys (ON DUPLICATE KEY UPDATE) exclusive ones on each key it finds.
// Two workers loading chunks of the same table then hold gaps the other's inserts need, and InnoDB
// picks one as a deadlock victim. Under READ COMMITTED the SELECT part is a plain consistent read and
// no gap locks are taken (only the record locks of rows written or found by a duplicate check), so the
// chunks of one table, whose keys do not overlap, do not wait on each other. What is written stays
// the same: the primary key, not the isolation level, decides which rows are already there.
// A server that logs statements (binlog_format STATEMENT) cannot log INSERT … SELECT under READ
// COMMITTED: it keeps REPEATABLE READ, and a chunk that loses a deadlock is retried (run_chunks).
void read_committed_loads(Database& db) {
    auto r = db.query("SELECT @@log_bin, @@binlog_format");
    const bool statement_log = !r.empty() && r[0][0].value_or("0") == "1" && r[0][1].value_or("") == "STATEMENT";
    if (!statement_log) db.exec("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
}

// Loads a chunk in its own transaction: its rows, its issues and its checkpoint row commit together.
// A transaction the destination chose as a deadlock victim (or whose lock wait timed out) is rolled
// back whole by its guard, so nothing of the attempt stays and the chunk runs again from its start,
// reading the same rows from the same source snapshot: a bounded number of times, after a short wait
// that grows (and differs between chunks, so two workers do not collide again in step).
ChunkOutcome commit_chunk(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                          Progress& progress, size_t progress_index, const LoadStage* stage, unsigned& retries) {
    constexpr unsigned kAttempts = 6;
    for (unsigned attempt = 1;; ++attempt) {
        ChunkProgress counted(progress, progress_index);
        try {
            Transaction tx(dst);
            ChunkOutcome c = load_chunk(src, dst, t, number, policy, counted, stage);
            tx.commit();
            return c;
        } catch (const Error& e) {
            counted.rewind();  // the guard rolled the attempt back: none of its rows stay
            if (!lost_lock_conflict(e) || attempt == kAttempts) throw;
        }
        ++retries;
        std::this_thread::sleep_for(std::chrono::milliseconds(25 * (1u << attempt) + 7 * (number % 11)));
    }
}

}  // namespace

std::unique_ptr<Database> open_loader(const DataSource& ds) {
    auto db = Database::connect(ds, Side::destination);
    if (db->engine() == Engine::mysql) {
        db->exec("SET SESSION foreign_key_checks = 0");
        db->enable_bulk_load();
        read_committed_loads(*db);
    }
    return db;
}

ChunkOutcome load_chunk(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                        Progress& progress, size_t progress_index, const LoadStage* stage) {
    ChunkProgress counted(progress, progress_index);
    return load_chunk(src, dst, t, number, policy, counted, stage);
}

ChunkOutcome load_chunk(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                        ChunkProgress& progress, const LoadStage* stage) {
    ChunkIssues issues;
    ChunkOutcome out = write_chunk_rows(src, dst, t, number, policy, progress, issues, stage);
    issues.save(dst, t.source->name, number);
    Checkpoint::record(dst, t.source->name, number, ChunkDone{out.rows - out.existing, out.skipped, out.dropped + out.existing});
    return out;
}

ChunkOutcome write_chunk_rows(Database& src, Database& dst, const PlannedTable& t, size_t number, const ConvertPolicy& policy,
                              ChunkProgress& progress, ChunkIssues& issues, const LoadStage* stage) {
    ChunkOutcome out;
    Savepoint savepoint(dst, "mmmove_chunk");
    try {
        RowConverter conv(*t.source, *t.dest, src.engine(), dst.engine(), policy, issues);
        ChunkWay way(dst, t, number, conv, stage, issues);
        out = stream_chunk(src, dst, way, progress);
    } catch (const Error& e) {
        if (!refused_rows(e)) throw;
        savepoint.rollback();
        progress.rewind();  // the careful load reads the chunk again and counts its rows itself
        issues.clear();
        RowConverter conv(*t.source, *t.dest, src.engine(), dst.engine(), policy, issues);
        ChunkWay way(dst, t, number, conv, stage, issues);
        out = careful_chunk(src, dst, way, progress);
    }
    savepoint.release();
    return out;
}

ChunkRun run_chunks(const CopyPlan& plan, const DoneChunks& done, ReadSnapshot& snapshot,
                    std::vector<std::unique_ptr<Database>>& loaders, const ConvertPolicy& policy, Progress& progress,
                    const LoadStage* stage) {
    ChunkRun run;
    run.seconds.assign(plan.tables.size(), 0);
    run.raw.assign(plan.tables.size(), false);
    run.careful.assign(plan.tables.size(), false);
    ChunkQueue queue(plan, done);
    std::mutex m;
    // A failed chunk's transaction was rolled back by its guard; the pool keeps its error, and aborting
    // the queue wakes the workers that wait for a parent table so that they return too.
    run_workers(static_cast<unsigned>(loaders.size()), [&](unsigned w, const StopFlag&) {
        Database& s = snapshot.worker(w);
        Database& d = *loaders[w];
        ChunkJob job;
        while (queue.next(job)) {
            auto start = Clock::now();
            progress.set_active(job.table, +1);
            unsigned retries = 0;
            ChunkOutcome c = commit_chunk(s, d, plan.tables[job.table], job.number, policy, progress, job.table, stage, retries);
            progress.set_active(job.table, -1);
            {
                std::lock_guard lock(m);
                run.retried += retries;
                run.seconds[job.table] += std::chrono::duration<double>(Clock::now() - start).count();
                run.raw[job.table] = run.raw[job.table] || c.raw;
                run.careful[job.table] = run.careful[job.table] || c.careful;
            }
            queue.finished(job);
        }
    }, [&] { queue.abort(); });
    return run;
}

}  // namespace mmmove
