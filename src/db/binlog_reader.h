#pragma once
// A MariaDB source's row binlog, as `copy --follow` and `sync` use it (internal to the follow feature,
// src/sync/follow_binlog.h). A binlog reader holds no server state: it asks for a dump from a
// position, as a replica would, on a connection of its own (never the snapshot's), and stops at
// another position (MARIADB_RPL_BINLOG_DUMP_NON_BLOCK: never waits for new events).
//
// Positions are read back from the destination: data. A file name mmmove accepts is only ever passed
// as a value to the binlog API, and must have the form the server gives its binlog files
// ("binlog.000001": a stem without '/', a dot, 6 to 10 digits).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove {

bool binlog_file_name(const std::string& name);

struct BinlogPosition {
    std::string file;  // binlog_file_name()
    uint64_t pos = 0;  // 4 (the first event) or later
    std::string text() const { return file + ":" + std::to_string(pos); }
    // nullopt unless `text` is exactly "FILE:POS" of mmmove's form.
    static std::optional<BinlogPosition> parse(const std::string& text);
};
// -1, 0, 1 as a is before, at, after b in the binlog; nullopt when the files' stems differ.
std::optional<int> compare_binlog_positions(const BinlogPosition& a, const BinlogPosition& b);

// Why this server's binlog cannot be followed, in one clause ("" when it can): it must be MariaDB
// (MySQL has no binlog position consistent with a snapshot), with log_bin on, binlog_format=ROW and
// binlog_row_image=FULL.
std::string binlog_obstacle(Database& conn);
// The binlog position exactly consistent with the snapshot `snapshot` has just started (MariaDB's
// Binlog_snapshot_file/position, read on the snapshot's own connection); nullopt when it has none.
std::optional<BinlogPosition> binlog_snapshot_position(Database& snapshot);
// Why this account may not dump the binlog ("" when it may): it needs BINLOG MONITOR (to list the
// binlogs) and REPLICATION SLAVE (to dump them). Tries a dump from the binlog's end, on `conn`, which is
// unusable afterwards.
std::string binlog_dump_refused(Database& conn);
// Why `p` can no longer be read from the server's binlogs ("" when it can): purged, beyond the end.
std::string binlog_position_problem(Database& conn, const BinlogPosition& p);

// What a rows event of a table the reader was asked for says: per row image (a DELETE's row, an
// INSERT's, an UPDATE's before and after), the key columns' values as text, or nullopt when one of
// them is NULL or of a type mmmove does not name by literal (only integers and strings are named).
using BinlogKeyImage = std::optional<std::vector<std::string>>;

class BinlogSink {
public:
    virtual ~BinlogSink() = default;
    // The key columns' positions (0-based, key order) of `table` in the database followed, and its
    // column count; nullptr when the table is not one the sync brings over (its events are skipped).
    struct Table {
        std::vector<unsigned> key_positions;
        unsigned columns = 0;
    };
    virtual const Table* wanted(const std::string& table) = 0;
    // `readable` false: the event could not be decoded, or its images lack columns (not FULL).
    virtual void rows(const std::string& table, const std::vector<BinlogKeyImage>& images, bool readable) = 0;
    // A statement (QUERY event) other than BEGIN/COMMIT: DDL, TRUNCATE, statement-format DML.
    virtual void statement(const std::string& default_database, const std::string& sql) = 0;
};

struct BinlogRead {
    bool reached = false;  // the dump got exactly to `upto`
    uint64_t events = 0, transactions = 0;
};
// Dumps the binlog from `from` up to `upto` on `conn` (a MariaDB connection of its own: unusable
// afterwards), handing the events of tables of `database` (compared without case) to `sink`.
// Throws Error when the server refuses or the dump breaks (no REPLICATION SLAVE, a purged file, a
// position that is not an event's start).
BinlogRead read_binlog(Database& conn, const BinlogPosition& from, const BinlogPosition& upto, const std::string& database,
                       BinlogSink& sink);

}  // namespace mmmove
