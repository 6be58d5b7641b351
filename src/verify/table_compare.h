#pragma once
// One table's comparison (internal to verify): a chunk's digest on either side, the keys of the rows
// that differ in a chunk whose digests differ, and a description of one differing row.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/planner.h"
#include "transform/convert.h"
#include "transform/transform.h"
#include "verify/canonical.h"
#include "verify/verify.h"

namespace mmmove::verify_detail {

struct Hash128 {
    uint64_t lo = 0, hi = 0;
    bool operator==(const Hash128&) const = default;
};

// A chunk's rows on one side: their count and the sum of their row hashes (the same rows in any order
// give the same sum).
struct ChunkDigest {
    uint64_t rows = 0;
    Hash128 sum;
    uint64_t expected_changed = 0, expected_absent = 0;  // source rows the copy's report accounts for
    bool same_rows(const ChunkDigest& o) const { return rows == o.rows && sum == o.sum; }
};

// A row only one side has, by its canonical key, with its hash (to tell a row that moved to another
// chunk from a row that changed).
struct KeyedHash {
    std::string key;
    Hash128 hash;
    bool operator<(const KeyedHash& o) const { return key < o.key; }
};

struct ChunkDiff {
    std::vector<std::string> differs;  // canonical keys
    std::vector<KeyedHash> missing, extra;
    // A table whose key the stage masks, when its finder knows them: the source's own keys of the rows
    // named missing or differing, so a sync reads just those rows again (not its whole chunk).
    std::optional<std::vector<std::string>> source_keys;
    // When the comparer was asked to keep them (diff_where's keep_rows): the source's rows of the keys in
    // `differs` and `missing`, as read (the comparer's source columns, in the source's order), so a
    // sync writes them without reading them again. Empty values of an optional are SQL NULL.
    std::optional<std::vector<std::vector<std::optional<std::string>>>> source_rows;
};

class TableComparer {
public:
    // `stage` (an incremental refresh's masks) puts the source's rows through the stage and the edge
    // conversion (`policy`) before they are compared: both sides are then compared in the
    // destination's spelling, and rows the stage drops are not on the source's side. Null: as they are.
    TableComparer(const PlannedTable& table, Engine from, Engine to, const ExpectedChanges* expected,
                  const LoadStage* stage = nullptr, ConvertPolicy policy = {});
    ChunkDigest digest(Database& db, Side side, size_t chunk) const;
    ChunkDiff diff(Database& source, Database& dest, size_t chunk) const;
    // The same for the rows each side's predicate selects (SQL in that side's quoting; "" for all).
    // `keep_rows` (a table with a primary key, unstaged): the diff also holds the source's rows it names.
    ChunkDiff diff_where(Database& source, Database& dest, const std::string& source_where, const std::string& dest_where,
                         bool keep_rows = false) const;
    // The columns the source's rows are read by (those the destination also has), in the source's order.
    const std::vector<std::string>& source_columns() const { return source_columns_; }
    // Reads the row with this canonical key on both sides and names what differs.
    RowDifference describe(Database& source, Database& dest, const std::string& key, RowDifference::Kind kind) const;
    std::string shown_key(const std::string& key) const;  // "Id=…", secrets masked

    // For a sync, which applies a chunk's differences by key. The primary key's columns as `side` names
    // them (empty when the table has none the destination also holds: rows are matched whole).
    std::vector<std::string> key_columns(Side side) const;
    // True when every key value in a diff is the column's value as the server spells it (text, integers),
    // so it can be quoted as a literal to select that row on either side. False too when the stage
    // changes a key column: the destination's key does not name the source's row.
    bool literal_keys() const;
    // True when the key values in a diff are the values as the destination spells them (text,
    // integers), whether or not the stage masks a key column: a diff's key then names the destination's
    // row, and the source row a masked key came from is found by masking the source's rows again.
    bool literal_dest_keys() const;
    // A canonical key's values, in key_columns() order (nullopt for NULL).
    static std::vector<std::optional<std::string>> key_values(const std::string& key);
    // The canonical key of a row's key values as a literal-keyed table's reader returns them (the inverse).
    static std::string key_of(const FieldRow& values);
    // The SQL predicate selecting chunk `chunk` on `side` ("" for a whole-table chunk).
    std::string chunk_where(Database& db, Side side, size_t chunk) const;

    const PlannedTable& table() const { return table_; }
    bool compares_every_column() const { return dest_only_columns_.empty(); }
    const std::vector<std::string>& dest_only_columns() const { return dest_only_columns_; }
    // True when the source's rows are compared as the stage writes them (it has work on this table).
    bool staged() const { return stage_ != nullptr; }

private:
    friend class RowCanon;
    std::unique_ptr<RowReader> read(Database& db, Side side, const std::string& where) const;
    TransformChain stage_chain(const LoadStage& stage, ConvertPolicy policy) const;

    const PlannedTable& table_;
    Engine from_, to_;
    const ExpectedChanges* expected_;  // null when the report holds nothing of this table
    std::string name_;                 // lower-case source name, as ExpectedChanges keys tables
    std::vector<std::string> source_columns_, dest_columns_, lower_columns_;
    std::vector<Canon> canon_;
    std::vector<bool> secret_;
    std::vector<size_t> key_columns_;  // empty: no primary key; the whole row is its own key
    std::vector<std::string> dest_only_columns_;
    bool raw_lines_ = false;           // PostgreSQL on both sides, same types: hash COPY lines as they are
    const LoadStage* stage_ = nullptr; // set only when its chain for this table is not empty
    ConvertPolicy policy_;
    Engine source_spelling_;           // how the source side's rows are spelled when compared (to_ when staged)
    bool keys_kept_ = true;            // the stage leaves the key columns as they are
};

}  // namespace mmmove::verify_detail
