#pragma once
// Following a MariaDB source's row binlog (see sync/follow.h for the PostgreSQL side and the rule that
// everything read back is data). A copy --follow records the binlog position exactly consistent with
// its snapshot (Binlog_snapshot_file/position, MariaDB); a sync takes its snapshot S', reads its
// position P', and the binlog events from the recorded P up to P' are exactly the transactions S' sees
// and the recorded snapshot did not (MariaDB commits in binlog order, and the position is the one of
// the snapshot itself). Their rows events name the keys that changed: hints, never values; the sync
// compares and writes those keys from S', then records P'.
//
// Since a pass leaves the destination equal to its snapshot however it found the changes (stream or
// scan), P' is recorded after every complete pass: a pass that scanned (an unreadable event, too many
// keys, a statement that changed a table) leaves the following intact for the next.
#include <map>
#include <string>
#include <vector>

#include "db/binlog_reader.h"
#include "db/database.h"
#include "sync/follow_stream.h"

namespace mmmove::sync_detail {

// The keys the binlog names between `from` and `upto`, for the tables in `key_columns` (source name ->
// the source's key columns in key order), at most `max_keys` per table (then it scans). Column
// positions are read on `snapshot` (the pass's snapshot, whose tables the events up to `upto`
// describe); the events on `dump`, a connection of its own (unusable afterwards). A statement that
// changed the source database's tables (DDL, TRUNCATE, statement-format DML) makes every table scan.
StreamHints read_binlog_hints(Database& snapshot, Database& dump, const BinlogPosition& from, const BinlogPosition& upto,
                              const std::map<std::string, std::vector<std::string>>& key_columns, size_t max_keys);

}  // namespace mmmove::sync_detail
