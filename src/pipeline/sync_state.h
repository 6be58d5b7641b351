#pragma once
// mmmove's record on a destination it filled (table mmmove_sync_state, one row): which source, by which
// command, when. `copy` writes it when it completes, `sync` when it completes; a copy that starts
// again, or a merge that adds another instance's rows, removes it first. `sync` requires it: only a
// destination mmmove filled from this source may have rows deleted to match the source.
//
// The row is read back as data: whoever can write the destination can write it. Each value must have
// the form mmmove writes, or the record is refused.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "db/database.h"

namespace mmmove {

struct SyncState {
    std::string source;         // the source's label (DSN without password), as messages show it
    std::string diagnostic_id;  // the source's Systems DiagnosticId ("" when it has none)
    std::string command;        // copy, refresh or sync
    std::string finished;       // "YYYY-MM-DD HH:MM:SS UTC"
    bool transformed = false;   // rows went through transforms (an anonymised refresh): not the source's rows
    // The source server's clock (Unix ms) just before the snapshot the copy or sync read: the next
    // sync reads only rows stamped since (less a skew margin). nullopt when unknown (a record written
    // by an older mmmove, or a resumed copy that lost its first moment): then the sync compares all.
    std::optional<int64_t> snapshot_ms;
    // The source tables (lower case) the copy left behind (--skip-table, --skip-missing-tables): a sync
    // leaves them behind too, rather than filling them or deleting the destination's rows in them.
    // Empty in a record an older mmmove wrote.
    std::vector<std::string> left_behind;
    // transformed: the stage's keyed fingerprint (LoadStage::fingerprint, 64 hex digits) of the key and
    // rules the rows were written under; "" when unknown (then only a full refresh replaces them).
    std::string fingerprint;
    // A PostgreSQL source: the horizon of the snapshot the copy or sync read ("SYSTEM_ID/TIMELINE:XMIN",
    // sync/seen_rows.h), so the next sync can tell which rows that snapshot already saw; "" when unknown
    // (another engine, a record an older mmmove wrote): then it compares every stamped row.
    std::string horizon;
    // The key digests of the source's tables as of the snapshot this sync read, which the pass that
    // wrote the record left the destination's key sets equal to (sync/key_ledger.h's form, checked
    // there; "" when none). Only a sync that ended writes them; any other writer leaves "".
    std::string key_digests;
};

constexpr const char* kSyncStateTable = "mmmove_sync_state";

// Replaces the record atomically (a kill at any point leaves the old record or the new one), in a
// transaction of its own on PostgreSQL: `dst` must have none open.
void record_sync_state(Database& dst, const SyncState& state);
// Removes the record: the destination no longer holds only what mmmove copied from one source.
void forget_sync_state(Database& dst);
// Empties the record's key digests, committed at once (`dst` must have no transaction open): from
// now on the destination may change, so no digest recorded before describes it.
void forget_key_digests(Database& dst);
// The record, or nullopt when the destination has none. Throws Error(destination) when it holds a
// value mmmove does not write.
std::optional<SyncState> read_sync_state(Database& dst);
// Mattermost's DiagnosticId in the Systems table, "" when there is none or it has another form.
std::string source_diagnostic_id(Database& db, const Catalog& catalog);

}  // namespace mmmove
