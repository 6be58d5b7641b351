#include "catalog/schema_model.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>

#include "catalog/embedded_schema.h"
#include "catalog/migrations.h"
#include "db/transaction.h"

namespace mmmove {

static std::map<std::string, std::vector<std::string>> change_columns_of(const std::string& text, const std::string& origin,
                                                                         bool against_models);

namespace {

struct TableRoles {
    std::set<std::string> per_instance, schema_version, server_bootstrap, first_start_content, migration_systems_rows, statistics_views;
    std::map<std::string, std::vector<std::string>> change_columns;  // lower-case table → columns
};

const TableRoles& roles() {
    static const TableRoles r = [] {
        TableRoles out;
        YAML::Node n = load_embedded_yaml("tables.yaml");
        auto fill = [&](const char* key, std::set<std::string>& into, bool fold) {
            for (const auto& v : n[key]) into.insert(fold ? lower(v.as<std::string>()) : v.as<std::string>());
        };
        fill("per_instance", out.per_instance, true);
        fill("schema_version", out.schema_version, true);
        fill("server_bootstrap", out.server_bootstrap, true);
        fill("first_start_content", out.first_start_content, true);
        fill("migration_systems_rows", out.migration_systems_rows, false);
        fill("statistics_views", out.statistics_views, true);
        // Its form is checked here, with the other sections; that each entry names a table and columns
        // of the built-in models is a unit test's check (the file is built in): parsing the models
        // costs every command a few hundred ms at its start.
        for (const auto& f : embedded_schema_files())
            if (f.name == "tables.yaml") out.change_columns = change_columns_of(f.content, "schema/tables.yaml", false);
        return out;
    }();
    return r;
}

const std::string& val(const QueryRow& r, size_t i) {
    static const std::string empty;
    return r.at(i) ? *r[i] : empty;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
    return s;
}

ModelTable& table_named(std::vector<ModelTable>& tables, const std::string& name) {
    for (auto& t : tables)
        if (t.name == name) return t;
    tables.push_back(ModelTable{name, {}, {}, {}, {}});
    return tables.back();
}

void dump_postgres(Database& db, SchemaModel& m) {
    const std::string in_schema = "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() ";
    for (const auto& r : db.query(
             "SELECT c.relname, quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) || "
             "COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || "
             "CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END "
             "FROM pg_class c " + in_schema +
             "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
             "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
             "WHERE c.relkind IN ('r', 'p') ORDER BY c.relname, a.attnum"))
        table_named(m.tables, val(r, 0)).columns.push_back(val(r, 1));
    for (const auto& r : db.query(
             "SELECT c.relname, 'CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid) "
             "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid " + in_schema +
             "WHERE c.relkind IN ('r', 'p') ORDER BY c.relname, k.conname"))
        table_named(m.tables, val(r, 0)).constraints.push_back(val(r, 1));
    std::map<std::string, std::vector<std::string>> view_indexes;
    for (const auto& r : db.query(
             "SELECT c.relname, c.relkind::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
             "JOIN pg_class c ON c.oid = i.indrelid " + in_schema +
             "JOIN pg_class ic ON ic.oid = i.indexrelid "
             "WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid) "
             "ORDER BY c.relname, ic.relname")) {
        if (val(r, 1) == "m")
            view_indexes[val(r, 0)].push_back(index_template(val(r, 2)));
        else
            table_named(m.tables, val(r, 0)).indexes.push_back(index_template(val(r, 2)));
    }
    for (const auto& r : db.query(
             "SELECT t.typname, string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
             "FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
             "JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = current_schema() "
             "GROUP BY t.typname ORDER BY t.typname"))
        m.enums.emplace_back(val(r, 0), val(r, 1));
    for (const auto& r : db.query("SELECT c.relname, c.relkind::text, pg_get_viewdef(c.oid) FROM pg_class c " +
                                  in_schema + "WHERE c.relkind IN ('v', 'm') ORDER BY c.relname")) {
        ModelView v{val(r, 0), val(r, 1) == "m", val(r, 2), view_indexes[val(r, 0)]};
        m.views.push_back(std::move(v));
    }
}

// Splits MySQL's SHOW CREATE TABLE into column lines, key lines and table options.
void parse_show_create(const std::string& ddl, ModelTable& t) {
    size_t pos = ddl.find('\n');
    while (pos != std::string::npos) {
        size_t next = ddl.find('\n', pos + 1);
        std::string line = ddl.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        pos = next;
        if (line.rfind(") ", 0) == 0) {
            std::string opts = line.substr(2);
            // AUTO_INCREMENT counters are state, not schema.
            auto ai = opts.find("AUTO_INCREMENT=");
            if (ai != std::string::npos) opts.erase(ai, opts.find(' ', ai) == std::string::npos ? std::string::npos : opts.find(' ', ai) - ai + 1);
            t.options = opts;
            break;
        }
        while (!line.empty() && line[0] == ' ') line.erase(0, 1);
        if (!line.empty() && line.back() == ',') line.pop_back();
        if (line.empty()) continue;
        if (line[0] == '`')
            t.columns.push_back(line);
        else
            t.constraints.push_back(line);
    }
}

void dump_mysql(Database& db, SchemaModel& m) {
    std::string schema = val(db.query("SELECT DATABASE()").at(0), 0);
    for (const auto& r : db.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                  "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")) {
        ModelTable& t = table_named(m.tables, val(r, 0));
        parse_show_create(val(db.query("SHOW CREATE TABLE " + db.quote_ident(t.name)).at(0), 1), t);
    }
    for (const auto& r : db.query("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
                                  "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"))
        m.views.push_back(ModelView{val(r, 0), false, replace_all(val(r, 1), db.quote_ident(schema) + ".", ""), {}});
}

const SchemaModel* find_in(const std::vector<SchemaModel>& models, Engine engine,
                           const std::function<bool(const SchemaModel&)>& match) {
    for (const auto& m : models)
        if (m.engine == engine && match(m)) return &m;
    return nullptr;
}

}  // namespace

