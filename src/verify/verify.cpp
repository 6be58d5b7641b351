#include "verify/verify.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>

#include "catalog/migrations.h"
#include "check/check.h"
#include "core/workers.h"
#include "pipeline/snapshot.h"
#include "verify/table_compare.h"

namespace mmmove {

bool VerifyResult::equal() const {
    return source_only.empty() && std::all_of(tables.begin(), tables.end(), [](const TableVerify& t) { return t.equal(); });
}

namespace {

using namespace verify_detail;
using Clock = std::chrono::steady_clock;

// Rows only one side has are kept by key to tell, at the end, a row that changed chunk (a key two
// collations order differently) from one that is really missing; past this many per table they are
// only counted, so memory stays bounded when a whole table is missing.
constexpr size_t kKeptKeys = 100000;

struct TableRun {
    explicit TableRun(const PlannedTable& t, Engine from, Engine to, const ExpectedChanges* expected) : comparer(t, from, to, expected) {}
    TableComparer comparer;
    std::mutex m;
    TableVerify result;
    std::vector<std::string> differs;
    std::vector<KeyedHash> missing, extra;

    void add(const ChunkDigest& s, const ChunkDigest& d, ChunkDiff* diff, double seconds) {
        std::lock_guard lock(m);
        result.source_rows += s.rows + s.expected_absent;
        result.dest_rows += d.rows;
        result.expected_changed += s.expected_changed;
        result.expected_absent += s.expected_absent;
        result.seconds += seconds;
        if (!diff) return;
        ++result.chunks_by_row;
        result.differing += diff->differs.size();
        for (auto& k : diff->differs)
            if (differs.size() < kKeptKeys) differs.push_back(std::move(k));
        keep(diff->missing, missing, result.missing);
        keep(diff->extra, extra, result.extra);
    }
    static void keep(std::vector<KeyedHash>& from, std::vector<KeyedHash>& into, uint64_t& count) {
        count += from.size();
        for (auto& k : from)
            if (into.size() < kKeptKeys) into.push_back(std::move(k));
    }
    // A key missing from one chunk and extra in another is the same row, read in two chunks: equal when
    // its hash is, else a differing row.
    void reconcile() {
        std::sort(missing.begin(), missing.end());
        std::sort(extra.begin(), extra.end());
        std::vector<KeyedHash> still_missing, still_extra;
        size_t i = 0, j = 0;
        while (i < missing.size() || j < extra.size()) {
            if (j == extra.size() || (i < missing.size() && missing[i].key < extra[j].key)) {
                still_missing.push_back(std::move(missing[i++]));
            } else if (i == missing.size() || extra[j].key < missing[i].key) {
                still_extra.push_back(std::move(extra[j++]));
            } else {
                --result.missing, --result.extra;
                if (!(missing[i].hash == extra[j].hash)) ++result.differing, differs.push_back(missing[i].key);
                ++i, ++j;
            }
        }
        missing = std::move(still_missing);
        extra = std::move(still_extra);
        std::sort(differs.begin(), differs.end());
    }
    void describe(Database& s, Database& d, size_t examples) {
        for (size_t i = 0; i < differs.size() && result.examples.size() < examples; ++i)
            result.examples.push_back(comparer.describe(s, d, differs[i], RowDifference::Kind::differs));
        for (size_t i = 0; i < missing.size() && result.examples.size() < examples; ++i)
            result.examples.push_back(comparer.describe(s, d, missing[i].key, RowDifference::Kind::missing));
        for (size_t i = 0; i < extra.size() && result.examples.size() < examples; ++i)
            result.examples.push_back(comparer.describe(s, d, extra[i].key, RowDifference::Kind::extra));
    }
};

// Every chunk of every table, largest tables first, on as many workers as both snapshots have.
void compare_chunks(std::vector<std::unique_ptr<TableRun>>& tables, ReadSnapshot& src, ReadSnapshot& dst, Progress& progress) {
    struct Job {
        size_t table, chunk;
    };
    std::vector<size_t> order(tables.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return tables[a]->comparer.table().estimated_rows > tables[b]->comparer.table().estimated_rows;
    });
    std::vector<Job> jobs;
    for (size_t t : order)
        for (size_t c = 0; c < tables[t]->comparer.table().chunk_count(); ++c) jobs.push_back({t, c});
    for_each_item(static_cast<unsigned>(std::min(src.size(), dst.size())), jobs.size(), [&](unsigned w, size_t j) {
        TableRun& t = *tables[jobs[j].table];
        auto start = Clock::now();
        progress.set_active(jobs[j].table, +1);
        ChunkDigest s = t.comparer.digest(src.worker(w), Side::source, jobs[j].chunk);
        ChunkDigest d = t.comparer.digest(dst.worker(w), Side::destination, jobs[j].chunk);
        std::optional<ChunkDiff> diff;
        if (!s.same_rows(d)) diff = t.comparer.diff(src.worker(w), dst.worker(w), jobs[j].chunk);
        progress.add_rows(jobs[j].table, s.rows + s.expected_absent);
        progress.set_active(jobs[j].table, -1);
        t.add(s, d, diff ? &*diff : nullptr, std::chrono::duration<double>(Clock::now() - start).count());
    });
}

VerifyResult compare(const CopyPlan& plan, ReadSnapshot& src, ReadSnapshot& dst, Engine from, Engine to, const ExpectedChanges& expected,
                     const VerifyOptions& o, std::ostream& log) {
    auto start = Clock::now();
    VerifyResult result;
    result.jobs = static_cast<unsigned>(std::min(src.size(), dst.size()));
    result.expected_lines = expected.size();
    std::vector<std::unique_ptr<TableRun>> tables;
    Progress progress(log, o.progress);
    for (const auto& t : plan.tables) {
        if (!o.tables.empty() && !o.tables.count(lower(t.source->name))) continue;
        tables.push_back(std::make_unique<TableRun>(t, from, to, &expected));
        tables.back()->result.source_table = t.source->name;
        tables.back()->result.dest_table = t.dest->name;
        tables.back()->result.chunks = t.chunk_count();
        progress.add_table(t.dest->name, t.estimated_rows);
        if (!tables.back()->comparer.compares_every_column()) {
            std::string names;
            for (const auto& c : tables.back()->comparer.dest_only_columns()) names += (names.empty() ? "" : ", ") + c;
            result.notes.push_back("Columns only the destination's " + t.dest->name + " has were not compared: " + names + ".");
        }
    }
    progress.start();
    compare_chunks(tables, src, dst, progress);
    progress.stop();
    for (auto& t : tables) {
        t->reconcile();
        t->describe(src.worker(0), dst.worker(0), o.examples);
        result.tables.push_back(std::move(t->result));
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
}

}  // namespace

VerifyResult run_verify(Database& source, Database& dest, const VerifyOptions& o, std::ostream& log) {
    auto start = Clock::now();
    CheckReport sides;
    sides.source = read_side(source);
    sides.dest = read_side(dest);
    if (sides.source.catalog.table_case == TableCase::empty)
        throw Error(ExitCode::source, "The source (" + sides.source.label + ") holds no Mattermost tables: there is nothing to verify.");
    if (sides.dest.catalog.table_case == TableCase::empty)
        throw Error(ExitCode::destination, "The destination (" + sides.dest.label + ") holds no Mattermost tables: it holds none of the "
                                           "source's rows. Copy into it first (mmmove copy).");
    CheckOptions selection;
    selection.skip_tables = o.skip_tables;
    for (const auto& name : o.tables)
        if (!sides.source.catalog.find(name) || !sides.dest.catalog.find(name))
            throw Error(ExitCode::bad_input, "--tables names " + name + ", which is not a table both sides hold.");
    for (const auto& t : sides.source.catalog.tables)
        if (!o.tables.empty() && !o.tables.count(lower(t.name))) selection.skip_tables.insert(lower(t.name));
    for (const auto& name : o.skip_tables)
        if (!sides.source.catalog.find(name) && !sides.dest.catalog.find(name))
            throw Error(ExitCode::bad_input, "--skip-table names " + name + ", which neither side holds.");

    VerifyResult result;
    for (const auto& t : sides.source.catalog.tables)
        if (copied_role(t.name) && !sides.dest.catalog.find(t.name) && !selection.skip_tables.count(lower(t.name)))
            result.source_only.push_back(t.name);
    for (const auto& t : sides.dest.catalog.tables)
        if (copied_role(t.name) && !sides.source.catalog.find(t.name) && o.tables.empty()) result.dest_only.push_back(t.name);
    if (!compare_migrations(sides.source.version.migrations, sides.dest.version.migrations).same())
        result.notes.push_back("The two sides are not at the same Mattermost schema version (source migration " +
                               std::to_string(sides.source.version.highest()) + ", destination " +
                               std::to_string(sides.dest.version.highest()) + "): only the columns both hold are compared.");

    CopyPlan plan = plan_copy(sides, selection, source, o.chunk_rows);
    ExpectedChanges expected = o.expect_changes.empty() ? ExpectedChanges() : ExpectedChanges::load(o.expect_changes);
    unsigned jobs = worker_count(o.jobs);
    ReadSnapshot src(source, sides.source.catalog, jobs, log);
    ReadSnapshot dst(dest, sides.dest.catalog, jobs, log);
    VerifyResult compared = compare(plan, src, dst, source.engine(), dest.engine(), expected, o, log);
    compared.source_label = sides.source.label;
    compared.dest_label = sides.dest.label;
    compared.source_only = std::move(result.source_only);
    compared.dest_only = std::move(result.dest_only);
    compared.notes.insert(compared.notes.begin(), result.notes.begin(), result.notes.end());
    compared.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return compared;
}

VerifyResult verify_copy(const CopyPlan& plan, ReadSnapshot& source, Database& dest, const Catalog& dest_catalog,
                         const ExpectedChanges& expected, const VerifyOptions& o, std::ostream& log) {
    ReadSnapshot dst(dest, dest_catalog, static_cast<unsigned>(source.size()), log);
    return compare(plan, source, dst, source.worker(0).engine(), dest.engine(), expected, o, log);
}

}  // namespace mmmove
