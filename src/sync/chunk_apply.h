#pragma once
// One chunk of a sync (internal to sync): which keys changed, and putting them right on the destination.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/progress.h"
#include "transform/convert.h"
#include "verify/table_compare.h"

namespace mmmove::sync_detail {

// What a chunk's comparison found: the rows the source's side of the chunk holds, and the keys that
// differ (none when the chunk is equal).
struct ChunkChanges {
    uint64_t source_rows = 0;
    std::optional<verify_detail::ChunkDiff> diff;
};

// Which keys of a chunk changed since the destination was filled. This is the seam for faster
// strategies per table (e.g. only rows whose UpdateAt moved, plus the keys either side lacks): any
// finder must return every key whose row differs, is missing or is extra, or the sync is not exact.
class ChangeFinder {
public:
    virtual ~ChangeFinder() = default;
    virtual ChunkChanges find(Database& source, Database& dest, size_t chunk) const = 0;
};

// Version 1, correct for every table: both sides' chunk digests, then keys where they differ.
class DigestChangeFinder : public ChangeFinder {
public:
    explicit DigestChangeFinder(const verify_detail::TableComparer& comparer) : comparer_(comparer) {}
    ChunkChanges find(Database& source, Database& dest, size_t chunk) const override;

private:
    const verify_detail::TableComparer& comparer_;
};

// The finder for a table: every table uses digests for now.
std::unique_ptr<ChangeFinder> change_finder_for(const verify_detail::TableComparer& comparer);

struct ChunkApplied {
    uint64_t inserted = 0, updated = 0, deleted = 0;
    uint64_t converted_values = 0;
    bool whole = false;  // the chunk was replaced whole (its keys cannot be named as literals)
    std::vector<std::string> report_lines;  // the values changed on the way, as copy's report lines
};

// Makes chunk `chunk` of the destination equal to the source's snapshot, given its differences, inside
// the caller's open transaction on `dest` (a loader connection). `progress` counts the rows written.
ChunkApplied apply_chunk(Database& source, Database& dest, const verify_detail::TableComparer& comparer, size_t chunk,
                         const verify_detail::ChunkDiff& diff, const ConvertPolicy& policy, Progress& progress, size_t progress_index);

}  // namespace mmmove::sync_detail