// "CREATE INDEX idx ON public.users USING btree (x)" → "CREATE INDEX idx ON {table} USING btree (x)"
std::string index_template(const std::string& def) {
    auto on = def.find(" ON ");
    auto using_ = def.find(" USING ", on == std::string::npos ? 0 : on);
    if (on == std::string::npos || using_ == std::string::npos) return def;
    return def.substr(0, on + 4) + "{table}" + def.substr(using_);
}

YAML::Node load_embedded_yaml(const std::string& name) {
    for (const auto& f : embedded_schema_files())
        if (f.name == name) return YAML::Load(f.content);
    return YAML::Node();
}

TableRole table_role(const std::string& name) {
    std::string l = lower(name);
    if (l.rfind("mmmove_", 0) == 0) return TableRole::per_instance;  // mmmove's own checkpoint tables
    const TableRoles& r = roles();
    if (r.per_instance.count(l)) return TableRole::per_instance;
    if (r.schema_version.count(l)) return TableRole::schema_version;
    if (r.server_bootstrap.count(l)) return TableRole::server_bootstrap;
    return TableRole::content;
}

bool written_by_first_start(const std::string& name) { return roles().first_start_content.count(lower(name)) > 0; }

bool statistics_view(const std::string& name) { return roles().statistics_views.count(lower(name)) > 0; }

