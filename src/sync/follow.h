#pragma once
// Following a PostgreSQL source's change stream (a MariaDB source's row binlog: sync/follow_binlog.h) (opt-in: `copy --follow`, a move job's `follow: true`),
// so a sync compares only the keys that changed instead of scanning every key.
//
// How: `copy --follow` creates a logical replication slot (test_decoding) on the source BEFORE it
// takes its snapshot, and records in the destination the slot, its position and the snapshot's
// transaction ids (pg_current_snapshot: xmin, xmax, in-progress list). A sync then takes its own
// snapshot S', peeks the slot's changes up to a flushed position past every commit S' sees, keeps the
// primary keys of the transactions the recorded snapshot S did not see (hints, never values),
// compares and writes those keys through the by-key machinery, and once everything is written
// advances the slot to the end of the last transaction before the first one S' does not see, then
// records S' and the slot's new position.
//
// Invariant (why nothing is missed): after a pass that read snapshot S, the destination equals S,
// and every transaction S does not see is still in the slot (its commit lies after the slot's
// confirmed position). Base: the slot was created (and is consistent) before the copy's snapshot, so
// every transaction the copy's snapshot does not see committed after the slot's start and is decoded.
// Step: the rows where S' differs from S are exactly those written by transactions S' sees and S does
// not; each is in the slot (invariant), committed before S' was taken, so its commit record lies
// before the flushed position read after S' (a commit is in the WAL before it becomes visible, and the
// position is flushed before decoding reads up to it, also under synchronous_commit = off): its keys
// are hinted. The slot advances only past transactions S' sees, in commit order, so every transaction
// S' does not see stays in it. An LSN next to a snapshot would not do: a transaction can have written
// its commit record and still be invisible to a snapshot taken just after; xids say exactly.
// Transactions S already saw are skipped (their rows are in the destination); a hint for a key that
// did not change costs one comparison, never a write.
//
// Everything read back (the record, the slot) is data: a record without mmmove's form, a slot that is
// gone, invalidated, of another plugin or moved by someone else (its position is not the recorded
// one), a stream line mmmove cannot read, TRUNCATE, a key of an unusual type or too many keys: that
// table, or the pass, scans as without following (correct, just slower), with a one-line reason.
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/replication_slot.h"
#include "sync/chunk_apply.h"
#include "pipeline/follow_start.h"
#include "pipeline/follow_state.h"
#include "sync/follow_stream.h"

namespace mmmove {

namespace sync_detail {

// The stream's keys of one table as a ChangeFinder: chunk i compares the i-th share of the keys (by
// key, wherever they lie: apply_chunk writes by key), so each share is one destination transaction.
// Shares are cut by the number of keys, not by the table's chunks, so that the workers write a
// table's changed rows side by side; a table without keys is unchanged (follow.h's invariant).
class StreamChangeFinder : public ChangeFinder {
public:
    // `shares`: how many parts find() cuts the keys into; 0 = shares of 2,000 keys (follow.cpp).
    StreamChangeFinder(const verify_detail::TableComparer& comparer, std::vector<std::string> keys, size_t shares = 0);
    ChunkChanges find(Database& source, Database& dest, size_t chunk) const override;
    bool unchanged(Database&, Database&, uint64_t& source_rows) const override;
    size_t parts() const override { return chunks_; }

private:
    const verify_detail::TableComparer& comparer_;
    std::vector<std::string> keys_;  // sorted, canonical
    size_t chunks_;
};

}  // namespace sync_detail

// One sync pass's use of the follow record (see above).
class FollowPass {
public:
    // Reads and checks the destination's follow record (nothing when it has none). `use_stream`: the
    // pass may use hints (not --full, no stage); otherwise it only carries the following on.
    FollowPass(Database& source, Database& dest, bool use_stream, bool quiet, std::ostream& log);
    ~FollowPass();
    bool following() const { return bool(record_); }
    // Right after the pass's snapshot was taken, on its transaction `snapshot`: its xids, and the
    // stream's hints for these tables (source name -> key columns; a table left out is scanned).
    void read(Database& snapshot, const std::map<std::string, std::vector<std::string>>& key_columns);
    // The finder for a table, or null: scan it.
    std::unique_ptr<sync_detail::ChangeFinder> finder_for(const verify_detail::TableComparer& comparer) const;
    // After the pass wrote everything and recorded it: record the pass's snapshot and advance the slot.
    // `advance` false (a final pass: the slot is dropped right after it): the position is recorded and
    // the slot left where it stood, behind its record, as the next pass accepts (it reads a little again).
    void finish(Database& dest, bool advance = true);
    std::string slot() const { return record_ ? (record_->binlog ? kBinlogSlot : record_->slot) : ""; }
    std::string note() const { return note_; }  // why the stream was not used, "" when it was
    // What was read: the position read up to, the stream's lines and transactions.
    std::string read_summary() const {
        return hints_ ? upto_ + ", " + std::to_string(hints_->lines) + " lines, " + std::to_string(hints_->transactions) + " transactions" : "";
    }

private:
    void give_up(const std::string& why, bool keep_following);
    void report_hints();
    // A MariaDB source (sync/follow_binlog.h).
    void follow_binlog(Database& source, const FollowRecord& record);
    void read_binlog(Database& snapshot, const std::map<std::string, std::vector<std::string>>& key_columns);
    void finish_binlog(Database& dest);
    std::ostream& log_;
    bool quiet_;
    std::unique_ptr<Database> conn_;       // the source, for the slot: never the snapshot's connection
    std::optional<FollowRecord> record_;   // the previous pass's, once validated; reset when not followed on
    std::string slot_at_;                  // where the slot stood at the start: the record's position or behind it
    std::optional<XidSnapshot> current_;   // this pass's
    std::optional<BinlogPosition> current_binlog_;  // a MariaDB source: this pass's snapshot's binlog position
    std::optional<sync_detail::StreamHints> hints_;
    std::map<std::string, std::vector<std::string>> keyed_;  // the tables the stream was read for
    std::string upto_;
    std::string named_slot_;               // the record's slot name, when it has a slot's form
    bool forget_ = false;                  // a record that cannot be followed: removed at finish
    bool use_stream_;
    std::string note_;
};

}  // namespace mmmove
