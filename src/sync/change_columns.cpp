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

#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "pipeline/source_moved.h"
#include "sync/chunk_apply.h"
#include "sync/follow.h"
#include "sync/key_digest.h"
#include "sync/key_ranges.h"
#include "sync/key_sets.h"
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

// Whether reading the keys of `differing` of `buckets` table-wide buckets would cost more than the
// chunks' scan (over a quarter of them) or hold more keys than a table-wide pass may (about `rows`
// / `buckets` keys a bucket): the chunks then scan instead.
bool too_many(uint64_t differing, uint64_t rows, uint64_t buckets) {
    return differing * 4 > buckets || differing * std::max<uint64_t>(1, rows / buckets) > kMaxTableKeys;
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

}  // namespace

namespace {

TableKeyDigest ledger_entry(const ServerKeyDigest& d) { return {"pg", d.rows, d.sum}; }

// Whether a key's first column is text (its keys can then be read by ranges of it).
bool first_text(const Table& table, const std::vector<std::string>& columns) {
    const Column* c = columns.empty() ? nullptr : table.find_column(columns[0]);
    return c && c->kind == ColumnKind::text;
}
TableKeyDigest ledger_entry(const KeyDigest::Sum& d) { return {"xx", d.rows, std::to_string(d.lo) + ":" + std::to_string(d.hi)}; }

// A recorded client-side digest as a sum (its form checked when read: two whole 64-bit numbers).
KeyDigest::Sum sum_of(const TableKeyDigest& d) {
    const size_t colon = d.sum.find(':');
    return {d.rows, std::stoull(d.sum.substr(0, colon)), std::stoull(d.sum.substr(colon + 1))};
}

}  // namespace

ChangeColumnsFinder::ChangeColumnsFinder(const TableComparer& comparer, std::vector<std::string> source_change_columns, int64_t since_ms,
                                         const SeenRows* seen_rows, const TableKeyDigest* recorded)
    : comparer_(comparer), columns_(std::move(source_change_columns)), since_ms_(since_ms), seen_rows_(seen_rows), recorded_(recorded) {}

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
    // A table of one chunk: the source's digest of it is the table's, for the ledger.
    auto note = [&](TableKeyDigest digest) {
        if (t.chunk_count() == 1) digest_ = std::move(digest);
    };
    auto h = hashers(source, dest);
    if (!h) {  // client-side: each side's keys hashed as they arrive (and kept, up to a bound)
        KeyDigest s = key_digest(source, t.source->name, source_keys, source_where, n);
        KeyDigest d = key_digest(dest, t.dest->name, dest_keys, dest_where, n);
        note(ledger_entry(s.all));
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
        note(ledger_entry(s));
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
        note(ledger_entry(s));
        if (s == d) return s.rows;
    }
    // The bucket digests are the chunk's digest too: equal buckets everywhere, equal chunk.
    const auto s = sh.bucket_digests(source, t.source->name, source_where, n);
    const auto which = differing_buckets(s, dh.bucket_digests(dest, t.dest->name, dest_where, n));
    ServerKeyDigest all;
    for (const auto& [bucket, d] : s) all = all.plus(d);
    note(ledger_entry(all));
    const uint64_t rows = all.rows;
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
// old stamp, and hard deletes. With a digest the previous pass recorded (sync/key_ledger.h), the
// source's digest alone shows equal key sets: it equals the recorded one plus the stamped keys the
// destination lacks. Else equal key sets show in one digest per side, tried first when `seen` (no row
// stamped since the previous pass's snapshot: the sets most likely match) and then needing no look-up
// of the stamped keys on the destination. Else the source's keys are compared with the destination's
// plus the stamped keys it lacks: one digest per side when it lacks none, else table-wide buckets and
// the keys of the buckets that differ. nullopt when too many buckets differ (the chunks then scan).
// `source_rows`: the source's rows.
std::optional<std::vector<std::string>> ChangeColumnsFinder::table_key_differences(Database& source, Database& dest,
                                                                                   const std::vector<std::string>& stamped, bool seen,
                                                                                   uint64_t& source_rows) const {
    std::vector<std::string> s, d;  // the keys of the buckets that differ
    auto h = hashers(source, dest);
    const std::optional<bool> equal = h ? server_differences(source, dest, *h, stamped, seen, source_rows, s, d)
                                        : client_differences(source, dest, stamped, source_rows, s, d);
    if (!equal) return std::nullopt;
    if (*equal) return std::vector<std::string>{};
    std::vector<std::string> out;
    std::set_symmetric_difference(s.begin(), s.end(), d.begin(), d.end(), std::back_inserter(out));
    return out;
}

