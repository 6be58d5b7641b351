#pragma once
// A final pass's proof that the source stood still, read from PostgreSQL's change stream instead of
// counted (sync/final_pass.h). Counting reads every table twice (a COUNT(*) of Posts inside the
// snapshot and on the present: seconds at 1 M posts, inside the downtime); the stream holds only what
// was written since, so reading it costs what the source wrote, nothing when it stood still.
//
// How: before the pass takes its snapshot S', a TEMPORARY logical slot (test_decoding) is created on a
// connection of its own that stays open for the whole pass (never the snapshot's). Once everything is
// written, the slot is peeked up to a flushed position read then, and only the transactions S' does not
// see (its xids, pg_current_snapshot inside S') are kept: one that changed (or truncated) a table of the
// plan means the source moved, and which tables and how many changes are reported as a count would.
//
// Invariant (why nothing is missed, sync/follow.h's base case): the slot is consistent before S' is
// taken, so every transaction S' does not see commits after the slot's start and is decoded by it; one
// that committed before the proof has its commit record before the flushed position read after it. A
// transaction S' sees is in the destination already (the pass made it equal to S'), whenever it
// committed, and is skipped.
//
// A MariaDB source with a readable row binlog (sync/follow_binlog.h): the binlog position of S'
// (Binlog_snapshot_file/position, exactly consistent with it) is read, and once everything is written
// the binlog is read from there to its present end: MariaDB writes a transaction to the binlog in
// commit order as it commits, so what lies past S''s position is exactly what S' does not see. Any rows
// event on a table of the plan means the source moved; a statement on the source's database (DDL,
// TRUNCATE, statement-format DML: which table it changed is not read) proves nothing: counting.
//
// Whatever stands in the way (MySQL, wal_level not logical, no REPLICATION right, no free slot,
// creation waiting on a long transaction past its bound, a stream line mmmove cannot read): the pass
// proves by counting, as before, with a one-line reason in the log; never an error. The slot goes with
// its connection (and is dropped at the end): it never outlives the pass.
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "catalog/catalog.h"
#include "db/binlog_reader.h"
#include "db/database.h"
#include "db/replication_slot.h"
#include "pipeline/planner.h"
#include "pipeline/source_moved.h"

namespace mmmove {

class StillnessStream {
public:
    // Creates the temporary slot on a new connection to `source` (PostgreSQL), bounded by
    // `create_timeout_s`, or checks that the binlog can be read (MariaDB); on any obstacle, why_not()
    // says why and the proof falls back to counting.
    StillnessStream(Database& source, std::ostream& log, bool quiet, int create_timeout_s = 5);
    ~StillnessStream();
    StillnessStream(const StillnessStream&) = delete;
    StillnessStream& operator=(const StillnessStream&) = delete;

    // Right after the pass's snapshot was taken, on its transaction `snapshot`: the xids it sees.
    void snapshot_taken(Database& snapshot);
    // Whether the stream can prove it (the slot exists and the snapshot's xids were read).
    bool usable() const { return conn_ && (current_ || binlog_at_); }
    std::string why_not() const { return why_not_; }
    // After everything is written: what the stream says of the plan's tables since the snapshot, or
    // nullopt (why_not() says why): prove it by counting. Drops the slot either way.
    std::optional<SourceMoved> measure(const Catalog& source, const CopyPlan& plan, int64_t snapshot_ms);

private:
    void give_up(const std::string& why);
    void drop();
    void start_binlog(Database& source);
    std::optional<SourceMoved> measure_binlog(const Catalog& source, const CopyPlan& plan, SourceMoved m);
    std::ostream& log_;
    bool quiet_;
    std::unique_ptr<Database> conn_;  // holds the temporary slot; never the snapshot's connection
    std::string slot_;
    std::optional<XidSnapshot> current_;
    std::optional<BinlogPosition> binlog_at_;  // a MariaDB source: S''s binlog position
    std::string why_not_;
};

}  // namespace mmmove
