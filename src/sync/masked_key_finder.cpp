#include "sync/masked_key_finder.h"

#include <xxhash.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "catalog/schema_model.h"
#include "pipeline/chunk_runner.h"
#include "pipeline/source_moved.h"
#include "sync/key_digest.h"

namespace mmmove::sync_detail {
namespace {

using verify_detail::ChunkDiff;
using verify_detail::TableComparer;

constexpr size_t kKeysPerRead = 500;  // keys per by-key read: statements stay well under packet limits

std::string conjunction(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return "(" + a + ") AND (" + b + ")";
}

// A source key: as the source holds it (names the source's row) and as the stage writes it (names the
// destination's). Both canonical keys (TableComparer::key_of).
struct MaskedKey {
    std::string masked, own;
    bool operator<(const MaskedKey& o) const { return masked < o.masked; }
};

class MaskedKeyFinder : public ChangeFinder {
public:
    MaskedKeyFinder(const TableComparer& comparer, const LoadStage& stage, std::vector<std::string> columns, int64_t since_ms)
        : comparer_(comparer), stage_(stage), columns_(std::move(columns)), since_ms_(since_ms) {}

    ChunkChanges find(Database& source, Database& dest, size_t chunk) const override {
        const std::string source_where = comparer_.chunk_where(source, Side::source, chunk);
        const std::string dest_where = comparer_.chunk_where(dest, Side::destination, chunk);
        ChunkChanges c;
        ChunkDiff diff;
        std::vector<std::string> own;  // the source's keys of the rows the diff names missing or differing
        // Inserts with any stamp and hard deletes: the masked keys only one side of the chunk holds.
        std::vector<MaskedKey> source_keys = masked_keys(source, source_where);
        std::vector<std::string> dest_keys = keys(dest, dest_where);
        c.source_rows = source_keys.size();
        std::unordered_set<std::string> missing;
        size_t d = 0;
        for (const MaskedKey& k : source_keys) {
            while (d < dest_keys.size() && dest_keys[d] < k.masked) diff.extra.push_back({std::move(dest_keys[d++]), {}});
            if (d < dest_keys.size() && dest_keys[d] == k.masked) {
                ++d;
                continue;
            }
            missing.insert(k.masked);
            diff.missing.push_back({k.masked, {}});
            own.push_back(k.own);
        }
        for (; d < dest_keys.size(); ++d) diff.extra.push_back({std::move(dest_keys[d]), {}});
        // Changed rows: those stamped since the previous snapshot, masked whole and compared by masked key.
        std::vector<MaskedKey> stamped_keys = masked_keys(source, conjunction(source_where, stamped(source)));
        stamped_keys.erase(std::remove_if(stamped_keys.begin(), stamped_keys.end(), [&](const MaskedKey& k) { return missing.count(k.masked) > 0; }),
                           stamped_keys.end());
        c.rows_read = stamped_keys.size() + diff.missing.size();
        compare_stamped(source, dest, stamped_keys, diff, own);
        if (diff.differs.empty() && diff.missing.empty() && diff.extra.empty()) return c;
        diff.source_keys = std::move(own);
        c.diff = std::move(diff);
        return c;
    }

    // Nothing stamped since the previous snapshot, and the same masked keys on both sides: the table is
    // as the previous refresh left it (no update, insert or hard delete).
    bool unchanged(Database& source, Database& dest, uint64_t& source_rows) const override {
        const PlannedTable& t = comparer_.table();
        if (t.chunk_count() < 2) return false;
        if (!source.query("SELECT 1 FROM " + source.quote_ident(t.source->name) + " WHERE " + stamped(source) + " LIMIT 1").empty())
            return false;
        const Sum s = sum(source, Side::source), d = sum(dest, Side::destination);
        if (!(s == d)) return false;
        source_rows = s.rows;
        return true;
    }

private:
    struct Sum {
        uint64_t rows = 0, lo = 0, hi = 0;
        bool operator==(const Sum&) const = default;
    };

    std::string stamped(Database& source) const {
        std::string where;
        for (const auto& column : columns_)
            where += (where.empty() ? "" : " OR ") + source.quote_ident(column) + " >= " + std::to_string(since_ms_);
        return where;
    }