// Characters of the key groups the table-wide comparison reads by ranges (sync/key_ranges.h), 0 for
// hash buckets: where both sides' keys start with a text column.
size_t ChangeColumnsFinder::range_chars() const {
    const PlannedTable& t = comparer_.table();
    const bool text = first_text(*t.source, comparer_.key_columns(Side::source)) && first_text(*t.dest, comparer_.key_columns(Side::destination));
    return text ? prefix_chars_for(t.estimated_rows) : 0;
}

const TableKeyDigest* ChangeColumnsFinder::recorded(const char* form) const { return recorded_ && recorded_->form == form ? recorded_ : nullptr; }

// The servers' digests: with a recorded one the source's alone first, else both sides' whole digests
// when the sets most likely match, then table-wide buckets.
std::optional<bool> ChangeColumnsFinder::server_differences(Database& source, Database& dest,
                                                            const std::pair<ServerKeyHasher, ServerKeyHasher>& hashers,
                                                            const std::vector<std::string>& stamped, bool seen, uint64_t& source_rows,
                                                            std::vector<std::string>& s, std::vector<std::string>& d) const {
    const PlannedTable& t = comparer_.table();
    const uint64_t n = table_buckets_for(t.estimated_rows);
    const auto& [sh, dh] = hashers;
    auto whole = [&] {  // equal digests: equal key sets, so no stamped key is missing either
        auto [mine, other] = both([&] { return sh.digest(source, t.source->name, ""); }, [&] { return dh.digest(dest, t.dest->name, ""); });
        source_rows = mine.rows;
        digest_ = ledger_entry(mine);
        return mine == other;
    };
    const TableKeyDigest* r = recorded("pg");
    if (!r && seen && whole()) return true;
    const std::vector<std::string> missing = missing_on_dest(dest, stamped);
    std::vector<const std::string*> at;
    for (const auto& k : missing) at.push_back(&k);
    auto batch = [&](size_t from) { return key_predicate(source, comparer_.key_columns(Side::source), at, from, std::min(at.size(), from + kKeysPerRead)); };
    if (r) {  // the source's digest against the recorded one plus the stamped keys the destination lacks
        const ServerKeyDigest mine = sh.digest(source, t.source->name, "");
        ServerKeyDigest expected{r->rows, r->sum};
        for (size_t from = 0; from < at.size(); from += kKeysPerRead) expected = expected.plus(sh.digest(source, t.source->name, batch(from)));
        source_rows = mine.rows;
        digest_ = ledger_entry(mine);
        ledger_use_ = mine == expected ? "trusted" : "differed";
        if (mine == expected) return true;
    } else if (!seen && missing.empty() && whole()) {  // nothing inserted since the last pass: most likely no key set changed
        return true;
    }
    if (const size_t chars = range_chars()) {  // by ranges of the first key column (sync/key_ranges.h); else by hash buckets
        ServerKeyDigest all;
        auto found = server_range_differences({source, t.source->name, comparer_.key_columns(Side::source)},
                                              {dest, t.dest->name, comparer_.key_columns(Side::destination)}, sh, dh, missing, chars, all);
        source_rows = all.rows;
        digest_ = ledger_entry(all);
        if (found) {
            s = std::move(*found);  // already the keys only one side holds: d stays empty
            return s.empty();
        }
    }
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
    ServerKeyDigest all;
    for (const auto& [b, sum] : sb.first) all = all.plus(sum);
    source_rows = all.rows;
    digest_ = ledger_entry(all);
    if (which.empty()) return true;
    if (too_many(which.size(), source_rows, n)) return std::nullopt;
    std::tie(s, d) = both([&] { return keys_where(source, t.source->name, comparer_.key_columns(Side::source), sh.in_buckets(which, n)); },
                          [&] { return keys_where(dest, t.dest->name, comparer_.key_columns(Side::destination), dh.in_buckets(which, n)); });
    return false;
}