SchemaModel parse_model(const std::string& text, const std::string& origin) {
    SchemaModel m;
    try {
        YAML::Node n = YAML::Load(text);
        m.level = n["level"].as<int>();
        std::string engine = n["engine"].as<std::string>();
        if (engine != "postgres" && engine != "mysql") throw YAML::Exception(YAML::Mark::null_mark(), "engine must be postgres or mysql");
        m.engine = engine == "postgres" ? Engine::postgres : Engine::mysql;
        for (const auto& e : n["migrations"]) m.migrations.emplace_back(e[0].as<int64_t>(), e[1].as<std::string>());
        for (const auto& e : n["systems"]) m.systems.emplace_back(e[0].as<std::string>(), e[1].as<std::string>());
        for (const auto& e : n["enums"]) m.enums.emplace_back(e[0].as<std::string>(), e[1].as<std::string>());
        auto strings = [](const YAML::Node& list) {
            std::vector<std::string> out;
            for (const auto& s : list) out.push_back(s.as<std::string>());
            return out;
        };
        for (const auto& t : n["tables"])
            m.tables.push_back(ModelTable{t["name"].as<std::string>(), strings(t["columns"]), strings(t["constraints"]),
                                          strings(t["indexes"]), t["options"] ? t["options"].as<std::string>() : ""});
        for (const auto& v : n["views"])
            m.views.push_back(ModelView{v["name"].as<std::string>(), v["materialized"].as<bool>(),
                                        v["definition"].as<std::string>(), strings(v["indexes"])});
    } catch (const YAML::Exception& e) {
        throw Error(ExitCode::bad_input, "The schema model " + origin + " is malformed: " + e.what() +
                                             ". Regenerate it with `mmmove schema dump`.");
    }
    return m;
}

