#pragma once
// mmmove's own model of the Mattermost schema (schema/*.yaml, compiled in): for each migration level
// and engine, the applied migrations, the Systems rows the migrations write, and every table, column,
// key, index, enum type and view, as the engine itself reports them. From it mmmove creates the same
// schema Mattermost's migrations would, on an empty database (--create-schema), and it can write the
// model of a live database (`mmmove schema dump`) so the two can be compared.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "db/database.h"

namespace mmmove {

struct ModelTable {
    std::string name;                      // CamelCase on MySQL, lower case on PostgreSQL
    std::vector<std::string> columns;      // column definitions in order, e.g. "`Id` varchar(26) NOT NULL"
    std::vector<std::string> constraints;  // PostgreSQL: "CONSTRAINT users_pkey PRIMARY KEY (id)"; MySQL: key lines
    std::vector<std::string> indexes;      // PostgreSQL: CREATE INDEX statements, ON {table}
    std::string options;                   // MySQL table options (ENGINE, CHARSET, COLLATE)
};

struct ModelView {
    std::string name;
    bool materialized = false;
    std::string definition;                // the SELECT
    std::vector<std::string> indexes;      // indexes on a materialized view
};

struct SchemaModel {
    int level = 0;                         // highest applied migration
    int label = 0;                         // the level the model is known by (its file name: m124, m141, m159)
    Engine engine = Engine::postgres;
    std::vector<std::pair<int64_t, std::string>> migrations;
    std::vector<std::pair<std::string, std::string>> systems;  // rows the migrations themselves write
    std::vector<std::pair<std::string, std::string>> enums;    // PostgreSQL: name → "'a', 'b'"
    std::vector<ModelTable> tables;
    std::vector<ModelView> views;
};

// How a copy treats a table: data to move, rows a freshly started server writes (replaced by the
// source's), per-instance state that never moves, or the migration record (compared, never copied).
enum class TableRole { content, server_bootstrap, per_instance, schema_version };
TableRole table_role(const std::string& table_name);
// A content table a Mattermost server fills on its first start against an empty schema (its bot
// accounts and their rows): rows found there do not make a destination "used".
bool written_by_first_start(const std::string& table_name);
// A materialized view schema/tables.yaml lists under statistics_views: it only summarises rows for
// statistics, so a final sync may leave it stale until the new server runs. Any other view is not.
bool statistics_view(const std::string& view_name);

// A table's change columns (schema/tables.yaml `change_columns`): the millisecond timestamps Mattermost
// sets when it inserts, updates or soft-deletes a row, by the app server's clock. A row whose change
// column is at or after T was written at or after T (allowing for skew between the app server's and
// the database's clocks); a hard delete leaves no trace in them. Spelled as in the YAML (CamelCase):
// match them case-insensitively against a live table, which may lack some (older migration levels).
// Empty for a table with none (Preferences), a table not listed and per-instance tables.
const std::vector<std::string>& change_columns(const std::string& table_name);
// Parses a `change_columns` section (a map: table → list of columns), keyed by lower-case table name.
// Refused (bad_input, naming `origin`): a table no built-in schema model has, a column that table has
// in no model, anything but a map of lists of names.
std::map<std::string, std::vector<std::string>> parse_change_columns(const std::string& yaml_text, const std::string& origin);

// The models compiled into this binary.
std::vector<SchemaModel> builtin_models();
// The built-in model for this engine whose migrations are `migrations` (same numbers, same names up to
// Mattermost's per-engine spellings), or nullptr.
const SchemaModel* find_model(Engine engine, const std::map<int64_t, std::string>& migrations);
const SchemaModel* find_model(Engine engine, int level);
// The levels (model labels: 124, 141, …) mmmove can create on this engine, lowest first.
std::vector<int> model_levels(Engine engine);

// A PostgreSQL index definition as the model keeps it (pg_get_indexdef's text with the table left
// open): "CREATE INDEX idx ON public.users USING btree (x)" → "CREATE INDEX idx ON {table} USING btree (x)".
std::string index_template(const std::string& definition);

SchemaModel parse_model(const std::string& yaml_text, const std::string& origin);
std::string model_to_yaml(const SchemaModel& model);
// Reads the model of a live database (its catalog, db_migrations and the migrations' Systems rows).
SchemaModel dump_model(Database& db);
// Creates every table, key, index, type and view of the model on db, in one go. On MySQL, lower_case
// gives the Bitnami spelling (users, not Users). Also fills db_migrations and the migrations' Systems rows.
void create_schema(Database& db, const SchemaModel& model, bool lower_case);

}  // namespace mmmove
