#include "catalog/catalog.h"

#include <algorithm>

namespace mmmove {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    return s;
}

const char* table_case_name(TableCase c) {
    switch (c) {
        case TableCase::camel: return "CamelCase";
        case TableCase::lower: return "lower case";
        case TableCase::empty: return "no Mattermost tables";
    }
    return "?";
}

const Column* Table::find_column(const std::string& n) const {
    std::string l = lower(n);
    for (const auto& c : columns)
        if (lower(c.name) == l) return &c;
    return nullptr;
}

const Table* Catalog::find(const std::string& n) const {
    std::string l = lower(n);
    for (const auto& t : tables)
        if (lower(t.name) == l) return &t;
    return nullptr;
}

namespace {

const std::string& val(const QueryRow& r, size_t i) {
    static const std::string empty;
    return r.at(i) ? *r[i] : empty;
}

// Catalog queries. Kept here, together, so each can be read and run by hand in psql / mariadb.
const char* kPgColumns = R"SQL(
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), (NOT a.attnotnull)::int,
       (d.adbin IS NOT NULL)::int, t.typname, t.typtype, t.typcategory,
       CASE WHEN t.typname IN ('varchar','bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 ELSE 0 END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum)SQL";

const char* kPgPrimaryKeys = R"SQL(
SELECT c.relname, a.attname
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = u.attnum
WHERE n.nspname = current_schema() AND k.contype = 'p'
ORDER BY c.relname, u.ord)SQL";

const char* kPgViews = R"SQL(
SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm') ORDER BY c.relname)SQL";

const char* kMyColumns = R"SQL(
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE = 'YES',
       c.COLUMN_DEFAULT IS NOT NULL AND c.COLUMN_DEFAULT <> 'NULL', c.DATA_TYPE,
       CASE WHEN c.DATA_TYPE IN ('varchar', 'char') THEN c.CHARACTER_MAXIMUM_LENGTH ELSE 0 END
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION)SQL";

const char* kMyJsonChecks = R"SQL(
SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json_valid(%')SQL";

const char* kMyPrimaryKeys = R"SQL(
SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX)SQL";

const char* kMyViews = R"SQL(
SELECT TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'VIEW' ORDER BY TABLE_NAME)SQL";

ColumnKind pg_kind(const std::string& typname, const std::string& typtype, const std::string& category) {
    if (typtype == "e") return ColumnKind::enumeration;
    if (category == "A") return ColumnKind::text_array;
    if (typname == "bool") return ColumnKind::boolean;
    if (typname == "int2" || typname == "int4" || typname == "int8") return ColumnKind::integer;
    if (typname == "float4" || typname == "float8" || typname == "numeric") return ColumnKind::floating;
    if (typname == "json" || typname == "jsonb") return ColumnKind::json;
    if (typname == "bytea") return ColumnKind::binary;
    return ColumnKind::text;
}

ColumnKind my_kind(const std::string& data_type) {
    if (data_type == "tinyint") return ColumnKind::boolean;  // Mattermost uses tinyint only for flags
    if (data_type == "bigint" || data_type == "int" || data_type == "smallint" || data_type == "mediumint")
        return ColumnKind::integer;
    if (data_type == "float" || data_type == "double" || data_type == "decimal") return ColumnKind::floating;
    if (data_type == "json") return ColumnKind::json;
    if (data_type.find("blob") != std::string::npos || data_type == "binary" || data_type == "varbinary")
        return ColumnKind::binary;
    if (data_type == "enum") return ColumnKind::enumeration;
    return ColumnKind::text;
}

// Both engines' column queries start with: table, column, type, nullable, has default.
Column column_of(const QueryRow& r, ColumnKind kind, const std::string& max_chars) {
    Column c;
    c.name = val(r, 1);
    c.type = val(r, 2);
    c.nullable = val(r, 3) == "1";
    c.has_default = val(r, 4) == "1";
    c.kind = kind;
    c.max_chars = max_chars.empty() ? 0 : std::stoll(max_chars);
    return c;
}

void sort_tables(Catalog& cat) {
    std::sort(cat.tables.begin(), cat.tables.end(),
              [](const Table& a, const Table& b) { return lower(a.name) < lower(b.name); });
}

Table& table_named(std::vector<Table>& tables, const std::string& name) {
    if (tables.empty() || tables.back().name != name) tables.push_back(Table{name, {}, {}});
    return tables.back();
}