std::string model_to_yaml(const SchemaModel& m) {
    YAML::Emitter out;
    out.SetIndent(2);
    out << YAML::BeginMap;
    out << YAML::Key << "level" << YAML::Value << m.level;
    out << YAML::Key << "engine" << YAML::Value << (m.engine == Engine::postgres ? "postgres" : "mysql");
    auto pairs = [&](const char* key, const auto& list) {
        out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
        for (const auto& [a, b] : list) out << YAML::Flow << YAML::BeginSeq << a << b << YAML::EndSeq;
        out << YAML::EndSeq;
    };
    pairs("migrations", m.migrations);
    pairs("systems", m.systems);
    pairs("enums", m.enums);
    auto strings = [&](const char* key, const std::vector<std::string>& list) {
        out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
        for (const auto& s : list) out << YAML::DoubleQuoted << s;
        out << YAML::EndSeq;
    };
    out << YAML::Key << "tables" << YAML::Value << YAML::BeginSeq;
    for (const auto& t : m.tables) {
        out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << t.name;
        strings("columns", t.columns);
        strings("constraints", t.constraints);
        strings("indexes", t.indexes);
        if (!t.options.empty()) out << YAML::Key << "options" << YAML::Value << YAML::DoubleQuoted << t.options;
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    out << YAML::Key << "views" << YAML::Value << YAML::BeginSeq;
    for (const auto& v : m.views) {
        out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << v.name;
        out << YAML::Key << "materialized" << YAML::Value << v.materialized;
        out << YAML::Key << "definition" << YAML::Value << YAML::DoubleQuoted << v.definition;
        strings("indexes", v.indexes);
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

std::vector<SchemaModel> builtin_models() {
    std::vector<SchemaModel> models;
    for (const auto& f : embedded_schema_files())
        // Model files are mLEVEL.ENGINE.yaml; other files of schema/ (migration_names.yaml) are not models.
        if (f.name.size() > 1 && f.name[0] == 'm' && isdigit(static_cast<unsigned char>(f.name[1]))) {
            models.push_back(parse_model(f.content, "schema/" + f.name));
            // Files are named after the level admins know (m124 = v9.11 ESR, which also carries backport 127).
            models.back().label = std::atoi(f.name.c_str() + 1);
        }
    return models;
}

namespace {
const std::vector<SchemaModel>& loaded_models() {
    static const std::vector<SchemaModel> models = builtin_models();
    return models;
}
}  // namespace

const SchemaModel* find_model(Engine engine, const std::map<int64_t, std::string>& migrations) {
    return find_in(loaded_models(), engine, [&](const SchemaModel& m) {
        MigrationSet set(m.migrations.begin(), m.migrations.end());
        return compare_migrations(set, migrations).same();
    });
}

std::vector<int> model_levels(Engine engine) {
    std::vector<int> levels;
    for (const auto& m : loaded_models())
        if (m.engine == engine) levels.push_back(m.label);
    std::sort(levels.begin(), levels.end());
    return levels;
}

const SchemaModel* find_model(Engine engine, int level) {
    return find_in(loaded_models(), engine, [&](const SchemaModel& m) { return m.label == level || m.level == level; });
}

SchemaModel dump_model(Database& db) {
    SchemaModel m;
    m.engine = db.engine();
    if (m.engine == Engine::postgres)
        dump_postgres(db, m);
    else
        dump_mysql(db, m);
    // mmmove's own tables (a copy's checkpoint, the record a sync reads) are not Mattermost's schema.
    std::erase_if(m.tables, [](const ModelTable& t) { return lower(t.name).rfind("mmmove_", 0) == 0; });
    Catalog cat = read_catalog(db);
    SchemaVersion v = read_schema_version(db, cat);
    for (const auto& [num, name] : v.migrations) m.migrations.emplace_back(num, name);
    m.level = static_cast<int>(v.highest());
    if (const Table* systems = cat.find("systems")) {
        for (const auto& r : db.query("SELECT name, value FROM " + db.quote_ident(systems->name) + " ORDER BY name"))
            if (roles().migration_systems_rows.count(val(r, 0))) m.systems.emplace_back(val(r, 0), val(r, 1));
    }
    return m;
}

void create_schema(Database& db, const SchemaModel& m, bool lower_case) {
    auto name_of = [&](const std::string& n) { return lower_case ? lower(n) : n; };
    bool pg = db.engine() == Engine::postgres;
    // On a lower-case (Bitnami) server every reference to a table is spelled in lower case too.
    auto with_lower_table_names = [&](std::string text) {
        for (const auto& t : m.tables) text = replace_all(text, db.quote_ident(t.name), db.quote_ident(lower(t.name)));
        return text;
    };
    std::vector<std::string> foreign_keys;
    std::optional<Transaction> tx;  // PostgreSQL creates the whole schema or nothing; MySQL's DDL commits as it goes
    if (pg)
        tx.emplace(db);
    else
        db.exec("SET SESSION foreign_key_checks = 0");
    for (const auto& [name, labels] : m.enums) db.exec("CREATE TYPE " + db.quote_ident(name) + " AS ENUM (" + labels + ")");
    for (const auto& t : m.tables) {
        std::string sql = "CREATE TABLE " + db.quote_ident(name_of(t.name)) + " (\n  ";
        std::vector<std::string> parts = t.columns;
        for (const auto& c : t.constraints) {
            // PostgreSQL checks a foreign key's target at creation: add those once every table exists.
            if (pg && c.find("FOREIGN KEY") != std::string::npos)
                foreign_keys.push_back("ALTER TABLE " + db.quote_ident(t.name) + " ADD " + c);
            else
                parts.push_back(lower_case ? with_lower_table_names(c) : c);
        }
        for (size_t i = 0; i < parts.size(); ++i) sql += (i ? ",\n  " : "") + parts[i];
        sql += "\n)";
        if (!t.options.empty()) sql += " " + t.options;
        db.exec(sql);
        for (const auto& idx : t.indexes) db.exec(replace_all(idx, "{table}", db.quote_ident(name_of(t.name))));
    }
    for (const auto& fk : foreign_keys) db.exec(fk);
    for (const auto& v : m.views) {
        std::string def = lower_case ? with_lower_table_names(v.definition) : v.definition;
        if (!def.empty() && def.back() == ';') def.pop_back();
        db.exec(std::string("CREATE ") + (v.materialized ? "MATERIALIZED " : "") + "VIEW " +
                db.quote_ident(name_of(v.name)) + " AS " + def + (v.materialized ? " WITH NO DATA" : ""));
        for (const auto& idx : v.indexes) db.exec(replace_all(idx, "{table}", db.quote_ident(name_of(v.name))));
    }
    std::string systems;
    for (const auto& t : m.tables)
        if (lower(t.name) == "systems") systems = name_of(t.name);
    if (!m.migrations.empty()) {
        std::string sql = "INSERT INTO db_migrations (version, name) VALUES ";
        for (size_t i = 0; i < m.migrations.size(); ++i)
            sql += (i ? ", (" : "(") + std::to_string(m.migrations[i].first) + ", " + db.quote_literal(m.migrations[i].second) + ")";
        db.exec(sql);
    }
    for (const auto& [name, value] : m.systems)
        db.exec("INSERT INTO " + db.quote_ident(systems) + " (name, value) VALUES (" + db.quote_literal(name) + ", " +
                db.quote_literal(value) + ")");
    if (pg)
        tx->commit();
    else
        db.exec("SET SESSION foreign_key_checks = 1");
}

}  // namespace mmmove

namespace mmmove {
namespace {

// Every column name each built-in model gives a table, lower case, keyed by lower-case table name:
// what a `change_columns` entry is checked against.
const std::map<std::string, std::set<std::string>>& model_columns() {
    static const std::map<std::string, std::set<std::string>> columns = [] {
        std::map<std::string, std::set<std::string>> out;
        for (const auto& m : loaded_models())
            for (const auto& t : m.tables)
                for (const auto& definition : t.columns) {
                    // "`Id` varchar(26) NOT NULL", "id character varying(26)", "\"timestamp\" bigint"
                    std::string name = definition.substr(0, definition.find(' '));
                    name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == '`' || c == '"'; }), name.end());
                    out[lower(t.name)].insert(lower(name));
                }
        return out;
    }();
    return columns;
}

}  // namespace

