#pragma once
// Which of a PostgreSQL source's rows the previous pass's snapshot already saw (internal to sync's
// change-column path, change_columns.cpp).
//
// A scanning pass compares again the rows stamped within the skew margin before the previous pass's
// snapshot (SourceMoved::kMarginMs): an app server whose clock lags, or a long transaction, may have
// committed such a row after that snapshot, so the previous pass did not read it. On a PostgreSQL
// source the row itself says which: its xmin, the transaction that wrote its current version. Every
// transaction below a snapshot's xmin had ended when the snapshot was taken (subtransactions included:
// a subtransaction's id is above its parent's, and its parent below xmin had ended too), so a version
// whose xmin is below the previous snapshot's xmin, and that is still there, was visible to that
// snapshot: the previous pass read it, within its own window (the windows only move forward), and
// left the destination equal to it. Such rows need no comparison; every other row is compared.
//
// Doubt always means "compare": a horizon recorded on another cluster or timeline (a restore, a dump
// loaded elsewhere, a failover), a snapshot 2^31 or more transactions before this one, PostgreSQL's
// special xids (frozen, bootstrap), anything that does not read back in the form mmmove writes.
// Frozen tuples that keep their raw xid are judged by it: a wrong 64-bit widening of a very old xid
// can only land on "compare", or below the previous xmin where the truth lies anyway.
#include <cstdint>
#include <optional>
#include <string>

#include "db/database.h"

namespace mmmove::sync_detail {

// A snapshot's horizon as the sync record stores it: "SYSTEM_ID/TIMELINE:XMIN" (decimal).
struct SnapshotHorizon {
    std::string cluster;  // "SYSTEM_ID/TIMELINE": pg_control_system()'s identifier, the current timeline
    uint64_t xmin = 0;    // the snapshot's xmin, 64-bit (with its epoch)
    uint64_t xmax = 0;    // the snapshot's xmax, 64-bit: not stored, only known for the pass's own snapshot

    std::string text() const;
    // nullopt unless `text` has exactly the form text() writes (read back from the destination: data).
    static std::optional<SnapshotHorizon> parse(const std::string& text);
};

// The source's cluster as a horizon names it, read on `conn` outside any transaction (a role not
// allowed to read the control data fails there harmlessly); nullopt when the source is not PostgreSQL
// 13 or later, or does not say.
std::optional<std::string> source_cluster(Database& conn);
// The horizon of the snapshot `snapshot` reads in (a transaction of a PostgreSQL source) on `cluster`;
// nullopt without a cluster.
std::optional<SnapshotHorizon> snapshot_horizon(const std::optional<std::string>& cluster, Database& snapshot);

// The rows the previous snapshot saw, judged from this pass's snapshot.
class SeenRows {
public:
    // nullopt when in doubt (see above): then every stamped row is compared.
    static std::optional<SeenRows> make(const SnapshotHorizon& previous, const SnapshotHorizon& current);
    // Whether the row version written by `xmin` (32-bit, as PostgreSQL prints a tuple's xmin) was
    // visible to the previous snapshot. False whenever unsure.
    bool seen(uint32_t xmin) const;
    // The same for the xmin as the source printed it: false unless it is a whole 32-bit number.
    bool seen(const char* text, size_t size) const;

private:
    SeenRows(uint64_t previous_xmin, uint64_t current_xmax) : previous_xmin_(previous_xmin), current_xmax_(current_xmax) {}
    uint64_t previous_xmin_, current_xmax_;
};

}  // namespace mmmove::sync_detail