void detect_case(Catalog& cat) {
    // db_migrations and db_lock are lower case on every server; look at the Mattermost tables proper.
    bool camel = false, low = false;
    for (const auto& t : cat.tables) {
        if (t.name.rfind("db_", 0) == 0) continue;
        if (lower(t.name) == "users" || lower(t.name) == "posts" || lower(t.name) == "channels") {
            if (t.name == lower(t.name))
                low = true;
            else
                camel = true;
        }
    }
    cat.table_case = camel ? TableCase::camel : low ? TableCase::lower : TableCase::empty;
    cat.has_migrations_table = cat.find("db_migrations") != nullptr;
}

}  // namespace

Catalog read_catalog(Database& db) {
    Catalog cat;
    cat.engine = db.engine();
    if (cat.engine == Engine::postgres) {
        for (const auto& r : db.query(kPgColumns))
            table_named(cat.tables, val(r, 0)).columns.push_back(column_of(r, pg_kind(val(r, 5), val(r, 6), val(r, 7)), val(r, 8)));
        for (const auto& r : db.query(kPgPrimaryKeys))
            for (auto& t : cat.tables)
                if (t.name == val(r, 0)) t.primary_key.push_back(val(r, 1));
        for (const auto& r : db.query(
                 "SELECT c.relname, p.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                 "JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE k.contype = 'f' AND n.nspname = current_schema()"))
            cat.foreign_keys.emplace_back(val(r, 0), val(r, 1));
        for (const auto& r : db.query(kPgViews)) {
            cat.views.push_back(val(r, 0));
            if (val(r, 1) == "m") cat.materialized_views.push_back(val(r, 0));
        }
    } else {
        for (const auto& r : db.query(kMyColumns))
            table_named(cat.tables, val(r, 0)).columns.push_back(column_of(r, my_kind(val(r, 5)), val(r, 6)));
        // MariaDB shows JSON columns as longtext guarded by CHECK (json_valid(`col`)).
        for (const auto& r : db.query(kMyJsonChecks)) {
            const std::string& clause = val(r, 1);
            auto a = clause.find('`'), b = clause.rfind('`');
            if (a == std::string::npos || b <= a) continue;
            std::string col = clause.substr(a + 1, b - a - 1);
            for (auto& t : cat.tables)
                if (t.name == val(r, 0))
                    for (auto& c : t.columns)
                        if (c.name == col) c.kind = ColumnKind::json;
        }
        for (const auto& r : db.query(kMyPrimaryKeys))
            for (auto& t : cat.tables)
                if (t.name == val(r, 0)) t.primary_key.push_back(val(r, 1));
        for (const auto& r : db.query(kMyViews)) cat.views.push_back(val(r, 0));
        for (const auto& r : db.query("SELECT TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                                      "WHERE CONSTRAINT_SCHEMA = DATABASE()"))
            cat.foreign_keys.emplace_back(val(r, 0), val(r, 1));
    }
    sort_tables(cat);
    detect_case(cat);
    return cat;
}

SchemaVersion read_schema_version(Database& db, const Catalog& cat) {
    SchemaVersion v;
    if (const Table* m = cat.find("db_migrations")) {
        for (const auto& r : db.query("SELECT version, name FROM " + db.quote_ident(m->name)))
            v.migrations[std::stoll(val(r, 0))] = val(r, 1);
    }
    if (const Table* s = cat.find("systems")) {
        auto rows = db.query("SELECT value FROM " + db.quote_ident(s->name) + " WHERE name = 'Version'");
        if (!rows.empty() && rows[0][0]) v.systems_version = *rows[0][0];
    }
    return v;
}

std::map<std::string, uint64_t> estimate_row_counts(Database& db) {
    std::map<std::string, uint64_t> rows;
    if (db.engine() == Engine::postgres) {
        // reltuples is -1 before the first ANALYZE; fall back to size / 200 bytes a row.
        for (const auto& r : db.query("SELECT c.relname, CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint "
                                      "ELSE pg_relation_size(c.oid) / 200 END FROM pg_class c JOIN pg_namespace n "
                                      "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"))
            rows[lower(val(r, 0))] = std::stoull(r[1].value_or("0"));
    } else {
        for (const auto& r : db.query("SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES "
                                      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"))
            rows[lower(val(r, 0))] = std::stoull(r[1].value_or("0"));
    }
    return rows;
}

}  // namespace mmmove
