#pragma once
// PostgreSQL's logical replication slots, as `copy --follow` and `sync` use them (internal to the
// follow feature, src/sync/follow*.h). A slot is server state on the source: the one thing mmmove
// ever writes there. It keeps WAL until advanced or dropped, so every caller names it to the admin.
//
// Everything here takes a connection of its own (never the snapshot's): creating a slot waits for the
// transactions running on the whole cluster, and decoding runs outside any read-only session.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove {

// A slot name mmmove writes and accepts back: "mmmove_" and 1 to 56 of [a-z0-9_].
bool follow_slot_name(const std::string& name);
// A new such name, with 12 random characters.
std::string new_follow_slot_name();
// An LSN as PostgreSQL prints it ("16/B374D848"), the only form accepted back.
bool lsn_form(const std::string& lsn);
// An LSN's position, to compare two (lsn_form() holds).
uint64_t lsn_value(const std::string& lsn);

// A transaction snapshot as pg_current_snapshot() prints it: "xmin:xmax:xip,xip,…" (64-bit xids).
struct XidSnapshot {
    uint64_t xmin = 0, xmax = 0;
    std::vector<uint64_t> xip;  // sorted
    // nullopt unless `text` has exactly that form, xmin <= xmax, every xip in [xmin, xmax), at most
    // 1,000,000 of them (read back from the destination: data).
    static std::optional<XidSnapshot> parse(const std::string& text);
    std::string text() const;
    // Whether a transaction that committed with this (32-bit, as decoding prints it) xid is visible in
    // the snapshot. The xid is widened to the 64-bit xid nearest xmax (passes are never 2^31
    // transactions apart).
    bool sees(uint32_t xid) const;
};

// Where a slot stands: its plugin and database, and how far it was confirmed.
struct SlotState {
    std::string confirmed_lsn;
    std::string why_not;  // "" when the slot can be followed; else why not, in one clause
};

// Creates slot `name` (test_decoding) on a new connection to `source`; returns its confirmed LSN.
// Throws Error with the server's reason (wal_level, REPLICATION privilege, max_replication_slots).
std::string create_follow_slot(Database& conn, const std::string& name);
// Whether `name` exists in this database, logical, test_decoding, not invalidated.
SlotState follow_slot_state(Database& conn, const std::string& name);
// The slot's confirmed position, whatever its state; "" when it does not exist or has none.
std::string follow_slot_position(Database& conn, const std::string& name);
// The logical slots of mmmove's name form in this database (whoever made them), sorted: what a lost
// follow record may have left holding the source's WAL. Names of another form are never listed.
std::vector<std::string> follow_slots_here(Database& conn);
// Drops the slot; false when it did not exist.
bool drop_follow_slot(Database& conn, const std::string& name);
// The snapshot of the transaction `db` is in (pg_current_snapshot()).
XidSnapshot current_xid_snapshot(Database& db);
// An LSN at or after the commit record of every transaction that committed before this call, flushed
// to disk (so decoding reaches it even under synchronous_commit = off): a synchronous commit of a
// transaction holding only an empty decoding message (WAL, no data), which flushes the WAL up to its
// own commit record. (A transaction that wrote no WAL before its commit record is not flushed.)
std::string flushed_lsn_now(Database& conn);
// Moves the slot's confirmed position to `lsn` (never back); returns the position it now has.
std::string advance_follow_slot(Database& conn, const std::string& name, const std::string& lsn);
// The command that drops the slot by hand, for messages.
std::string drop_slot_sql(const std::string& name);

}  // namespace mmmove
