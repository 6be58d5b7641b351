// sync's fast path: a chunk's changed rows found by their change columns, its inserted and deleted
// rows by its keys alone (see ChangeColumnsFinder in chunk_apply.h).
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <future>
#include <tuple>
#include <map>
#include <string_view>
#include <unordered_set>

#include "catalog/schema_model.h"
#include "pipeline/source_moved.h"
#include "sync/chunk_apply.h"
#include "sync/follow.h"
#include "sync/key_digest.h"
#include "sync/key_ranges.h"
#include "sync/seen_rows.h"

namespace mmmove::sync_detail {
namespace {

using verify_detail::ChunkDiff;
using verify_detail::TableComparer;

constexpr size_t kKeysPerRead = 500;  // keys per by-key read: statements stay well under packet limits
// Keys a table-wide pass holds at most (about 100 bytes each); past it the chunks scan. Bounded, so
// memory stays flat; a pass after 1 % of 1 M posts changed holds about 10 k.
constexpr size_t kMaxTableKeys = 200000;

std::string conjunction(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return "(" + a + ") AND (" + b + ")";
}

// A side's chunk by its keys alone, hashed client-side as they arrive: their count and the sum of their
// hashes (any order, same sum), and the same per bucket (the hash's low bits), so that where two
// sides differ only the keys of the buckets that differ are held. Reads only the key columns within
// the key range: the primary key's index on both engines.
struct KeyDigest {
    struct Sum {
        uint64_t rows = 0, lo = 0, hi = 0;
        bool operator==(const Sum&) const = default;
        void add(const XXH128_hash_t& h) { ++rows, lo += h.low64, hi += h.high64; }
    };
    Sum all;
    std::vector<Sum> buckets;  // empty: a small chunk, whose keys are read whole where it differs
    // The keys as read, back to back, while they and their ends fit in kKeptBytes: a chunk whose
    // digests differ is then not read a second time. Bounded (the buffer never grows past the bound),
    // so memory stays flat however large a chunk turns out; a 200 k-row chunk of Posts' keys fits.
    std::string kept;
    std::vector<uint32_t> ends;  // where each key in `kept` ends
    bool complete = true;        // every key of the chunk is in `kept`
};

constexpr size_t kKeptBytes = size_t(8) << 20;

XXH128_hash_t key_hash(const std::string& key) { return XXH3_128bits(key.data(), key.size()); }

KeyDigest key_digest(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where,
                     uint64_t buckets, bool keep = true) {
    KeyDigest d;
    d.complete = keep;
    d.buckets.resize(buckets);
    SerialPlans serial(db);
    auto reader = db.read_where(table, columns, where.empty() ? all_rows(db) : where);
    FieldRow row;
    while (reader->next(row)) {
        const std::string key = TableComparer::key_of(row);
        XXH128_hash_t h = key_hash(key);
        d.all.add(h);
        if (buckets) d.buckets[bucket_of(h.low64, buckets)].add(h);
        if (!d.complete) continue;
        if (d.kept.size() + key.size() + sizeof(uint32_t) * (d.ends.size() + 1) > kKeptBytes) {
            d.complete = false;
            std::string().swap(d.kept);
            std::vector<uint32_t>().swap(d.ends);
            continue;
        }
        if (d.kept.size() + key.size() > d.kept.capacity())  // grow by doubling, but never past the bound
            d.kept.reserve(std::min(kKeptBytes, std::max<size_t>(2 * d.kept.capacity(), size_t(1) << 20)));
        d.kept += key;
        d.ends.push_back(static_cast<uint32_t>(d.kept.size()));
    }
    return d;
}

// The keys a complete digest kept, sorted; with `only`, just those in the buckets it marks.
std::vector<std::string> kept_keys(const KeyDigest& d, const std::vector<bool>& only) {
    std::vector<std::string> keys;
    size_t from = 0;
    for (uint32_t end : d.ends) {
        std::string_view key(d.kept.data() + from, end - from);
        from = end;
        if (only.empty() || only[bucket_of(XXH3_128bits(key.data(), key.size()).low64, only.size())]) keys.emplace_back(key);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
}

// Whether reading the keys of `differing` of `buckets` table-wide buckets would cost more than the
// chunks' scan (over a quarter of them) or hold more keys than a table-wide pass may (about `rows`
// / `buckets` keys a bucket): the chunks then scan instead.
bool too_many(uint64_t differing, uint64_t rows, uint64_t buckets) {
    return differing * 4 > buckets || differing * std::max<uint64_t>(1, rows / buckets) > kMaxTableKeys;
}

// Which buckets differ between two digests of as many buckets (all, when they have none).
std::vector<bool> differing_buckets(const KeyDigest& a, const KeyDigest& b) {
    std::vector<bool> out(a.buckets.size());
    for (size_t i = 0; i < a.buckets.size() && i < b.buckets.size(); ++i) out[i] = !(a.buckets[i] == b.buckets[i]);
    return out;
}

// The canonical keys `where` selects on one side, sorted; with `only`, just those in the buckets it
// marks. Memory: the keys kept.
std::vector<std::string> keys_where(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where,
                                    const std::vector<bool>& only = {}) {
    std::vector<std::string> keys;
    SerialPlans serial(db);
    auto reader = db.read_where(table, columns, where.empty() ? all_rows(db) : where);
    FieldRow row;
    while (reader->next(row)) {
        std::string key = TableComparer::key_of(row);
        if (only.empty() || only[bucket_of(key_hash(key).low64, only.size())]) keys.push_back(std::move(key));
    }
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

std::vector<ColumnKind> kinds_of(const Table& table, const std::vector<std::string>& columns) {
    std::vector<ColumnKind> out;
    for (const auto& name : columns) {
        const Column* c = table.find_column(name);
        out.push_back(c ? c->kind : ColumnKind::binary);  // unknown: no server-side hashing
    }
    return out;
}

// Whether a key's first column is text (its keys can then be read by ranges of it).
bool first_text(const Table& table, const std::vector<std::string>& columns) {
    const Column* c = columns.empty() ? nullptr : table.find_column(columns[0]);
    return c && c->kind == ColumnKind::text;
}

// The buckets whose digests differ between the two sides (a bucket only one side has differs too).
std::vector<uint64_t> differing_buckets(const std::map<uint64_t, ServerKeyDigest>& a, const std::map<uint64_t, ServerKeyDigest>& b) {
    std::vector<uint64_t> out;
    for (const auto& [bucket, d] : a)
        if (auto it = b.find(bucket); it == b.end() || !(it->second == d)) out.push_back(bucket);
    for (const auto& [bucket, d] : b)
        if (!a.count(bucket)) out.push_back(bucket);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

ChangeColumnsFinder::ChangeColumnsFinder(const TableComparer& comparer, std::vector<std::string> source_change_columns, int64_t since_ms,
                                         const SeenRows* seen_rows)
    : comparer_(comparer), columns_(std::move(source_change_columns)), since_ms_(since_ms), seen_rows_(seen_rows) {}

// The server-side hashers of both sides, or none (the client-side path) when a key column's kind is
// not one both engines spell alike. Made per call: they hold only SQL text, and need a connection.
std::optional<std::pair<ServerKeyHasher, ServerKeyHasher>> ChangeColumnsFinder::hashers(Database& source, Database& dest) const {
    const PlannedTable& t = comparer_.table();
    const auto sk = comparer_.key_columns(Side::source), dk = comparer_.key_columns(Side::destination);
    const auto skinds = kinds_of(*t.source, sk), dkinds = kinds_of(*t.dest, dk);
    if (skinds != dkinds) return std::nullopt;
    auto s = ServerKeyHasher::make(source, sk, skinds);
    auto d = ServerKeyHasher::make(dest, dk, dkinds);
    if (!s || !d) return std::nullopt;
    return std::make_pair(std::move(*s), std::move(*d));
}

// Inserts with any stamp, and hard deletes: the keys only one side of the chunk holds. Returns the
// source's row count. Each side's keys are digested per hash bucket (by the servers when both are
// PostgreSQL, else client-side as they stream); where the digests differ, only the keys of the
// buckets that differ are read and held (all of a small chunk's), never both sides' whole key lists.
uint64_t ChangeColumnsFinder::key_differences(Database& source, Database& dest, const std::string& source_where,
                                              const std::string& dest_where, bool likely_equal, ChunkDiff& diff) const {
    const PlannedTable& t = comparer_.table();
    const auto source_keys = comparer_.key_columns(Side::source), dest_keys = comparer_.key_columns(Side::destination);
    // As many buckets on both sides, from the plan's estimate of the chunk's rows.
    const uint64_t n = buckets_for(t.estimated_rows / std::max<size_t>(1, t.chunk_count()));
    auto h = hashers(source, dest);
    if (!h) {  // client-side: each side's keys hashed as they arrive (and kept, up to a bound)
        KeyDigest s = key_digest(source, t.source->name, source_keys, source_where, n);
        KeyDigest d = key_digest(dest, t.dest->name, dest_keys, dest_where, n);
        if (!(s.all == d.all)) {
            const auto only = differing_buckets(s, d);
            add_key_differences(s.complete ? kept_keys(s, only) : keys_where(source, t.source->name, source_keys, source_where, only),
                                d.complete ? kept_keys(d, only) : keys_where(dest, t.dest->name, dest_keys, dest_where, only), diff);
        }
        return s.all.rows;
    }
    auto& [sh, dh] = *h;
    if (n == 0) {  // a small chunk: one digest, and where it differs all the keys
        const ServerKeyDigest s = sh.digest(source, t.source->name, source_where);
        if (!(s == dh.digest(dest, t.dest->name, dest_where)))
            add_key_differences(keys_where(source, t.source->name, source_keys, source_where),
                                keys_where(dest, t.dest->name, dest_keys, dest_where), diff);
        return s.rows;
    }
    // A chunk that likely holds the same keys on both sides (nothing in it stamped since the previous
    // pass's snapshot) is first digested whole, both sides at once: about half the server's work of
    // the bucket digests (no grouping), and equal digests mean equal key sets. Only where they differ
    // are the buckets digested.
    if (likely_equal) {
        const auto [s, d] = both([&] { return sh.digest(source, t.source->name, source_where); },
                                 [&] { return dh.digest(dest, t.dest->name, dest_where); });
        if (s == d) return s.rows;
    }
    // The bucket digests are the chunk's digest too: equal buckets everywhere, equal chunk.
    const auto s = sh.bucket_digests(source, t.source->name, source_where, n);
    const auto which = differing_buckets(s, dh.bucket_digests(dest, t.dest->name, dest_where, n));
    uint64_t rows = 0;
    for (const auto& [bucket, d] : s) rows += d.rows;
    if (which.empty()) return rows;
    const bool most = which.size() * 2 > n;  // then a plain read of every key is cheaper
    add_key_differences(keys_where(source, t.source->name, source_keys, conjunction(source_where, most ? "" : sh.in_buckets(which, n))),
                        keys_where(dest, t.dest->name, dest_keys, conjunction(dest_where, most ? "" : dh.in_buckets(which, n))), diff);
    return rows;
}

// Whether a change column's value (as the source printed it) is below `before`: NULL counts as below
// (no stamp), anything not a whole number as not (only a guess of cost rides on it, never a result).
bool stamped_before(const Field& f, int64_t before) {
    if (f.null) return true;
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(f.data, f.data + f.size, v);
    return ec == std::errc() && end == f.data + f.size && v < before;
}

// The canonical keys of the source's rows `where` selects, sorted, reading the key columns and then
// the change columns. `seen`: whether every row's stamps are all below `before` (the previous pass's
// snapshot): rows that pass most likely read and wrote already, so the key sets most likely match.
// With `seen_rows` (a PostgreSQL source) each row's xmin is read too, and a row the previous pass's
// snapshot certainly saw is left out (sync/seen_rows.h). nullopt past `bound` keys (0: no bound).
std::optional<std::vector<std::string>> stamped_keys_where(Database& source, const std::string& table, const std::vector<std::string>& keys,
                                                           const std::vector<std::string>& stamps, const std::string& where, int64_t before,
                                                           size_t bound, const SeenRows* seen_rows, bool& seen) {
    std::vector<std::string> columns = keys;
    columns.insert(columns.end(), stamps.begin(), stamps.end());
    if (seen_rows) columns.push_back("xmin");  // a system column: no Mattermost column can be named so
    const size_t stamps_end = keys.size() + stamps.size();
    std::vector<std::string> out;
    seen = true;
    auto reader = source.read_where(table, columns, where);
    FieldRow row, key;
    while (reader->next(row)) {
        if (row.size() != columns.size()) throw Error(ExitCode::internal, "A read of " + table + "'s stamped keys returned a row of another width.");
        if (seen_rows && !row.back().null && seen_rows->seen(row.back().data, row.back().size)) continue;
        if (bound && out.size() == bound) return std::nullopt;
        for (size_t i = keys.size(); i < stamps_end && seen; ++i) seen = stamped_before(row[i], before);
        key.assign(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(keys.size()));
        out.push_back(TableComparer::key_of(key));
    }
    std::sort(out.begin(), out.end());
    return out;
}

int64_t ChangeColumnsFinder::seen_before_ms() const { return since_ms_ + SourceMoved::kMarginMs; }

std::string ChangeColumnsFinder::stamped(Database& source) const {
    std::string where;
    for (const auto& column : columns_)
        where += (where.empty() ? "" : " OR ") + source.quote_ident(column) + " >= " + std::to_string(since_ms_);
    return where;
}

// The source's keys stamped since the previous snapshot (less the margin), sorted: read through the
// change columns' indexes. nullopt past kMaxTableKeys (a mass update): the chunks then scan.
std::optional<std::vector<std::string>> ChangeColumnsFinder::stamped_keys(Database& source, bool& seen) const {
    const PlannedTable& t = comparer_.table();
    return stamped_keys_where(source, t.source->name, comparer_.key_columns(Side::source), columns_, stamped(source), seen_before_ms(),
                              kMaxTableKeys, seen_rows_, seen);
}

// Of `keys` (sorted), those the destination holds no row under: read by key, keys only.
std::vector<std::string> ChangeColumnsFinder::missing_on_dest(Database& dest, const std::vector<std::string>& keys) const {
    const PlannedTable& t = comparer_.table();
    const auto columns = comparer_.key_columns(Side::destination);
    std::vector<const std::string*> at;
    for (const auto& k : keys) at.push_back(&k);
    std::vector<std::string> found;
    for (size_t from = 0; from < at.size(); from += kKeysPerRead) {
        auto part = keys_where(dest, t.dest->name, columns, key_predicate(dest, columns, at, from, std::min(at.size(), from + kKeysPerRead)));
        found.insert(found.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> missing;
    std::set_difference(keys.begin(), keys.end(), found.begin(), found.end(), std::back_inserter(missing));
    return missing;
}

// The keys only one side of the whole table holds, besides the stamped keys the destination lacks
// (`stamped`, sorted: the comparison of the stamped keys writes those anyway): rows inserted with an
// old stamp, and hard deletes. Equal key sets show in one digest per side, tried first when `seen`
// (no row stamped since the previous pass's snapshot: the sets most likely match) and then needing no
// look-up of the stamped keys on the destination. Else the source's keys are compared with the
// destination's plus the stamped keys it lacks: one digest per side when it lacks none, else
// table-wide buckets and the keys of the buckets that differ. nullopt when too many buckets differ
// (the chunks then scan). `source_rows`: the source's rows.
std::optional<std::vector<std::string>> ChangeColumnsFinder::table_key_differences(Database& source, Database& dest,
                                                                                   const std::vector<std::string>& stamped, bool seen,
                                                                                   uint64_t& source_rows) const {
    const PlannedTable& t = comparer_.table();
    const auto source_keys = comparer_.key_columns(Side::source), dest_keys = comparer_.key_columns(Side::destination);
    const uint64_t n = table_buckets_for(t.estimated_rows);
    const size_t ranges = first_text(*t.source, source_keys) && first_text(*t.dest, dest_keys) ? prefix_chars_for(t.estimated_rows) : 0;
    std::vector<std::string> s, d;  // the keys of the buckets that differ
    if (auto h = hashers(source, dest)) {
        auto& [sh, dh] = *h;
        auto whole = [&] {  // equal digests: equal key sets, so no stamped key is missing either
            auto [mine, other] = both([&] { return sh.digest(source, t.source->name, ""); }, [&] { return dh.digest(dest, t.dest->name, ""); });
            source_rows = mine.rows;
            return mine == other;
        };
        if (seen && whole()) return std::vector<std::string>{};
        const std::vector<std::string> missing = missing_on_dest(dest, stamped);
        // Nothing inserted since the last pass: most likely no key set changed.
        if (!seen && missing.empty() && whole()) return std::vector<std::string>{};
        if (ranges) {  // by ranges of the first key column where it is text (sync/key_ranges.h); else by hash buckets
            auto found = server_range_differences({source, t.source->name, source_keys}, {dest, t.dest->name, dest_keys}, sh, dh, missing,
                                                  ranges, source_rows);
            if (found) return found;
        }
        std::vector<const std::string*> at;
        for (const auto& k : missing) at.push_back(&k);
        auto batch = [&](size_t from) { return key_predicate(source, source_keys, at, from, std::min(at.size(), from + kKeysPerRead)); };
        auto [sb, db] = both(
            [&] {  // the source's buckets, and those of the stamped keys the destination lacks, to add to the destination's
                std::map<uint64_t, ServerKeyDigest> m;
                for (size_t from = 0; from < at.size(); from += kKeysPerRead)
                    for (const auto& [b, part] : sh.bucket_digests(source, t.source->name, batch(from), n)) m[b] = m[b].plus(part);
                return std::make_pair(sh.bucket_digests(source, t.source->name, "", n), std::move(m));
            },
            [&] { return dh.bucket_digests(dest, t.dest->name, "", n); });
        for (const auto& [b, m] : sb.second) db[b] = db[b].plus(m);
        const auto which = differing_buckets(sb.first, db);
        source_rows = 0;
        for (const auto& [b, sum] : sb.first) source_rows += sum.rows;
        if (which.empty()) return std::vector<std::string>{};
        if (too_many(which.size(), source_rows, n)) return std::nullopt;
        std::tie(s, d) = both([&] { return keys_where(source, t.source->name, source_keys, sh.in_buckets(which, n)); },
                              [&] { return keys_where(dest, t.dest->name, dest_keys, dh.in_buckets(which, n)); });
    } else {  // client-side: both sides' keys streamed and hashed into groups or buckets as they arrive
        if (ranges) {
            auto found = client_range_differences({source, t.source->name, source_keys}, {dest, t.dest->name, dest_keys},
                                                  [&] { return missing_on_dest(dest, stamped); }, ranges, source_rows);
            if (found) return found;
        }
        auto [sd, dd] = both([&] { return key_digest(source, t.source->name, source_keys, "", n, false); },
                             [&] { return key_digest(dest, t.dest->name, dest_keys, "", n, false); });
        source_rows = sd.all.rows;
        if (sd.all == dd.all) return std::vector<std::string>{};  // equal key sets (no stamped key missing either)
        for (const auto& k : missing_on_dest(dest, stamped)) {
            const XXH128_hash_t kh = key_hash(k);
            dd.all.add(kh);
            dd.buckets[bucket_of(kh.low64, n)].add(kh);
        }
        if (sd.all == dd.all) return std::vector<std::string>{};
        const auto which = differing_buckets(sd, dd);
        if (too_many(static_cast<uint64_t>(std::count(which.begin(), which.end(), true)), source_rows, n)) return std::nullopt;
        std::tie(s, d) = both([&] { return keys_where(source, t.source->name, source_keys, "", which); },
                              [&] { return keys_where(dest, t.dest->name, dest_keys, "", which); });
    }
    std::vector<std::string> out;
    std::set_symmetric_difference(s.begin(), s.end(), d.begin(), d.end(), std::back_inserter(out));
    return out;
}

// The table as a whole, when it has several chunks. Its stamped keys (an index probe per change
// column) and one key comparison of the whole table (sync/key_digest.h; on MySQL/MariaDB the server
// reads the keys from its smallest index) find every row that may differ: updated, soft-deleted and
// new rows are stamped; a row inserted with an old stamp or deleted outright changes the key set,
// which the comparison finds by key. Nothing found: the table is equal (true). Else its chunks compare
// just those keys, in shares (by_keys_), each share one destination transaction. Too many keys, or
// too many buckets differing: false with nothing set, and the chunks scan as without this pass.
bool ChangeColumnsFinder::unchanged(Database& source, Database& dest, uint64_t& source_rows) const {
    const PlannedTable& t = comparer_.table();
    if (t.chunk_count() < 2) return false;  // one chunk: find() reads no more than this
    bool seen = true;
    auto keys = stamped_keys(source, seen);
    if (!keys) return false;
    uint64_t rows = 0;
    auto others = table_key_differences(source, dest, *keys, seen, rows);
    if (!others || keys->size() + others->size() > kMaxTableKeys) return false;
    source_rows = rows;
    if (keys->empty() && others->empty()) return true;
    keys->insert(keys->end(), std::make_move_iterator(others->begin()), std::make_move_iterator(others->end()));
    std::sort(keys->begin(), keys->end());
    keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
    by_keys_ = std::make_unique<StreamChangeFinder>(comparer_, std::move(*keys), t.chunk_count());
    return false;
}

ChunkChanges ChangeColumnsFinder::find(Database& source, Database& dest, size_t chunk) const {
    if (by_keys_) {  // the table-wide pass found the keys: this chunk's share of them (its rows were counted there)
        ChunkChanges c = by_keys_->find(source, dest, chunk);
        c.source_rows = 0;
        if (c.diff) c.rows_read -= std::min<uint64_t>(c.rows_read, c.diff->extra.size());  // a key only the destination holds reads no source row
        return c;
    }
    const PlannedTable& t = comparer_.table();
    const auto source_keys = comparer_.key_columns(Side::source), dest_keys = comparer_.key_columns(Side::destination);
    const std::string source_where = comparer_.chunk_where(source, Side::source, chunk);
    const std::string dest_where = comparer_.chunk_where(dest, Side::destination, chunk);
    ChunkChanges c;
    ChunkDiff diff;

    // Changed rows: stamped since the previous snapshot (less the margin), compared by key with the
    // destination's, so a row stamped in the margin but already equal is not written again. Read
    // first: a chunk with none most likely holds the same keys on both sides too.
    // Rows stamped only before the previous pass's snapshot (its margin, or none) most likely left
    // the chunk's key sets equal: one digest per side shows it, about half the work of the buckets.
    bool likely_equal = true;
    std::vector<std::string> candidates = *stamped_keys_where(source, t.source->name, source_keys, columns_,
                                                              conjunction(source_where, stamped(source)), seen_before_ms(), 0, seen_rows_,
                                                              likely_equal);

    c.source_rows = key_differences(source, dest, source_where, dest_where, likely_equal, diff);

    // A key found missing is read whole by the apply anyway: not compared twice.
    std::unordered_set<std::string> seen;
    for (const auto& k : diff.missing) seen.insert(k.key);
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(), [&](const std::string& k) { return seen.count(k) > 0; }),
                     candidates.end());
    c.rows_read = candidates.size() + diff.missing.size();
    std::vector<const std::string*> keys;
    for (const auto& k : candidates) keys.push_back(&k);
    for (size_t from = 0; from < keys.size(); from += kKeysPerRead) {
        const size_t to = std::min(keys.size(), from + kKeysPerRead);
        ChunkDiff part = comparer_.diff_where(source, dest, key_predicate(source, *t.source, source_keys, keys, from, to),
                                              key_predicate(dest, *t.dest, dest_keys, keys, from, to));
        for (auto& k : part.differs) diff.differs.push_back(std::move(k));
        for (auto& k : part.missing) diff.missing.push_back(std::move(k));  // a key in another chunk on the destination
    }
    if (!diff.differs.empty() || !diff.missing.empty() || !diff.extra.empty()) c.diff = std::move(diff);
    return c;
}

std::unique_ptr<ChangeFinder> change_finder_for(const TableComparer& comparer, std::optional<int64_t> snapshot_ms, const SeenRows* seen_rows) {
    const PlannedTable& t = comparer.table();
    std::vector<std::string> columns;
    for (const auto& name : change_columns(t.source->name))
        if (const Column* c = t.source->find_column(name); c && c->kind == ColumnKind::integer) columns.push_back(c->name);
    // Keys named as literals on both sides (the apply path needs them too) and at least one stamp.
    if (!snapshot_ms || columns.empty() || !comparer.literal_keys())
        return std::make_unique<DigestChangeFinder>(comparer);
    return std::make_unique<ChangeColumnsFinder>(comparer, std::move(columns), *snapshot_ms - SourceMoved::kMarginMs, seen_rows);
}

const char* finder_method(const ChangeFinder& finder) {
    return dynamic_cast<const ChangeColumnsFinder*>(&finder) ? "change_columns" : "digest";
}

}  // namespace mmmove::sync_detail
