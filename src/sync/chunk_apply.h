#pragma once
// One chunk of a sync (internal to sync): which keys changed, and putting them right on the destination.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/progress.h"
#include "sync/key_digest.h"
#include "sync/key_ledger.h"
#include "sync/seen_rows.h"
#include "transform/convert.h"
#include "verify/table_compare.h"

namespace mmmove::sync_detail {

// What a chunk's comparison found: the rows the source's side of the chunk holds, and the keys that
// differ (none when the chunk is equal).
struct ChunkChanges {
    uint64_t source_rows = 0;
    uint64_t rows_read = 0;  // source rows read whole to compare them (all of them on the digest path)
    std::optional<verify_detail::ChunkDiff> diff;
};

// Which keys of a chunk changed since the destination was filled. This is the seam for faster
// strategies per table (e.g. only rows whose UpdateAt moved, plus the keys either side lacks): any
// finder must return every key whose row differs, is missing or is extra, or the sync is not exact.
class ChangeFinder {
public:
    virtual ~ChangeFinder() = default;
    virtual ChunkChanges find(Database& source, Database& dest, size_t chunk) const = 0;
    // Tried once per table before its chunks: true only when the whole table is certainly equal on
    // both sides (its chunks are then not compared), with the rows the source holds in `source_rows`.
    // False proves nothing: every chunk is then compared with find(). (A finder may use this call to
    // narrow what its find() compares, and then count the table's rows here rather than per chunk.)
    virtual bool unchanged(Database&, Database&, uint64_t& source_rows) const {
        (void)source_rows;
        return false;
    }
    // How many find() calls (each one destination transaction) cover the table: 0 for its chunks, or
    // the parts the finder cuts its work into (the change stream's keys, in shares of their own). A
    // finder that cuts its own parts has its unchanged() tried first, also for one part.
    virtual size_t parts() const { return 0; }
    // After unchanged(): the digest of the source's keys on the pass's snapshot, when it computed one
    // of the whole table (what the destination's keys are once the pass ends: sync/key_ledger.h).
    virtual std::optional<TableKeyDigest> source_key_digest() const { return std::nullopt; }
    // After unchanged(): how the recorded digest served: "trusted" (the key sets were proved equal by
    // the source's digest alone), "differed" (both sides were compared), "" (none was used).
    virtual std::string ledger_use() const { return ""; }
};

// Version 1, correct for every table: both sides' chunk digests, then keys where they differ.
class DigestChangeFinder : public ChangeFinder {
public:
    explicit DigestChangeFinder(const verify_detail::TableComparer& comparer) : comparer_(comparer) {}
    ChunkChanges find(Database& source, Database& dest, size_t chunk) const override;

private:
    const verify_detail::TableComparer& comparer_;
};

// The fast path for a table with change columns, after a copy or sync whose snapshot moment T is known:
//   - changed or new rows: the source's rows of the chunk whose any change column is >= since_ms
//     (T less the skew margin), compared by key with the destination's;
//   - rows inserted with old stamps, and hard deletes: a digest of the chunk's keys alone on both
//     sides, computed by each server (sync/key_digest.h) from the primary key's index; where those
//     differ, the same per hash bucket, and the keys of the buckets that differ.
// A table of several chunks is first tried as a whole (unchanged(), change_columns.cpp): its stamped
// keys read through the change columns' indexes, one key digest per side for the whole table (or
// table-wide buckets where they differ) for the rest; its chunks then compare just those keys, in
// shares, each share one destination transaction. Where that would hold too many keys, the chunks scan.
// Limit: an update that changes no change column (Mattermost always bumps one, but a manual SQL edit
// may not) is invisible here. `sync --full` compares every row; `--verify` after a sync is the proof.
class ChangeColumnsFinder : public ChangeFinder {
public:
    // `seen_rows` (null: none; outlives the finder): on a PostgreSQL source, the rows the previous pass's
    // snapshot saw, which are not compared again however recently stamped.
    // `recorded` (null: none; outlives the finder): the table's key digest the previous pass recorded.
    ChangeColumnsFinder(const verify_detail::TableComparer& comparer, std::vector<std::string> source_change_columns, int64_t since_ms,
                        const SeenRows* seen_rows = nullptr, const TableKeyDigest* recorded = nullptr);
    ChunkChanges find(Database& source, Database& dest, size_t chunk) const override;
    bool unchanged(Database& source, Database& dest, uint64_t& source_rows) const override;
    std::optional<TableKeyDigest> source_key_digest() const override { return digest_; }
    std::string ledger_use() const override { return ledger_use_; }
    // A table of one chunk is checked whole first (one part) when the previous pass recorded its key digest.
    size_t parts() const override { return comparer_.table().chunk_count() == 1 && recorded_ ? 1 : 0; }

private:
    std::string stamped(Database& source) const;  // the SQL selecting rows stamped since since_ms_
    std::optional<std::pair<ServerKeyHasher, ServerKeyHasher>> hashers(Database& source, Database& dest) const;
    uint64_t key_differences(Database& source, Database& dest, const std::string& source_where, const std::string& dest_where,
                             bool likely_equal, verify_detail::ChunkDiff& diff) const;
    // The table-wide pass: the stamped keys (sorted; nullopt past the bound), those of them the
    // destination lacks, and the keys outside them that only one side holds (nullopt: too many).
    // `seen`: every stamped row's stamps are below seen_before_ms() (see change_columns.cpp).
    std::optional<std::vector<std::string>> stamped_keys(Database& source, bool& seen) const;
    std::vector<std::string> missing_on_dest(Database& dest, const std::vector<std::string>& keys) const;
    std::optional<std::vector<std::string>> table_key_differences(Database& source, Database& dest, const std::vector<std::string>& stamped,
                                                                  bool seen, uint64_t& source_rows) const;
    // table_key_differences' two ways: the servers' digests, or client-side ones. Each fills `s` and
    // `d` with the keys of the buckets that differ; true when the key sets are equal.
    std::optional<bool> server_differences(Database& source, Database& dest, const std::pair<ServerKeyHasher, ServerKeyHasher>& hashers,
                                           const std::vector<std::string>& stamped, bool seen, uint64_t& source_rows, std::vector<std::string>& s,
                                           std::vector<std::string>& d) const;
    std::optional<bool> client_differences(Database& source, Database& dest, const std::vector<std::string>& stamped,
                                           uint64_t& source_rows, std::vector<std::string>& s, std::vector<std::string>& d) const;
    // The recorded digest of the form `form`, or null (none, or another form).
    const TableKeyDigest* recorded(const char* form) const;
    size_t range_chars() const;
    // The previous pass's snapshot: rows stamped only before it were most likely read by that pass.
    int64_t seen_before_ms() const;

