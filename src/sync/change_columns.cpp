// sync's fast path: a chunk's changed rows found by their change columns, its inserted and deleted
// rows by its keys alone (see ChangeColumnsFinder in chunk_apply.h).
#include <xxhash.h>

#include <algorithm>
#include <unordered_set>

#include "catalog/schema_model.h"
#include "pipeline/source_moved.h"
#include "sync/chunk_apply.h"

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

// A side's chunk by its keys alone: their count and the sum of their hashes (any order, same sum).
// Reads only the key columns within the key range: the primary key's index on both engines.
struct KeyDigest {
    uint64_t rows = 0, lo = 0, hi = 0;
    bool operator==(const KeyDigest&) const = default;
};

KeyDigest key_digest(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where) {
    KeyDigest d;
    auto reader = db.read_where(table, columns, where);
    FieldRow row;
    while (reader->next(row)) {
        std::string key = TableComparer::key_of(row);
        XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
        ++d.rows, d.lo += h.low64, d.hi += h.high64;
    }
    return d;
}

// The canonical keys `where` selects on one side, sorted. Memory: one chunk's keys.
std::vector<std::string> keys_where(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where) {
    std::vector<std::string> keys;
    auto reader = db.read_where(table, columns, where);
    FieldRow row;
    while (reader->next(row)) keys.push_back(TableComparer::key_of(row));
    std::sort(keys.begin(), keys.end());
    return keys;
}

// The chunk's keys only one side holds: the source's are missing, the destination's extra.
void add_key_differences(const std::vector<std::string>& source, const std::vector<std::string>& dest, ChunkDiff& out) {
    std::vector<std::string> only;
    std::set_difference(source.begin(), source.end(), dest.begin(), dest.end(), std::back_inserter(only));
    for (auto& k : only) out.missing.push_back({std::move(k), {}});
    only.clear();
    std::set_difference(dest.begin(), dest.end(), source.begin(), source.end(), std::back_inserter(only));
    for (auto& k : only) out.extra.push_back({std::move(k), {}});
}

}  // namespace

ChunkChanges ChangeColumnsFinder::find(Database& source, Database& dest, size_t chunk) const {
    const PlannedTable& t = comparer_.table();
    const auto source_keys = comparer_.key_columns(Side::source), dest_keys = comparer_.key_columns(Side::destination);
    const std::string source_where = comparer_.chunk_where(source, Side::source, chunk);
    const std::string dest_where = comparer_.chunk_where(dest, Side::destination, chunk);
    ChunkChanges c;
    ChunkDiff diff;

    // Inserts with any stamp, and hard deletes: the key sets.
    KeyDigest s = key_digest(source, t.source->name, source_keys, source_where);
    c.source_rows = s.rows;
    if (!(s == key_digest(dest, t.dest->name, dest_keys, dest_where)))
        add_key_differences(keys_where(source, t.source->name, source_keys, source_where),
                            keys_where(dest, t.dest->name, dest_keys, dest_where), diff);

    // Changed rows: stamped since the previous snapshot (less the margin), compared by key with the
    // destination's, so a row stamped in the margin but already equal is not written again.
    std::string stamped;
    for (const auto& column : columns_)
        stamped += (stamped.empty() ? "" : " OR ") + source.quote_ident(column) + " >= " + std::to_string(since_ms_);
    std::unordered_set<std::string> seen;
    for (const auto& k : diff.missing) seen.insert(k.key);
    std::vector<std::string> candidates;
    for (auto& k : keys_where(source, t.source->name, source_keys, conjunction(source_where, stamped)))
        if (!seen.count(k)) candidates.push_back(std::move(k));
    c.rows_read = candidates.size() + diff.missing.size();
    std::vector<const std::string*> keys;
    for (const auto& k : candidates) keys.push_back(&k);
    for (size_t from = 0; from < keys.size(); from += kKeysPerRead) {
        const size_t to = std::min(keys.size(), from + kKeysPerRead);
        ChunkDiff part = comparer_.diff_where(source, dest, key_predicate(source, source_keys, keys, from, to),
                                              key_predicate(dest, dest_keys, keys, from, to));
        for (auto& k : part.differs) diff.differs.push_back(std::move(k));
        for (auto& k : part.missing) diff.missing.push_back(std::move(k));  // a key in another chunk on the destination
    }
    if (!diff.differs.empty() || !diff.missing.empty() || !diff.extra.empty()) c.diff = std::move(diff);
    return c;
}

std::unique_ptr<ChangeFinder> change_finder_for(const TableComparer& comparer, std::optional<int64_t> snapshot_ms) {
    const PlannedTable& t = comparer.table();
    std::vector<std::string> columns;
    for (const auto& name : change_columns(t.source->name))
        if (const Column* c = t.source->find_column(name); c && c->kind == ColumnKind::integer) columns.push_back(c->name);
    // Keys named as literals on both sides (the apply path needs them too) and at least one stamp.
    if (!snapshot_ms || columns.empty() || !comparer.literal_keys())
        return std::make_unique<DigestChangeFinder>(comparer);
    return std::make_unique<ChangeColumnsFinder>(comparer, std::move(columns), *snapshot_ms - SourceMoved::kMarginMs);
}

const char* finder_method(const ChangeFinder& finder) {
    return dynamic_cast<const ChangeColumnsFinder*>(&finder) ? "change_columns" : "digest";
}

}  // namespace mmmove::sync_detail
