#include "sync/key_sets.h"

#include <algorithm>

#include "verify/table_compare.h"

namespace mmmove::sync_detail {

namespace {

using verify_detail::TableComparer;

constexpr size_t kKeptBytes = size_t(8) << 20;  // the keys a digest keeps at most

}  // namespace

KeyDigest key_digest(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where,
                     uint64_t buckets, bool keep) {
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

// Which buckets differ between two digests of as many buckets (all, when they have none).
std::vector<bool> differing_buckets(const KeyDigest& a, const KeyDigest& b) {
    std::vector<bool> out(a.buckets.size());
    for (size_t i = 0; i < a.buckets.size() && i < b.buckets.size(); ++i) out[i] = !(a.buckets[i] == b.buckets[i]);
    return out;
}

// The canonical keys `where` selects on one side, sorted; with `only`, just those in the buckets it
// marks. Memory: the keys kept.
std::vector<std::string> keys_where(Database& db, const std::string& table, const std::vector<std::string>& columns, const std::string& where,
                                    const std::vector<bool>& only) {
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

}  // namespace mmmove::sync_detail
