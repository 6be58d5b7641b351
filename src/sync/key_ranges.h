#pragma once
// sync's table-wide key comparison by key ranges (internal to change_columns.cpp). Where the key's
// first column is text, both sides' keys are digested per group of keys whose first column starts
// with the same few characters (count and hash sum per group, as the hash buckets of key_digest.h);
// the keys of the groups that differ are then read as ranges of the primary key's index (from the
// group's text to the next group's on that side), not by a second scan of the whole table with a
// hash filter. After 1 % of a large table changed, that reads a tenth of its keys instead of all.
//
// Nothing rests on the collation, nor on the keys looking like Mattermost's ids (rows are data): a
// key read by a range counts for a group only when its own first characters are the group's, and
// each group must then count exactly the keys its digest counted on that side; anything else (a
// collation whose order does not keep a prefix's keys together, an encoding whose characters the
// client counts otherwise, a row written meanwhile) makes the comparison give up (nullopt), and the
// caller compares by hash buckets instead. Skewed groups (a first column with few values) cost
// only time: where too many keys would be read, the same.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/database.h"
#include "sync/key_digest.h"
#include "sync/key_sets.h"  // both()

namespace mmmove::sync_detail {

// The first `chars` characters of a value as UTF-8 (a byte that does not continue a sequence starts
// a character, so any bytes have a prefix); PostgreSQL's left() on valid UTF-8.
std::string key_prefix(std::string_view value, size_t chars);

// Characters a group's prefix has for a table of about `rows` keys: groups of tens of keys where the
// first column's characters are spread like Mattermost's ids (32 of them), at most 32^4 groups; 0
// for a table small enough for the hash buckets alone.
size_t prefix_chars_for(uint64_t rows);

// One side of a table as the comparison reads it.
struct RangeSide {
    Database& db;
    std::string table;
    std::vector<std::string> keys;  // the primary key's columns, the first a text column
};

// The table-wide comparison of PostgreSQL to PostgreSQL, the servers digesting: the keys only one
// side holds besides `missing` (the stamped keys the destination lacks, sorted canonical keys, which
// count as the destination's). nullopt: not comparable so (see above). `source_all`: the digest of all
// the source's keys (the sum of its groups'), set whatever the answer.
std::optional<std::vector<std::string>> server_range_differences(const RangeSide& source, const RangeSide& dest, const ServerKeyHasher& sh,
                                                                  const ServerKeyHasher& dh, const std::vector<std::string>& missing,
                                                                  size_t chars, ServerKeyDigest& source_all);

// The same with the keys streamed and digested client-side (a MySQL/MariaDB side). `lacking` gives
// the stamped keys the destination lacks; it is called only when the key sets differ. `source_all`:
// the source's key count and the sums of its keys' xxhash halves (sync/key_sets.h's form).
std::optional<std::vector<std::string>> client_range_differences(const RangeSide& source, const RangeSide& dest,
                                                                  const std::function<std::vector<std::string>()>& lacking, size_t chars,
                                                                  KeyDigest::Sum& source_all);

}  // namespace mmmove::sync_detail