// The section's entries, checked for their form and, when `against_models`, against the built-in models.
static std::map<std::string, std::vector<std::string>> change_columns_of(const std::string& text, const std::string& origin,
                                                                         bool against_models) {
    auto refuse = [&](const std::string& what) {
        throw Error(ExitCode::bad_input, origin + ": change_columns " + what + " Fix the file (see its comment on change_columns).");
    };
    YAML::Node section;
    try {
        section = YAML::Load(text)["change_columns"];
    } catch (const YAML::Exception& e) {
        refuse(std::string("is malformed YAML: ") + e.what() + ".");
    }
    std::map<std::string, std::vector<std::string>> out;
    if (!section) return out;
    if (!section.IsMap()) refuse("must map table names to lists of columns.");
    const std::map<std::string, std::set<std::string>>* known = against_models ? &model_columns() : nullptr;
    for (const auto& entry : section) {
        if (!entry.first.IsScalar() || !entry.second.IsSequence()) refuse("must map table names to lists of columns.");
        std::string table = entry.first.Scalar();
        auto columns = known ? known->find(lower(table)) : std::map<std::string, std::set<std::string>>::const_iterator{};
        if (known && columns == known->end()) refuse("names the table '" + table + "', which no Mattermost schema model of mmmove has.");
        if (out.count(lower(table))) refuse("names the table '" + table + "' twice.");
        std::vector<std::string>& into = out[lower(table)];
        for (const auto& c : entry.second) {
            if (!c.IsScalar() || (known && !columns->second.count(lower(c.Scalar()))))
                refuse("gives " + table + " a column '" + (c.IsScalar() ? c.Scalar() : "?") + "' the table has in no schema model.");
            into.push_back(c.Scalar());
        }
    }
    return out;
}

std::map<std::string, std::vector<std::string>> parse_change_columns(const std::string& text, const std::string& origin) {
    return change_columns_of(text, origin, true);
}

const std::vector<std::string>& change_columns(const std::string& table_name) {
    static const std::vector<std::string> none;
    const auto& all = roles().change_columns;
    auto it = all.find(lower(table_name));
    return it == all.end() ? none : it->second;
}

}  // namespace mmmove
