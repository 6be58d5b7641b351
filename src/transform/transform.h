#pragma once
// The transform stage of the pipeline. Between reading a source row and writing it, each table has a
// chain of transforms: the merge's ID remap, later anonymisation, and last the engine-edge conversion
// (transform/convert.h). A transform sees a row together with its column names, and may leave it as it
// is, change values, or drop the row (a user the destination already has is not written again).
//
// Rows stay views into the reader's buffers: a transform that changes a value keeps the new bytes in
// its own storage until its next call, when the row has been written. A chain is built per chunk, so
// transforms need no locks.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"

namespace mmmove {

class RowConverter;
class ChunkIssues;
struct PlannedTable;

// The names of a row's columns, in the order the reader returns them; found in either case.
class RowColumns {
public:
    explicit RowColumns(std::vector<std::string> names);
    const std::vector<std::string>& names() const { return names_; }
    size_t size() const { return names_.size(); }
    int find(std::string_view name) const;  // -1 when the row has no such column

private:
    std::vector<std::string> names_, lower_;
};

class Transform {
public:
    enum class Result { unchanged, changed, drop };
    virtual ~Transform() = default;
    virtual Result apply(FieldRow& row) = 0;
};

// One table's transforms for one chunk, applied in order; the first drop ends the row's way.
class TransformChain {
public:
    void add(std::unique_ptr<Transform> t) { links_.push_back(std::move(t)); }
    bool empty() const { return links_.empty(); }
    // False when a transform dropped the row (counted in dropped()).
    bool apply(FieldRow& row);
    uint64_t dropped() const { return dropped_; }
    uint64_t changed() const { return changed_; }

private:
    std::vector<std::unique_ptr<Transform>> links_;
    uint64_t dropped_ = 0, changed_ = 0;
};

// Where a chunk's rows go once transformed.
struct WritePlan {
    enum class Kind {
        insert,         // straight into the table
        skip_existing,  // rows whose key (or another unique key) is already there are left out
        hold,           // into `hold_table` on the destination, settled once every chunk is in
    };
    Kind kind = Kind::insert;
    std::string hold_table;
    // skip_existing and hold: where the load saves the destination's own rows it found under a key it
    // writes, as they were before the load (empty: not saved). What verify compares those keys with.
    std::string kept_table;
};

// One row's values in the destination's spelling (null: SQL NULL).
using RowValues = std::vector<std::optional<std::string>>;

// What a merge (or an anonymised refresh) adds to loading a table: the chain before the edge
// conversion, and where the rows go. Shared by every worker: both calls must be thread-safe.
class LoadStage {
public:
    virtual ~LoadStage() = default;
    virtual TransformChain chain(const PlannedTable& table, const RowColumns& columns, ChunkIssues& issues) const = 0;
    virtual WritePlan write_plan(const PlannedTable& table) const = 0;
    // Verify: turns `row`, a source row as the stage and the edge conversion wrote it (columns: the
    // destination's), into the row the load meant the destination to hold under its key. `kept` is the
    // destination's own row under that key before the load (WritePlan::kept_table), or null. By
    // default the destination's own row wins: nothing is updated.
    virtual void expect(const PlannedTable& table, const std::vector<std::string>& columns, RowValues& row, const RowValues* kept) const {
        (void)table, (void)columns;
        if (kept) row = *kept;
    }
    // For a sync through the stage (an incremental refresh). A keyed fingerprint of everything that
    // decides what the stage writes (never its key): equal fingerprints, equal rows. "" when the stage
    // cannot promise that, and then nothing is synced through it.
    virtual std::string fingerprint() const { return ""; }
    // True when every column of `table`'s primary key (and the planner's chunk key) leaves the stage
    // as it came: a source row's key names the destination's row. False makes a sync rewrite the table
    // whole whenever it differs.
    virtual bool keeps_keys(const PlannedTable& table) const {
        (void)table;
        return false;
    }
    // True when `column` of `table` leaves the stage as it came ("" : no column, true).
    virtual bool keeps_column(const PlannedTable& table, const std::string& column) const {
        (void)table;
        return column.empty();
    }
    // True when the stage writes every source row of `table` (drops none): only then can a sync find
    // the table's inserts and deletes by the source's keys alone (the change-column fast path).
    virtual bool keeps_rows(const PlannedTable& table) const {
        (void)table;
        return false;
    }
    // True when the stage writes every source row of `table` and masks each column by its own value
    // alone: a chain over the primary key's columns only then gives the key the whole row is written
    // under, so a sync can find inserts and deletes by masked keys without reading whole rows.
    virtual bool masks_keys_alone(const PlannedTable& table) const {
        (void)table;
        return false;
    }
};

}  // namespace mmmove
