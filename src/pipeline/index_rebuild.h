#pragma once
// Deferred secondary indexes: on an empty destination, the secondary and full-text indexes of the
// large tables are dropped before the load and rebuilt after it, in parallel.
//
// The definitions come from mmmove's own schema model for the destination's level, never from text
// a server handed back: an index is set aside only when the live destination has it exactly as the
// model defines it (an index the model does not know, or one an admin changed, stays: the load is
// slower, the result the same). The checkpoint keeps only each index's table and name, so a crash
// between drop and rebuild loses nothing; on --resume each entry must name a table of the copy and an
// index the model defines for it, and the statement is built again from the model.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "db/database.h"

namespace mmmove {

struct SecondaryIndex {
    std::string table;       // the destination's table, as its catalog spells it
    std::string name;        // the index's name (the model's)
    std::string definition;  // the model's: PostgreSQL "CREATE INDEX x ON {table} …"; MySQL "KEY `x` (…)" / "FULLTEXT KEY …"
    bool fulltext = false;
};

// The indexes of `tables` that may be set aside for the load: those the model defines and the
// destination has exactly as defined. `model` may be null (no model of this level): none.
std::vector<SecondaryIndex> deferrable_indexes(Database& db, const SchemaModel* model, const std::vector<std::string>& tables);
// The indexes the model defines for `tables` that the destination lacks (a copy interrupted after
// dropping them): a copy starting over builds them again.
std::vector<SecondaryIndex> missing_indexes(Database& db, const SchemaModel* model, const std::vector<std::string>& tables);

void drop_indexes(Database& db, const std::vector<SecondaryIndex>& indexes);
// Rebuilds on `jobs` connections of their own; indexes that already exist are left alone.
void rebuild_indexes(const DataSource& ds, const std::vector<SecondaryIndex>& indexes, unsigned jobs, std::ostream& log, bool quiet);
// Refreshes every materialized view `catalog` lists on a PostgreSQL destination (MySQL has none), so
// what the views summarise (e.g. Mattermost's poststats) matches the rows just written. `on_view` is
// told each view's name before its refresh, so a caller can name it in an error.
void refresh_materialized_views(Database& dst, const Catalog& catalog, std::ostream& log, bool quiet,
                                const std::function<void(const std::string&)>& on_view = {});
// The materialized views of `catalog` that read one of `tables` (lower-case names), directly or through
// another view that does, in the catalog's order; none on MySQL. PostgreSQL's dependency records (the
// view's rewrite rule in pg_depend) say which; the names they give are only matched with the catalog's.
std::vector<std::string> views_reading(Database& dst, const Catalog& catalog, const std::set<std::string>& tables);
// Each materialized view of `dst`'s current schema with the relations its query reads (lower case;
// PostgreSQL only: call it on a PostgreSQL connection).
std::map<std::string, std::set<std::string>> view_sources(Database& dst);
// Refreshes `views` (PostgreSQL), each on one of `connections`, in parallel when none of them reads
// another materialized view (else one after the other, in the order given).
void refresh_views(const std::vector<std::string>& views, const std::vector<Database*>& connections, std::ostream& log, bool quiet);
// A connection of its own to `dst` for refreshing materialized views. On PostgreSQL its work_mem is
// kViewWorkMem: poststats groups every post by user and day (at 1 M posts about 74 MB of groups), and
// under the server's default (4 MB) its hash aggregate spilled to disk in 17 batches.
inline constexpr const char* kViewWorkMem = "128MB";
std::unique_ptr<Database> open_view_refresher(const DataSource& dst);
// refresh_views on connections of their own to `dst` (up to `jobs`, 0 = cores, one per view at most),
// for a refresh outside a pass: `mmmove refresh-views`, a move's views step after the start.
void refresh_views_apart(const DataSource& dst, const std::vector<std::string>& views, unsigned jobs, std::ostream& log, bool quiet);

// Analyses the tables of `dst`'s current schema that PostgreSQL never analysed (reltuples -1: a copy
// autovacuum has not yet visited) and returns their names; nothing on MySQL, whose InnoDB keeps its own
// statistics as rows arrive. Without statistics, a read by a list of keys plans as a scan of the table.
std::vector<std::string> analyse_never_analysed(Database& dst);

// The checkpoint's form: [{"table": …, "name": …}, …].
nlohmann::json indexes_to_json(const std::vector<SecondaryIndex>& indexes);
// Reads the checkpoint's entries back. Each must name one of `tables` and an index `model` defines
// for that table; anything else throws Error(ExitCode::destination) and nothing is used.
std::vector<SecondaryIndex> indexes_from_json(const nlohmann::json& j, const SchemaModel* model, const std::vector<std::string>& tables);

}  // namespace mmmove
