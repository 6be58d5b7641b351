#include "sync/key_ranges.h"

#include <xxhash.h>

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "sync/chunk_apply.h"
#include "transform/convert.h"
#include "verify/table_compare.h"

namespace mmmove::sync_detail {
namespace {

using verify_detail::TableComparer;

constexpr size_t kGroupsPerRead = 200;   // ranges per statement of UNION ALL arms (MySQL/MariaDB)
constexpr size_t kRangesPerArray = 2000;  // ranges per statement on PostgreSQL (two arrays of their texts)
constexpr size_t kKeysPerRead = 500;     // stamped keys per digest of those the destination lacks
constexpr uint64_t kMaxRangeKeys = 200000;  // keys both sides' ranges may hold at most (about 100 bytes each)

// The labels of the groups whose digests differ (a group only one side has differs too), in order.
template <class D>
std::vector<std::string> differing(const std::map<std::string, D>& a, const std::map<std::string, D>& b) {
    std::vector<std::string> out;
    for (const auto& [g, d] : a)
        if (auto it = b.find(g); it == b.end() || !(it->second == d)) out.push_back(g);
    for (const auto& [g, d] : b)
        if (!a.count(g)) out.push_back(g);
    std::sort(out.begin(), out.end());
    return out;
}

using Counts = std::map<std::string, uint64_t>;

template <class D, class RowsOf>
Counts counts_of(const std::map<std::string, D>& digests, RowsOf rows_of) {
    Counts out;
    for (const auto& [g, d] : digests) out.emplace_hint(out.end(), g, rows_of(d));
    return out;
}

// Whether a group's text may be sent to `db` as a literal: PostgreSQL's text holds no NUL byte and no
// invalid UTF-8 (a label that is not so is not compared by ranges at all).
bool sendable(Database& db, const std::string& text) { return db.engine() != Engine::postgres || (!has_nul(text) && valid_utf8(text)); }

// One UNION ALL arm: the keys of the rows from `group`'s text up to `next`'s (none: to the end), its
// number first. On PostgreSQL, the table's own rows (ONLY) and the prefix tested by the server too.
std::string arm(const RangeSide& side, size_t number, const std::string& group, const std::string* next, size_t chars) {
    Database& db = side.db;
    const std::string first = db.quote_ident(side.keys[0]);
    const bool pg = db.engine() == Engine::postgres;
    std::string sql = "SELECT " + std::to_string(number) + " AS g, " + db.column_list(side.keys) + " FROM " + (pg ? "ONLY " : "") +
                      db.quote_ident(side.table) + " WHERE " + first + " >= " + db.quote_literal(group);
    if (next) sql += " AND " + first + " < " + db.quote_literal(*next);
    if (pg) sql += " AND left(" + first + "::text COLLATE \"C\", " + std::to_string(chars) + ") = " + db.quote_literal(group);
    return sql;
}

// A PostgreSQL text[] literal of `values` (each double-quoted, \ and " escaped, the whole quoted).
std::string text_array(Database& db, const std::vector<const std::string*>& values) {
    std::string out = "{";
    for (const std::string* v : values) {
        out += (out.size() > 1 ? ",\"" : "\"");
        for (char c : *v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return db.quote_literal(out + "}") + "::text[]";
}

// PostgreSQL: ranges `from`..`to` (each with a next group) in one statement of one plan: the groups'
// texts as arrays, each range an index-only scan of the primary key (OFFSET 0 keeps the planner from
// turning the lateral join into a hash join over the whole table). 200 ranges of 30 keys: 50 ms,
// against 150 ms for as many UNION ALL arms, planned one by one.
template <class Range>
std::string lateral(const RangeSide& side, const std::vector<Range>& ranges, size_t from, size_t to, size_t chars) {
    Database& db = side.db;
    std::vector<const std::string*> lo, hi;
    for (size_t i = from; i < to; ++i) lo.push_back(ranges[i].group), hi.push_back(ranges[i].next);
    const std::string first = "x." + db.quote_ident(side.keys[0]);
    std::string inner, outer;
    for (const auto& k : side.keys) inner += (inner.empty() ? "x." : ", x.") + db.quote_ident(k), outer += ", k." + db.quote_ident(k);
    return "SELECT r.n - 1 + " + std::to_string(from) + outer + " FROM unnest(" + text_array(db, lo) + ", " + text_array(db, hi) +
           ") WITH ORDINALITY AS r(lo, hi, n) CROSS JOIN LATERAL (SELECT " + inner + " FROM ONLY " + db.quote_ident(side.table) + " AS x WHERE " +
           first + " >= r.lo AND " + first + " < r.hi AND left(" + first + "::text COLLATE \"C\", " + std::to_string(chars) +
           ") = r.lo OFFSET 0) AS k";
}

// The statements reading `ranges`: on PostgreSQL those with a next group by lateral(), a last one by
// an arm of its own; on MySQL/MariaDB (no lateral join) UNION ALLs of arms.
template <class Range>
std::vector<std::string> range_reads(const RangeSide& side, const std::vector<Range>& ranges, size_t chars) {
    std::vector<std::string> out;
    const bool pg = side.db.engine() == Engine::postgres;
    const size_t per = pg ? kRangesPerArray : kGroupsPerRead;
    for (size_t from = 0; from < ranges.size(); from += per) {
        const size_t to = std::min(ranges.size(), from + per);
        std::string sql;
        size_t lateral_to = from;
        if (pg)
            while (lateral_to < to && ranges[lateral_to].next) ++lateral_to;
        if (lateral_to > from) out.push_back(lateral(side, ranges, from, lateral_to, chars));
        for (size_t i = lateral_to; i < to; ++i) sql += (sql.empty() ? "" : " UNION ALL ") + arm(side, i, *ranges[i].group, ranges[i].next, chars);
        if (!sql.empty()) out.push_back(sql);
    }
    return out;
}

// The canonical keys of groups `which` on one side, sorted: each group read as a range of the first
// key column, up to the next group this side holds (`counts`: every group of this side and its
// rows). nullopt unless every group read back exactly the keys its digest counted.
std::optional<std::vector<std::string>> keys_in_groups(const RangeSide& side, const std::vector<std::string>& which, const Counts& counts,
                                                       size_t chars) {
    struct Range {
        const std::string* group;
        const std::string* next;
        uint64_t expected, got = 0;
    };
    std::vector<Range> ranges;
    for (const auto& g : which) {
        auto it = counts.find(g);
        if (it == counts.end()) continue;  // none of this side's keys are in it
        auto after = std::next(it);
        if (!sendable(side.db, g) || (after != counts.end() && !sendable(side.db, after->first))) return std::nullopt;
        ranges.push_back({&it->first, after == counts.end() ? nullptr : &after->first, it->second});
    }
    std::vector<std::string> keys;
    SerialPlans serial(side.db);
    FieldRow key;
    for (const auto& sql : range_reads(side, ranges, chars)) {
        for (const auto& row : side.db.query(sql)) {
            if (row.size() != side.keys.size() + 1 || !row[0] || !row[1])
                throw Error(ExitCode::internal, "A read of " + side.table + "'s keys by ranges returned a row of another width.");
            const std::string& n = *row[0];
            size_t i = 0;
            if (n.empty() || n.size() > 9 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
                (i = std::stoul(n)) >= ranges.size())
                throw Error(ExitCode::internal, "A read of " + side.table + "'s keys by ranges returned a range it was not asked for.");
            // A row of the range whose own prefix is another group's (a collation's order) is not this group's.
            if (key_prefix(*row[1], chars) != *ranges[i].group) continue;
            ++ranges[i].got;
            key.clear();
            for (size_t c = 1; c < row.size(); ++c) key.push_back(row[c] ? Field::of(*row[c]) : Field{});
            keys.push_back(TableComparer::key_of(key));
        }
    }
    for (const auto& r : ranges)
        if (r.got != r.expected) return std::nullopt;
    std::sort(keys.begin(), keys.end());
    return keys;
}

// The keys only one side holds, given both sides' digests (`dplus`: the destination's with the
// stamped keys it lacks added) and each side's own counts.
template <class D>
std::optional<std::vector<std::string>> range_differences(const RangeSide& source, const RangeSide& dest, const std::map<std::string, D>& s,
                                                          const std::map<std::string, D>& dplus, const Counts& sc, const Counts& dc,
                                                          size_t chars) {
    const auto which = differing(s, dplus);
    if (which.empty()) return std::vector<std::string>{};
    uint64_t reads = 0;
    for (const auto& g : which) {
        if (auto it = sc.find(g); it != sc.end()) reads += it->second;
        if (auto it = dc.find(g); it != dc.end()) reads += it->second;
    }
    // Too many to read by ranges (a quarter of the groups, or more keys than a table-wide pass holds).
    if (which.size() * 4 > std::max(sc.size(), dc.size()) || reads > kMaxRangeKeys) return std::nullopt;
    auto [a, b] = both([&] { return keys_in_groups(source, which, sc, chars); }, [&] { return keys_in_groups(dest, which, dc, chars); });
    if (!a || !b) return std::nullopt;
    std::vector<std::string> out;
    std::set_symmetric_difference(a->begin(), a->end(), b->begin(), b->end(), std::back_inserter(out));
    return out;
}

// Per group, a side's keys counted and their 128-bit hashes summed (client-side).
struct GroupSum {
    uint64_t rows = 0, lo = 0, hi = 0;
    bool operator==(const GroupSum&) const = default;
};
using GroupSums = std::map<std::string, GroupSum>;

void add(GroupSum& s, const XXH128_hash_t& h) { ++s.rows, s.lo += h.low64, s.hi += h.high64; }

// Every key of a side, streamed: its groups' sums, and the whole set's.
std::pair<GroupSums, GroupSum> client_group_sums(const RangeSide& side, size_t chars) {
    std::unordered_map<std::string, GroupSum> groups;
    GroupSum all;
    SerialPlans serial(side.db);
    auto reader = side.db.read_where(side.table, side.keys, all_rows(side.db));
    FieldRow row;
    std::string label;
    while (reader->next(row)) {
        if (row.empty()) throw Error(ExitCode::internal, "A read of " + side.table + "'s keys returned an empty row.");
        const std::string key = TableComparer::key_of(row);
        const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
        add(all, h);
        label = key_prefix(row[0].view(), chars);
        add(groups[label], h);
    }
    return {GroupSums(groups.begin(), groups.end()), all};
}

// Adds canonical keys (as TableComparer::key_of prints them) to a side's sums.
void add_keys(GroupSums& sums, GroupSum& all, const std::vector<std::string>& keys, size_t chars) {
    for (const auto& k : keys) {
        const XXH128_hash_t h = XXH3_128bits(k.data(), k.size());
        const auto values = TableComparer::key_values(k);
        add(all, h);
        add(sums[values.empty() || !values[0] ? std::string() : key_prefix(*values[0], chars)], h);
    }
}

}  // namespace

std::string key_prefix(std::string_view value, size_t chars) {
    size_t end = 0, seen = 0;
    for (; end < value.size(); ++end) {
        const bool continues = (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80;
        if (!continues && seen++ == chars) break;
    }
    return std::string(value.substr(0, end));
}

size_t prefix_chars_for(uint64_t rows) {
    constexpr uint64_t kKeysPerGroup = 64, kAlphabet = 32;
    if (rows < 4096) return 0;
    size_t chars = 2;
    uint64_t groups = kAlphabet * kAlphabet;
    while (chars < 3 && groups * kKeysPerGroup < rows) ++chars, groups *= kAlphabet;
    if (rows > groups * 4 * kKeysPerGroup) ++chars;  // past 8 M keys: 32^4 groups
    return chars;
}

std::optional<std::vector<std::string>> server_range_differences(const RangeSide& source, const RangeSide& dest, const ServerKeyHasher& sh,
                                                                  const ServerKeyHasher& dh, const std::vector<std::string>& missing,
                                                                  size_t chars, ServerKeyDigest& source_all) {
    std::vector<const std::string*> at;
    for (const auto& k : missing) at.push_back(&k);
    using Digests = std::map<std::string, ServerKeyDigest>;
    auto [sm, d] = both(
        [&] {  // the source's groups, and those of the stamped keys the destination lacks, to add to the destination's
            Digests m;
            for (size_t from = 0; from < at.size(); from += kKeysPerRead) {
                const std::string batch = key_predicate(source.db, source.keys, at, from, std::min(at.size(), from + kKeysPerRead));
                for (const auto& [g, part] : sh.prefix_digests(source.db, source.table, batch, source.keys[0], chars)) m[g] = m[g].plus(part);
            }
            return std::make_pair(sh.prefix_digests(source.db, source.table, "", source.keys[0], chars), std::move(m));
        },
        [&] { return dh.prefix_digests(dest.db, dest.table, "", dest.keys[0], chars); });
    const auto& s = sm.first;
    source_all = {};
    for (const auto& [g, sum] : s) source_all = source_all.plus(sum);
    Digests dplus = d;
    for (const auto& [g, m] : sm.second) dplus[g] = dplus[g].plus(m);
    auto rows = [](const ServerKeyDigest& x) { return x.rows; };
    return range_differences(source, dest, s, dplus, counts_of(s, rows), counts_of(d, rows), chars);
}

std::optional<std::vector<std::string>> client_range_differences(const RangeSide& source, const RangeSide& dest,
                                                                  const std::function<std::vector<std::string>()>& lacking, size_t chars,
                                                                  KeyDigest::Sum& source_all) {
    auto [s, d] = both([&] { return client_group_sums(source, chars); }, [&] { return client_group_sums(dest, chars); });
    source_all = {s.second.rows, s.second.lo, s.second.hi};
    if (s.second == d.second) return std::vector<std::string>{};  // equal key sets (no stamped key missing either)
    GroupSums dplus = d.first;
    GroupSum all = d.second;
    add_keys(dplus, all, lacking(), chars);
    if (s.second == all) return std::vector<std::string>{};
    auto rows = [](const GroupSum& x) { return x.rows; };
    return range_differences(source, dest, s.first, dplus, counts_of(s.first, rows), counts_of(d.first, rows), chars);
}

}  // namespace mmmove::sync_detail
