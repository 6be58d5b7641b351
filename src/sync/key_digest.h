#pragma once
// Digests of a chunk's primary keys that the database server computes (internal to sync's change-column
// path, PostgreSQL to PostgreSQL): the keys then never cross the wire unless the two sides' digests
// differ. Each key's hash chains PostgreSQL's extended hash functions (those its hash partitioning
// uses, kept stable across versions) over its columns, each column's hash seeded with the one before:
// hashtextextended() of a text column's bytes (the "C" collation), hashint8extended() of an integer.
// A digest is the key count and the sum of the hashes, read back as decimal text. Primary-key columns are NOT NULL, so every key
// has a text. Equal digests mean equal key sets (a 64-bit sum would have to collide); digests that
// differ only because two servers hash differently cost time (the keys are then read and compared
// client-side, which is exact), never correctness.
//
// Measured at 200 k keys: on an all-visible table the server's hash sum costs about what counting the
// keys costs, a third of streaming them out; after a change has cleared the visibility map, the index
// scan's heap visits dominate and the two cost the same. MD5 (which MySQL/MariaDB share with
// PostgreSQL) costs more than streaming the keys on both engines, so other directions hash the keys
// client-side (change_columns.cpp), in the same buckets.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove::sync_detail {

struct ServerKeyDigest {
    uint64_t rows = 0;
    std::string sum;  // decimal text, "" for an empty set
    bool operator==(const ServerKeyDigest&) const = default;
    // The digest of the union of two disjoint key sets (the sums read back are checked to be whole numbers).
    ServerKeyDigest plus(const ServerKeyDigest& other) const;
};

// One side's key columns, hashed by that side's server.
class ServerKeyHasher {
public:
    // nullopt unless `db` is PostgreSQL and every key column is text or an integer.
    static std::optional<ServerKeyHasher> make(Database& db, const std::vector<std::string>& columns, const std::vector<ColumnKind>& kinds);

    // The digest of the keys of `table`'s rows that `where` selects ("" for all).
    ServerKeyDigest digest(Database& db, const std::string& table, const std::string& where) const;
    // The same per bucket (the hash's low bits; `buckets` is a power of two), empty buckets left out.
    std::map<uint64_t, ServerKeyDigest> bucket_digests(Database& db, const std::string& table, const std::string& where,
                                                       uint64_t buckets) const;
    // The same per group of keys whose `column` (a text column, the key's first) starts with the same
    // `chars` characters; the group's text is data the server printed.
    std::map<std::string, ServerKeyDigest> prefix_digests(Database& db, const std::string& table, const std::string& where,
                                                          const std::string& column, size_t chars) const;
    // The SQL selecting the rows whose keys fall into one of `which` of `buckets` buckets.
    std::string in_buckets(const std::vector<uint64_t>& which, uint64_t buckets) const;

private:
    explicit ServerKeyHasher(std::string hash) : hash_(std::move(hash)) {}
    std::string hashes(const std::string& table, const std::string& where, Database& db) const;

    std::string hash_;  // the SQL of one key's 64-bit hash
};

// While alive, `db`'s statements plan without parallel workers (PostgreSQL; nothing on MySQL). A key
// digest is a few tens of milliseconds of one process's work on an index-only scan; starting workers
// (new processes, each warming its caches) cost more than they saved: at 200 k posts a digest took
// 89-200 ms with two workers and 24-31 ms without. The setting is the session's, put back on leaving.
class SerialPlans {
public:
    explicit SerialPlans(Database& db);
    ~SerialPlans();
    SerialPlans(const SerialPlans&) = delete;
    SerialPlans& operator=(const SerialPlans&) = delete;

private:
    Database* db_ = nullptr;  // null: nothing to put back
    std::string was_;         // the session's setting before: a number, or DEFAULT
};

// While alive, `db`'s statements may hold 64 MB per hash table (PostgreSQL's work_mem; nothing on
// MySQL). A grouped digest of a large table has tens of thousands of groups, which the planner cannot
// count beforehand: at the default 4 MB it planned 1 M groups and spilled 30 MB to disk at 1 M posts.
// The setting is the session's, put back on leaving.
class GroupingMemory {
public:
    explicit GroupingMemory(Database& db);
    ~GroupingMemory();
    GroupingMemory(const GroupingMemory&) = delete;
    GroupingMemory& operator=(const GroupingMemory&) = delete;

private:
    Database* db_ = nullptr;  // null: nothing to put back
    std::string was_;         // the session's setting before ("" : the default)
};

// The WHERE text selecting every row of a table to read its keys by: "TRUE" on PostgreSQL, whose
// read_where() copies a whole table with COPY TABLE (always the table's pages) but a query with a
// WHERE through the planner, which reads the keys from an index alone where the table's visibility
// map allows; "" on MySQL/MariaDB, whose optimizer already reads a covered query from its smallest index.
std::string all_rows(const Database& db);

// Buckets for a chunk of about `rows` keys: a power of two near one bucket for 16 keys (at most 16 K),
// so a change touches few buckets and only their keys are read; 0 when the chunk is small enough to
// read all its keys where it differs.
uint64_t buckets_for(uint64_t rows);
// Buckets for a whole table's keys (the table-wide pass, stamped_keys.cpp): as buckets_for, up to 256 K,
// so that the few keys an update pass deletes outright touch few buckets of a large table.
uint64_t table_buckets_for(uint64_t rows);
// The bucket of a 64-bit key hash, as bucket_digests() computes it on the server.
inline uint64_t bucket_of(uint64_t hash, uint64_t buckets) { return hash & (buckets - 1); }

}  // namespace mmmove::sync_detail
