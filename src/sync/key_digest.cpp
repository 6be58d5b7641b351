#include "sync/key_digest.h"

#include <algorithm>

#include "core/error.h"

namespace mmmove::sync_detail {
namespace {

// A whole number the server printed (data read back: checked to be one).
uint64_t whole_number(const std::optional<std::string>& v) {
    if (!v || v->empty() || v->size() > 19 || !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw Error(ExitCode::internal, "A key digest query returned a count or bucket that is not a whole number.");
    return std::stoull(*v);
}

ServerKeyDigest digest_of(const QueryRow& row, size_t from) {
    if (row.size() < from + 2) throw Error(ExitCode::internal, "A key digest query returned too few columns.");
    return {whole_number(row[from]), row[from + 1].value_or("")};
}

__extension__ using Int128 = __int128;

// A sum of 64-bit signed hashes the server printed (numeric, so exact): at most 2^63 times 2^64 keys in
// magnitude, which an Int128 holds.
Int128 sum_of(const std::string& v) {
    if (v.empty()) return 0;
    const bool negative = v[0] == '-';
    const size_t from = negative ? 1 : 0;
    if (v.size() == from || v.size() - from > 38 || !std::all_of(v.begin() + from, v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw Error(ExitCode::internal, "A key digest query returned a sum that is not a whole number.");
    Int128 n = 0;
    for (size_t i = from; i < v.size(); ++i) n = n * 10 + (v[i] - '0');
    return negative ? -n : n;
}

std::string text_of(Int128 n) {
    if (n == 0) return "0";
    const bool negative = n < 0;
    std::string out;
    for (; n != 0; n /= 10) out += char('0' + (negative ? -(n % 10) : n % 10));
    if (negative) out += '-';
    return {out.rbegin(), out.rend()};
}

}  // namespace

// An empty set's sum is "" (SQL's sum of no rows): kept so, so that a union with an empty set is
// spelled exactly as the server spells the same set.
ServerKeyDigest ServerKeyDigest::plus(const ServerKeyDigest& other) const {
    if (other.rows == 0) return *this;
    if (rows == 0) return other;
    return {rows + other.rows, text_of(sum_of(sum) + sum_of(other.sum))};
}

SerialPlans::SerialPlans(Database& db) {
    if (db.engine() != Engine::postgres) return;
    // The setting before, and the new one, in one round trip.
    const auto v = db.query("SELECT current_setting('max_parallel_workers_per_gather'), set_config('max_parallel_workers_per_gather', '0', false)");
    // Read back as data: put back only as a plain number (else as the session's default).
    std::string was = v.size() == 1 && !v[0].empty() && v[0][0] ? *v[0][0] : "";
    if (was.empty() || was.size() > 9 || !std::all_of(was.begin(), was.end(), [](char c) { return c >= '0' && c <= '9'; })) was = "DEFAULT";
    if (was == "0") return;
    db_ = &db;
    was_ = was;
}

SerialPlans::~SerialPlans() {
    if (!db_) return;
    try {
        db_->exec("SET max_parallel_workers_per_gather = " + was_);
    } catch (const std::exception&) {
        // A failed statement aborted the transaction; its rollback restores the setting anyway.
    }
}

GroupingMemory::GroupingMemory(Database& db) {
    if (db.engine() != Engine::postgres) return;
    const auto v = db.query("SELECT current_setting('work_mem'), set_config('work_mem', '64MB', false)");
    db_ = &db;
    if (v.size() == 1 && !v[0].empty() && v[0][0]) was_ = *v[0][0];
}

GroupingMemory::~GroupingMemory() {
    if (!db_) return;
    try {
        // The setting read back is data: put back as a quoted literal (the server checks it), or the default.
        if (was_.empty()) db_->exec("RESET work_mem");
        else db_->query("SELECT set_config('work_mem', " + db_->quote_literal(was_) + ", false)");
    } catch (const std::exception&) {
        // A failed statement aborted the transaction; its rollback restores the setting anyway.
    }
}

std::string all_rows(const Database& db) { return db.engine() == Engine::postgres ? "TRUE" : ""; }

std::optional<ServerKeyHasher> ServerKeyHasher::make(Database& db, const std::vector<std::string>& columns,
                                                     const std::vector<ColumnKind>& kinds) {
    if (db.engine() != Engine::postgres || columns.empty() || columns.size() != kinds.size()) return std::nullopt;
    // Each column hashed on its own, seeded with the hash of the columns before it: no text is built
    // per key, and column boundaries count (("ab", "c") is not ("a", "bc")). An integer is hashed as
    // a bigint, whatever width each side gives it.
    std::string hash = "0";
    for (size_t i = 0; i < columns.size(); ++i) {
        if (kinds[i] != ColumnKind::text && kinds[i] != ColumnKind::integer) return std::nullopt;
        const std::string c = db.quote_ident(columns[i]);
        // COLLATE "C": the hash of the bytes, whatever the column's collation (a case-insensitive one
        // would hash "A" as "a" and hide a key that changed case).
        hash = kinds[i] == ColumnKind::integer ? "hashint8extended(" + c + "::bigint, " + hash + ")"
                                               : "hashtextextended(" + c + "::text COLLATE \"C\", " + hash + ")";
    }
    return ServerKeyHasher(hash);
}

// Each key's hash as column h of a derived table; ONLY: the table's own rows, as a copy reads them.
std::string ServerKeyHasher::hashes(const std::string& table, const std::string& where, Database& db) const {
    return "(SELECT " + hash_ + " AS h FROM ONLY " + db.quote_ident(table) + (where.empty() ? "" : " WHERE " + where) + ") AS k";
}

// The sum of the hashes h, exactly as sum(h) spells it, from two sums of 32-bit halves: sum() of an
// int4 keeps a plain bigint per group, where sum() of a bigint keeps an arbitrary-precision state,
// so a grouped digest's hash table stays small (and in memory). h = hi * 2^32 + lo with hi = h >> 32
// (arithmetic) and lo = h & (2^32 - 1); lo less 2^31 fits an int4, added back per row counted.
// NULL (printed "") for no rows, as sum(h).
const char* const kSumOfHashes =
    "sum((h >> 32)::int4)::numeric * 4294967296 + sum(((h & 4294967295) - 2147483648)::int4)::numeric + count(*)::numeric * 2147483648";

ServerKeyDigest ServerKeyHasher::digest(Database& db, const std::string& table, const std::string& where) const {
    SerialPlans serial(db);
    auto rows = db.query(std::string("SELECT count(*), ") + kSumOfHashes + " FROM " + hashes(table, where, db));
    if (rows.size() != 1) throw Error(ExitCode::internal, "A key digest query of table " + table + " returned no row.");
    return digest_of(rows[0], 0);
}

std::map<uint64_t, ServerKeyDigest> ServerKeyHasher::bucket_digests(Database& db, const std::string& table, const std::string& where,
                                                                    uint64_t buckets) const {
    SerialPlans serial(db);
    GroupingMemory memory(db);
    auto rows = db.query("SELECT h & " + std::to_string(buckets - 1) + ", count(*), " + kSumOfHashes + " FROM " + hashes(table, where, db) +
                         " GROUP BY 1");
    std::map<uint64_t, ServerKeyDigest> out;
    for (const auto& row : rows) out[whole_number(row.at(0))] = digest_of(row, 1);
    return out;
}

// The group is the first `chars` characters of the column's text, compared as bytes (COLLATE "C": a
// case-insensitive collation would fold "A" into "a"'s group).
std::map<std::string, ServerKeyDigest> ServerKeyHasher::prefix_digests(Database& db, const std::string& table, const std::string& where,
                                                                       const std::string& column, size_t chars) const {
    SerialPlans serial(db);
    GroupingMemory memory(db);
    const std::string g = "left(" + db.quote_ident(column) + "::text COLLATE \"C\", " + std::to_string(chars) + ")";
    auto rows = db.query("SELECT g, count(*), " + std::string(kSumOfHashes) + " FROM (SELECT " + g + " AS g, " + hash_ + " AS h FROM ONLY " +
                         db.quote_ident(table) + (where.empty() ? "" : " WHERE " + where) + ") AS k GROUP BY 1");
    std::map<std::string, ServerKeyDigest> out;
    for (const auto& row : rows) {
        if (row.empty() || !row[0]) throw Error(ExitCode::internal, "A key digest query of table " + table + " returned a NULL group.");
        out[*row[0]] = digest_of(row, 1);
    }
    return out;
}

std::string ServerKeyHasher::in_buckets(const std::vector<uint64_t>& which, uint64_t buckets) const {
    std::string list;
    for (uint64_t b : which) list += (list.empty() ? "" : ", ") + std::to_string(b);
    return "(" + hash_ + " & " + std::to_string(buckets - 1) + ") IN (" + list + ")";
}

uint64_t buckets_for(uint64_t rows) {
    constexpr uint64_t kKeysPerBucket = 16, kSmallChunk = 4096, kMaxBuckets = uint64_t(1) << 14;
    if (rows < kSmallChunk) return 0;
    uint64_t n = 1;
    while (n < kMaxBuckets && n * kKeysPerBucket < rows) n <<= 1;
    return n;
}

uint64_t table_buckets_for(uint64_t rows) {
    constexpr uint64_t kKeysPerBucket = 16, kMaxBuckets = uint64_t(1) << 18;
    uint64_t n = 1;
    while (n < kMaxBuckets && n * kKeysPerBucket < rows) n <<= 1;
    return n;
}

}  // namespace mmmove::sync_detail
