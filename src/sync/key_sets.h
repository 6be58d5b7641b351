#pragma once
// Key sets of a table compared between the two sides without holding them (internal to sync's
// change-column path, change_columns.cpp): client-side digests of the keys as they stream, the
// buckets two digests differ in, and the keys of those buckets.
#include <xxhash.h>

#include <cstdint>
#include <future>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "db/database.h"
#include "sync/key_digest.h"

namespace mmmove::sync_detail {

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

inline XXH128_hash_t key_hash(const std::string& key) { return XXH3_128bits(key.data(), key.size()); }

// The digest of the keys of `table`'s rows that `where` selects ("" for all), in `buckets` buckets
// (0: none); with `keep`, the keys too, up to a bound.
KeyDigest key_digest(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where,
                     uint64_t buckets, bool keep = true);
// The keys a complete digest kept, sorted; with `only`, just those in the buckets it marks.
std::vector<std::string> kept_keys(const KeyDigest& d, const std::vector<bool>& only);
// Which buckets differ between two digests of as many buckets (all, when they have none).
std::vector<bool> differing_buckets(const KeyDigest& a, const KeyDigest& b);
// The buckets whose digests differ between the two sides (a bucket only one side has differs too).
std::vector<uint64_t> differing_buckets(const std::map<uint64_t, ServerKeyDigest>& a, const std::map<uint64_t, ServerKeyDigest>& b);
// The canonical keys `where` selects on one side, sorted; with `only`, just those in the buckets it
// marks. Memory: the keys kept.
std::vector<std::string> keys_where(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where,
                                    const std::vector<bool>& only = {});

// The source's part and the destination's of a table-wide comparison, at once: each reads only its own
// connection (the destination's on a thread of its own, joined before returning, also when either
// throws), so a large table's comparison takes the time of the slower side, not of both.
template <class SourceSide, class DestSide>
auto both(SourceSide source_side, DestSide dest_side) {
    auto dest_part = std::async(std::launch::async, dest_side);
    auto source_part = source_side();  // on a throw, dest_part's destructor waits for the thread
    return std::make_pair(std::move(source_part), dest_part.get());
}

}  // namespace mmmove::sync_detail
