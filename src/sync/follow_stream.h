#pragma once
// Reading a follow slot's change stream (internal to sync/follow.h): which keys of which tables the
// transactions a pass must look at changed. Only hints: the values decoding prints are never used,
// only the table's name and its primary-key columns' values, and the sync compares and writes those
// keys from its own snapshot.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/replication_slot.h"

namespace mmmove::sync_detail {

// One line of test_decoding's output ("table public.posts: UPDATE: id[character varying]:'…' …"),
// parsed to its columns' printed values (strings unquoted) without interpreting them.
struct DecodedColumn {
    std::string name, type, value;
    bool quoted = false;  // the value was printed as a '…' literal (else: a number, null, unchanged-toast-datum…)
};
struct DecodedChange {
    std::string schema, table, action;            // action: INSERT, UPDATE, DELETE, TRUNCATE
    std::vector<std::pair<std::string, std::string>> also;  // TRUNCATE of several tables: the others (schema, table)
    std::vector<std::vector<DecodedColumn>> tuples;  // UPDATE: the old key (when printed), then the new tuple
};

// nullopt when the line is not a change line test_decoding prints ("table …: ACTION: …").
std::optional<DecodedChange> parse_decoded_change(const std::string& line);
// The canonical keys a change names (the old key and the new, for an UPDATE that changes the key),
// by `key_columns` (the source's names, key order); nullopt when it names none that can be trusted
// (TRUNCATE, no key printed, a key column of an unusual type, NULL).
std::optional<std::vector<std::string>> change_keys(const DecodedChange& change, const std::vector<std::string>& key_columns);

struct TableHints {
    std::set<std::string> keys;  // canonical keys (TableComparer::key_of)
    bool scan = false;           // the stream cannot tell this table's changes: scan it
    std::string why;             // why scan
};

struct StreamHints {
    std::map<std::string, TableHints> tables;  // by lower-case source table name
    bool unusable = false;                     // nothing can be told: scan every table
    std::string why;
    std::string advance_to;                    // "" or the LSN the slot may be advanced to after the pass
    uint64_t lines = 0, transactions = 0;
};

// The followed tables (as in read_follow_stream) whose changes the stream cannot tell by key, read
// from the source's catalog in `schema`: a table with inheriting or partition tables (the stream names
// those; a by-key read of the parent sees their rows, a COPY of it does not), or whose replica identity does not print every key
// column of an UPDATE's or DELETE's old row (REPLICA IDENTITY NOTHING, or a key of other columns).
// Table -> why; a followed table not found there is one of them too.
std::map<std::string, std::string> tables_stream_cannot_tell(Database& conn, const std::string& schema,
                                                             const std::map<std::string, std::vector<std::string>>& key_columns);

// What the stream says, from the slot's position up to `upto` (flushed): the keys changed by the
// transactions `previous` did not see, for the tables in `key_columns` (lower-case name -> the
// source's key columns in key order), at most `max_keys` per table (then that table is scanned);
// and how far the slot may be advanced once a pass that read `current` has completed: to the end of
// the last transaction before the first one `current` does not see. Reads in batches through a
// cursor, on `conn` (a connection of its own); memory: the key sets.
StreamHints read_follow_stream(Database& conn, const std::string& slot, const std::string& upto, const XidSnapshot& previous,
                               const XidSnapshot& current, const std::string& schema,
                               const std::map<std::string, std::vector<std::string>>& key_columns, size_t max_keys);

}  // namespace mmmove::sync_detail
