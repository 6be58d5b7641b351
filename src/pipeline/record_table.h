#pragma once
// mmmove's one-row record tables on a destination (mmmove_sync_state, mmmove_follow_state), replaced so
// that at every moment between two statements the table holds the old record or the new one: a run
// killed anywhere leaves a readable record, never none. The table is created afresh each time (a record
// an older mmmove wrote may lack newer columns, a planted one may have others), so the rewrite is DDL:
//   PostgreSQL: DDL is transactional; drop, create and insert commit as one.
//   MySQL/MariaDB: DDL commits on its own; the new record is written into `<table>_next` beside the old
//   one and swapped in by one RENAME TABLE, which is atomic. A killed rewrite leaves only the side
//   tables `<table>_next` and `<table>_previous` (no record of anything); the next rewrite or
//   drop_record_table drops them first.
// `kill_at` names the test's kill points (core/kill_point.h) between the statements.
#include <functional>
#include <string>

#include "db/database.h"

namespace mmmove {

struct RecordTableWriter {
    std::function<void(const std::string& table)> create;  // creates `table`, empty, with the current columns
    std::function<void(const std::string& table)> insert;  // inserts the record into `table`
};

void replace_record_table(Database& dst, const std::string& table, const char* kill_at, const RecordTableWriter& writer);
// Drops the record table and what a killed rewrite left beside it.
void drop_record_table(Database& dst, const std::string& table);

}  // namespace mmmove