    // The key columns of the source's rows `where` selects, each key as the stage masks it (a chain
    // over the key columns alone), sorted by the masked key.
    std::vector<MaskedKey> masked_keys(Database& source, const std::string& where) const {
        const PlannedTable& t = comparer_.table();
        const auto columns = comparer_.key_columns(Side::source);
        ChunkIssues issues;
        TransformChain chain = stage_.chain(t, RowColumns(columns), issues);
        std::vector<MaskedKey> out;
        auto reader = source.read_where(t.source->name, columns, where);
        FieldRow row;
        while (reader->next(row)) {
            std::string own = TableComparer::key_of(row);
            if (!chain.apply(row))  // masks_keys_alone promised no row is dropped
                throw Error(ExitCode::internal, "The anonymise stage dropped a key of " + t.source->name + " it said it keeps.");
            out.push_back({TableComparer::key_of(row), std::move(own)});
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::vector<std::string> keys(Database& dest, const std::string& where) const {
        const PlannedTable& t = comparer_.table();
        std::vector<std::string> out;
        auto reader = dest.read_where(t.dest->name, comparer_.key_columns(Side::destination), where);
        FieldRow row;
        while (reader->next(row)) out.push_back(TableComparer::key_of(row));
        std::sort(out.begin(), out.end());
        return out;
    }

    // A side's keys, hashed (the source's masked) as they arrive: their count and the sum of their hashes.
    Sum sum(Database& db, Side side) const {
        const PlannedTable& t = comparer_.table();
        const auto columns = comparer_.key_columns(side);
        ChunkIssues issues;
        TransformChain chain = side == Side::source ? stage_.chain(t, RowColumns(columns), issues) : TransformChain{};
        Sum s;
        SerialPlans serial(db);
        auto reader = db.read_where(side == Side::source ? t.source->name : t.dest->name, columns, all_rows(db));
        FieldRow row;
        while (reader->next(row)) {
            if (!chain.apply(row)) return {};  // never equal to a digest with rows: the chunks decide
            const std::string key = TableComparer::key_of(row);
            const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
            ++s.rows, s.lo += h.low64, s.hi += h.high64;
        }
        return s;
    }

    // The stamped rows, the source's selected by its own keys and the destination's by the masked ones,
    // compared as the stage writes them.
    void compare_stamped(Database& source, Database& dest, const std::vector<MaskedKey>& stamped_keys, ChunkDiff& diff,
                         std::vector<std::string>& own) const {
        const auto source_columns = comparer_.key_columns(Side::source), dest_columns = comparer_.key_columns(Side::destination);
        std::unordered_map<std::string, const std::string*> own_of;
        std::vector<const std::string*> masked, owned;
        for (const MaskedKey& k : stamped_keys) masked.push_back(&k.masked), owned.push_back(&k.own), own_of[k.masked] = &k.own;
        for (size_t from = 0; from < masked.size(); from += kKeysPerRead) {
            const size_t to = std::min(masked.size(), from + kKeysPerRead);
            ChunkDiff part = comparer_.diff_where(source, dest, key_predicate(source, source_columns, owned, from, to),
                                                  key_predicate(dest, dest_columns, masked, from, to));
            for (auto& k : part.differs) own.push_back(*own_of.at(k)), diff.differs.push_back(std::move(k));
            for (auto& k : part.missing) own.push_back(*own_of.at(k.key)), diff.missing.push_back(std::move(k));
            for (auto& k : part.extra) diff.extra.push_back(std::move(k));
        }
    }

    const TableComparer& comparer_;
    const LoadStage& stage_;
    std::vector<std::string> columns_;  // the change columns, as the source names them
    int64_t since_ms_;
};

}  // namespace

std::unique_ptr<ChangeFinder> masked_key_finder_for(const TableComparer& comparer, const LoadStage* stage, Engine from, Engine to,
                                                    const ConvertPolicy& policy, std::optional<int64_t> snapshot_ms) {
    const PlannedTable& t = comparer.table();
    if (!stage || !snapshot_ms || !comparer.staged() || comparer.literal_keys() || !comparer.literal_dest_keys() || from != to ||
        !stage->masks_keys_alone(t))
        return nullptr;
    ChunkIssues issues;  // the rows must be written as the stage leaves them: its masked key is the written one
    if (!RowConverter(*t.source, *t.dest, from, to, policy, issues).identity()) return nullptr;
    for (const auto& name : comparer.key_columns(Side::source)) {
        const Column* c = t.source->find_column(name);
        if (!c || (c->kind != ColumnKind::text && c->kind != ColumnKind::integer)) return nullptr;  // named as literals on the source
    }
    std::vector<std::string> columns;
    for (const auto& name : change_columns(t.source->name))
        if (const Column* c = t.source->find_column(name); c && c->kind == ColumnKind::integer) columns.push_back(c->name);
    if (columns.empty()) return nullptr;
    return std::make_unique<MaskedKeyFinder>(comparer, *stage, std::move(columns), *snapshot_ms - SourceMoved::kMarginMs);
}

bool is_masked_key_finder(const ChangeFinder& finder) { return dynamic_cast<const MaskedKeyFinder*>(&finder) != nullptr; }

}  // namespace mmmove::sync_detail