// Client-side: the source's keys streamed and hashed into buckets as they arrive, against the recorded
// digest or the destination's keys streamed alike.
std::optional<bool> ChangeColumnsFinder::client_differences(Database& source, Database& dest, const std::vector<std::string>& stamped,
                                                            uint64_t& source_rows, std::vector<std::string>& s, std::vector<std::string>& d) const {
    const PlannedTable& t = comparer_.table();
    const auto source_keys = comparer_.key_columns(Side::source), dest_keys = comparer_.key_columns(Side::destination);
    const uint64_t n = table_buckets_for(t.estimated_rows);
    KeyDigest sd, dd;
    if (const TableKeyDigest* r = recorded("xx")) {
        sd = key_digest(source, t.source->name, source_keys, "", n, false);
        KeyDigest::Sum expected = sum_of(*r);
        for (const auto& k : missing_on_dest(dest, stamped)) expected.add(key_hash(k));
        ledger_use_ = sd.all == expected ? "trusted" : "differed";
        if (sd.all == expected) {
            source_rows = sd.all.rows;
            digest_ = ledger_entry(sd.all);
            return true;
        }
    }
    if (const size_t chars = range_chars()) {  // by ranges of the first key column (sync/key_ranges.h); else by hash buckets
        KeyDigest::Sum all;
        auto found = client_range_differences({source, t.source->name, source_keys}, {dest, t.dest->name, dest_keys},
                                              [&] { return missing_on_dest(dest, stamped); }, chars, all);
        source_rows = all.rows;
        digest_ = ledger_entry(all);
        if (found) {
            s = std::move(*found);  // already the keys only one side holds: d stays empty
            return s.empty();
        }
    }
    if (recorded("xx")) {
        dd = key_digest(dest, t.dest->name, dest_keys, "", n, false);
    } else {
        std::tie(sd, dd) = both([&] { return key_digest(source, t.source->name, source_keys, "", n, false); },
                                [&] { return key_digest(dest, t.dest->name, dest_keys, "", n, false); });
    }
    source_rows = sd.all.rows;
    digest_ = ledger_entry(sd.all);
    if (sd.all == dd.all) return true;  // equal key sets (no stamped key missing either)
    for (const auto& k : missing_on_dest(dest, stamped)) {
        const XXH128_hash_t kh = key_hash(k);
        dd.all.add(kh);
        dd.buckets[bucket_of(kh.low64, n)].add(kh);
    }
    if (sd.all == dd.all) return true;
    const auto which = differing_buckets(sd, dd);
    if (too_many(static_cast<uint64_t>(std::count(which.begin(), which.end(), true)), source_rows, n)) return std::nullopt;
    std::tie(s, d) = both([&] { return keys_where(source, t.source->name, source_keys, "", which); },
                          [&] { return keys_where(dest, t.dest->name, dest_keys, "", which); });
    return false;
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
    // One chunk: find() reads no more than this, unless the previous pass recorded the table's key
    // digest (then the source's digest alone may show the key sets equal).
    if (t.chunk_count() < 2 && !recorded_) return false;
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

std::unique_ptr<ChangeFinder> change_finder_for(const TableComparer& comparer, std::optional<int64_t> snapshot_ms, const SeenRows* seen_rows,
                                                const KeyLedger* ledger) {
    const PlannedTable& t = comparer.table();
    std::vector<std::string> columns;
    for (const auto& name : change_columns(t.source->name))
        if (const Column* c = t.source->find_column(name); c && c->kind == ColumnKind::integer) columns.push_back(c->name);
    // Keys named as literals on both sides (the apply path needs them too) and at least one stamp.
    if (!snapshot_ms || columns.empty() || !comparer.literal_keys())
        return std::make_unique<DigestChangeFinder>(comparer);
    return std::make_unique<ChangeColumnsFinder>(comparer, std::move(columns), *snapshot_ms - SourceMoved::kMarginMs, seen_rows,
                                                 ledger ? ledger->find(lower(t.source->name)) : nullptr);
}

const char* finder_method(const ChangeFinder& finder) {
    return dynamic_cast<const ChangeColumnsFinder*>(&finder) ? "change_columns" : "digest";
}

}  // namespace mmmove::sync_detail
