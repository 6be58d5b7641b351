#pragma once
// Did the source move on while it was copied? A copy reads one snapshot: it is complete and
// consistent as of that moment, and whatever Mattermost writes afterwards is not in it. At the end
// of a copy mmmove measures, per table, how far the source has moved since, so an admin who copied
// a running server learns it before the cut-over rather than from a user missing a message.
//
// How (per table, a COUNT(*) and a count of the rows stamped within the window, once inside the
// copy's snapshot and once on a fresh read-only connection; the source is only read):
//   - T: the source server's clock just before the snapshot was taken (never after it, so a row
//     written after the snapshot is never dated before T by the database's clock).
//   - Rows now vs rows in the snapshot: inserts and hard deletes (a hard delete leaves no timestamp).
//   - Tables with change columns (schema/tables.yaml): rows whose newest change column is >= T,
//     now vs in the snapshot, give the amount new or changed. Mattermost stamps those columns with
//     its app server's clock, which may run behind the database's: rows stamped within a margin
//     before T (kMarginMs) are compared between the two scans by count and by the sum of their
//     change columns, so a change stamped by a slow clock still shows ("changed near the snapshot").
//   - Tables without change columns: the row count only. An update in place, or as many deletes
//     as inserts, goes unseen there; the output says which tables were measured by count only.
// A resumed copy read its earlier chunks from an earlier snapshot: the moment the first run took
// is kept in the checkpoint, and every row stamped since then (minus the margin) counts as possibly
// changed ("up to"), since mmmove cannot tell which of them the earlier run already read.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "db/database.h"

namespace mmmove {

class ReadSnapshot;

struct TableMoved {
    std::string table;                 // the source's name
    uint64_t rows_then = 0, rows_now = 0;
    uint64_t new_or_changed = 0;       // rows stamped at or after the snapshot, beyond those it held
    bool changed_near_snapshot = false;  // rows stamped within the margin before T differ
    bool upper_bound = false;          // a resumed copy: "up to" new_or_changed
    bool content_changed = false;      // a table without change columns whose content digest differs (a final pass)
    bool truncated = false;            // the change stream holds a TRUNCATE of it (a final pass, sync/stillness_stream.h)
};

struct SourceMoved {
    static constexpr int64_t kMarginMs = 5 * 60 * 1000;  // clock skew allowed between app and database servers
    int64_t snapshot_ms = 0;           // T, the source server's clock (Unix ms)
    bool resumed = false;
    bool resumed_unmeasured = false;   // resumed, and the first run's moment was not in the checkpoint
    size_t tables_checked = 0;
    std::vector<std::string> count_only;  // tables measured by row count only (no change column)
    std::vector<TableMoved> moved;     // only tables that moved on
    double seconds = 0;                // time the measurement took
    std::string proof;                 // a final pass: "change stream" or "row counts"; "" for a copy's
    uint64_t stream_transactions = 0;  // proof "change stream": the transactions after the snapshot it read
    std::string proof_note;            // proof "row counts" in a final pass: why not the change stream
    bool moved_on() const { return !moved.empty() || resumed_unmeasured; }
};

// One table's figures as one side (the snapshot, or the present) gives them: its row count, and the
// rows stamped within the window. The pieces of measure_source_moved, for a caller that reads the two
// sides on connections of their own at once (a final pass, inside the downtime).
struct TableFigures {
    uint64_t rows = 0;
    uint64_t since = 0;          // rows whose newest change column is >= T
    uint64_t window = 0;         // rows whose newest change column is >= T - margin
    std::string window_sum;      // the sums of those rows' change columns: move when one is restamped
};
// The live table's change columns (empty: measured by row count only).
std::vector<std::string> live_change_columns(const Table& t);
TableFigures read_figures(Database& db, const Table& t, const std::vector<std::string>& columns, int64_t since_ms);
// What the two readings say of the table; `with_columns`: it has change columns.
TableMoved compare_figures(const Table& t, const TableFigures& then, const TableFigures& now, bool with_columns, bool resumed);
bool table_moved(const TableMoved& t);

// The source server's clock now (Unix ms), read outside any transaction.
int64_t source_clock_ms(Database& src);

// Measures every copied table: `snapshot_db` is a connection inside the snapshot the copy read;
// a fresh read-only connection to the same source reads the present. `since_ms` is T (an earlier
// run's T when resumed; then `resumed`).
SourceMoved measure_source_moved(Database& snapshot_db, const Catalog& source, const std::vector<std::string>& tables,
                                 int64_t since_ms, bool resumed, bool resumed_unmeasured);

// The warning block (nothing when the source did not move on) and its JSON for summaries.
void print_source_moved(const SourceMoved& m, std::ostream& out);
std::string source_moved_line(const TableMoved& t);
nlohmann::json source_moved_json(const SourceMoved& m);

}  // namespace mmmove
