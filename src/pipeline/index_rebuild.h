#pragma once
// Deferred secondary indexes: on an empty destination, the secondary and full-text indexes of the
// large tables are dropped before the load and rebuilt after it, in parallel, from the exact
// definitions the destination reported (pg_get_indexdef / SHOW CREATE TABLE). The definitions are kept
// in the checkpoint first, so a crash between drop and rebuild loses nothing: --resume rebuilds them.
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove {

struct SecondaryIndex {
    std::string table, name, definition;  // PostgreSQL: CREATE INDEX …; MySQL: "KEY `x` (…)" / "FULLTEXT KEY …"
    bool fulltext = false;
};

std::vector<SecondaryIndex> secondary_indexes(Database& db, const std::vector<std::string>& tables);
void drop_indexes(Database& db, const std::vector<SecondaryIndex>& indexes);
// Rebuilds on `jobs` connections of their own; indexes that already exist are left alone.
void rebuild_indexes(const DataSource& ds, const std::vector<SecondaryIndex>& indexes, unsigned jobs, std::ostream& log, bool quiet);

nlohmann::json indexes_to_json(const std::vector<SecondaryIndex>& indexes);
std::vector<SecondaryIndex> indexes_from_json(const nlohmann::json& j);

}  // namespace mmmove
