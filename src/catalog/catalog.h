#pragma once
// What one side holds, read from its live catalog (pg_catalog / information_schema): tables, their
// columns with an engine-neutral ColumnKind, primary keys, views, the table-name case and the
// Mattermost schema version. Tables and columns are matched across engines case-insensitively.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove {

struct Column {
    std::string name;         // as the engine stores it (Users.Id on MySQL, users.id on PostgreSQL)
    std::string type;         // the engine's own spelling: "character varying(26)", "varchar(26)", "tinyint(1)"
    ColumnKind kind = ColumnKind::text;
    bool nullable = true;
    bool has_default = false;
    int64_t max_chars = 0;    // declared character limit (varchar(n)/char(n)); 0 = no limit below the engine's text size
};

struct Table {
    std::string name;          // actual stored name
    std::vector<Column> columns;
    std::vector<std::string> primary_key;  // column names in key order
    const Column* find_column(const std::string& name) const;  // case-insensitive
};

// How the Mattermost tables are spelled on a side: CamelCase (standard MySQL), lower case (PostgreSQL
// always; MySQL under Bitnami / lower_case_table_names), or no Mattermost tables at all.
enum class TableCase { camel, lower, empty };
const char* table_case_name(TableCase c);

struct SchemaVersion {
    std::map<int64_t, std::string> migrations;  // db_migrations: Version → Name
    std::optional<std::string> systems_version; // Systems 'Version' row: written by servers up to v7.0 and left
                                                // as it was since; informational only
    int64_t highest() const { return migrations.empty() ? 0 : migrations.rbegin()->first; }
};

struct Catalog {
    Engine engine = Engine::postgres;
    std::vector<Table> tables;            // base tables, sorted by lower-case name
    std::vector<std::string> views;       // views and materialized views (never copied as rows)
    std::vector<std::string> materialized_views;
    TableCase table_case = TableCase::empty;
    bool has_migrations_table = false;
    std::vector<std::pair<std::string, std::string>> foreign_keys;  // (child table, parent table)
    const Table* find(const std::string& name) const;  // case-insensitive
};

std::string lower(std::string s);
Catalog read_catalog(Database& db);
SchemaVersion read_schema_version(Database& db, const Catalog& catalog);
// The engine's own row estimates per lower-case table name (PostgreSQL reltuples, MySQL TABLE_ROWS):
// free to read, approximate; exact counts are taken where they matter (the end of a copy).
std::map<std::string, uint64_t> estimate_row_counts(Database& db);

}  // namespace mmmove