    const verify_detail::TableComparer& comparer_;
    std::vector<std::string> columns_;  // as the source names them
    int64_t since_ms_;
    const SeenRows* seen_rows_;
    const TableKeyDigest* recorded_;
    // Set by unchanged() (before any find(), read after the pass): the source's whole-table key digest,
    // and how the recorded one served.
    mutable std::optional<TableKeyDigest> digest_;
    mutable std::string ledger_use_;
    // Set by unchanged() when the table-wide pass found the keys to compare: find() then compares its
    // share of them (a StreamChangeFinder over them). Written before any find() runs (the chunks are
    // later jobs of the same pool), read-only after.
    mutable std::unique_ptr<ChangeFinder> by_keys_;
};

// The finder for a table: change columns when the table has them (and keys that can be named as
// literals) and `snapshot_ms`, the previous snapshot's moment, is known; else digests. `seen_rows`: as
// ChangeColumnsFinder's (used only on a PostgreSQL source).
std::unique_ptr<ChangeFinder> change_finder_for(const verify_detail::TableComparer& comparer, std::optional<int64_t> snapshot_ms,
                                                const SeenRows* seen_rows = nullptr, const KeyLedger* ledger = nullptr);
// "change_columns" or "digest", as the summary names a finder.
const char* finder_method(const ChangeFinder& finder);

// The SQL selecting the rows with keys [from, to) of `keys` (canonical keys) on `db`, by `columns`.
std::string key_predicate(Database& db, const std::vector<std::string>& columns, const std::vector<const std::string*>& keys, size_t from,
                          size_t to);

// The same, given the table `columns` belong to (as `db` names it): on PostgreSQL, where each key
// column's type allows, the keys as arrays joined by position (one plan whatever their number); else
// as above.
std::string key_predicate(Database& db, const Table& table, const std::vector<std::string>& columns,
                          const std::vector<const std::string*>& keys, size_t from, size_t to);
// How many keys one statement of key_predicate's names on `db`.
size_t keys_per_statement(const Database& db);

struct ChunkApplied {
    uint64_t inserted = 0, updated = 0, deleted = 0;
    uint64_t converted_values = 0;
    bool whole = false;  // the chunk was replaced whole (its keys cannot be named as literals)
    std::vector<std::string> report_lines;  // the values changed on the way, as copy's report lines
};

// Makes chunk `chunk` of the destination equal to the source's snapshot, given its differences, inside
// the caller's open transaction on `dest` (a loader connection). `progress` counts the rows written.
// `stage` (an incremental refresh's masks, as the comparer compared through) is what the rows are
// written through, or null.
ChunkApplied apply_chunk(Database& source, Database& dest, const verify_detail::TableComparer& comparer, size_t chunk,
                         const verify_detail::ChunkDiff& diff, const ConvertPolicy& policy, Progress& progress, size_t progress_index,
                         const LoadStage* stage = nullptr);

}  // namespace mmmove::sync_detail
