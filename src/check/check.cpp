#include "check/check.h"

#include <algorithm>

#include "check/check_steps.h"
#include "core/printable.h"
#include "db/database_identity.h"

namespace mmmove {

SideState read_side(Database& db) {
    SideState s;
    s.label = db.data_source().label();
    s.engine = db.engine();
    s.server_version = db.server_version();
    s.catalog = read_catalog(db);
    s.version = read_schema_version(db, s.catalog);
    return s;
}

bool copied_role(const std::string& table) {
    TableRole role = table_role(table);
    return role == TableRole::content || role == TableRole::server_bootstrap;
}

namespace {
// A database with no tables but mmmove's own (a refresh's record, written before its first copy) is
// as empty as one with none.
bool holds_only_mmmove_tables(const Catalog& c) {
    for (const auto& t : c.tables)
        if (lower(t.name).rfind("mmmove_", 0) != 0) return false;
    return c.views.empty();
}
}  // namespace

bool CheckReport::blocked() const {
    return std::any_of(findings.begin(), findings.end(),
                       [](const Finding& f) { return f.severity == Finding::Severity::blocking; });
}

ExitCode CheckReport::exit_code() const {
    for (const auto& f : findings)
        if (f.severity == Finding::Severity::blocking) return f.code;
    return ExitCode::ok;
}

namespace check_steps {

void block(CheckReport& r, ExitCode code, std::string text) {
    r.findings.push_back({Finding::Severity::blocking, code, std::move(text)});
}
void warn(CheckReport& r, std::string text) { r.findings.push_back({Finding::Severity::warning, ExitCode::ok, std::move(text)}); }
void info(CheckReport& r, std::string text) { r.findings.push_back({Finding::Severity::info, ExitCode::ok, std::move(text)}); }

}  // namespace check_steps

namespace {

using namespace check_steps;

// Kinds that hold the same values on both engines. Older schemas keep JSON in text columns.
bool compatible(ColumnKind a, ColumnKind b) {
    auto family = [](ColumnKind k) {
        switch (k) {
            case ColumnKind::json:           // JSON lives in text columns in older schemas
            case ColumnKind::text_array:     // PostgreSQL varchar(26)[] holds what MySQL keeps as a JSON array
            case ColumnKind::enumeration: return ColumnKind::text;
            default: return k;
        }
    };
    return family(a) == family(b);
}

void compare_catalogs(CheckReport& r, const CheckOptions& o) {
    const Catalog& src = r.source.catalog;
    const Catalog& dst = r.dest.catalog;
    for (const auto& t : src.tables) {
        if (!copied_role(t.name)) continue;
        const Table* d = dst.find(t.name);
        if (!d) {
            r.source_only_tables.push_back(t.name);
            if (o.skip_tables.count(lower(t.name)) || o.skip_missing_tables)
                warn(r, "Table " + t.name + " exists only on the source; it will not be copied (--skip-table / --skip-missing-tables).");
            else
                block(r, ExitCode::mismatch,
                      "Table " + t.name + " exists only on the source (a plugin's table, or a different Mattermost version). "
                      "Install the same plugins on the destination, or pass --skip-table " + t.name +
                      " (or --skip-missing-tables) to leave it behind.");
            continue;
        }
        if (o.skip_tables.count(lower(t.name))) continue;
        for (const auto& c : t.columns) {
            const Column* dc = d->find_column(c.name);
            if (!dc) {
                block(r, ExitCode::mismatch,
                      "Column " + t.name + "." + c.name + " exists on the source but not on the destination (" +
                          describe_version(r.dest) + "). Bring both sides to the same Mattermost version.");
                continue;
            }
            if (!compatible(c.kind, dc->kind))
                block(r, ExitCode::mismatch,
                      "Column " + t.name + "." + c.name + " is " + c.type + " on the source but " + dc->type +
                          " on the destination; mmmove cannot move " + column_kind_name(c.kind) + " values into a " +
                          column_kind_name(dc->kind) + " column. Recreate the destination schema with the source's Mattermost version.");
        }
        for (const auto& dc : d->columns)
            if (!t.find_column(dc.name) && !dc.nullable && !dc.has_default)
                block(r, ExitCode::mismatch,
                      "Column " + d->name + "." + dc.name + " exists only on the destination and is NOT NULL without a "
                      "default, so no source row can fill it. Bring both sides to the same Mattermost version.");
    }
    for (const auto& t : dst.tables)
        if (copied_role(t.name) && !src.find(t.name)) r.dest_only_tables.push_back(t.name);
    if (!r.dest_only_tables.empty()) {
        std::string names;
        for (const auto& n : r.dest_only_tables) names += (names.empty() ? "" : ", ") + n;
        info(r, "Tables only on the destination (left as they are): " + names + ".");
    }
}

// The privileges a copy needs on the destination, found before anything is written.
void check_privileges(CheckReport& r, Database& dest, const CheckOptions& o, bool creating) {
    std::string user = dest.data_source().user;
    if (dest.engine() == Engine::postgres) {
        if (creating) {
            auto can = dest.query("SELECT has_schema_privilege(current_schema(), 'CREATE')::int, current_schema()");
            if (!can.empty() && can[0][0].value_or("0") != "1")
                block(r, ExitCode::destination,
                      "User \"" + user + "\" may not create tables in schema " + can[0][1].value_or("public") +
                          " of the destination (PostgreSQL 15 no longer lets every user create in public). As a "
                          "superuser run: ALTER SCHEMA public OWNER TO " + user + "; or GRANT CREATE ON SCHEMA public TO " + user + ";");
            return;
        }
        std::string missing;
        for (const auto& row : dest.query(
                 "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT (has_table_privilege(c.oid, 'INSERT') "
                 "AND has_table_privilege(c.oid, 'DELETE') AND has_table_privilege(c.oid, 'TRUNCATE')) ORDER BY 1")) {
            std::string t = row[0].value_or("");
            TableRole role = table_role(t);
            if ((role == TableRole::content || role == TableRole::server_bootstrap) && !o.skip_tables.count(lower(t)))
                missing += (missing.empty() ? "" : ", ") + t;
        }
        if (!missing.empty())
            block(r, ExitCode::destination,
                  "User \"" + user + "\" lacks INSERT, DELETE or TRUNCATE on destination tables: " + missing +
                      ". Run mmmove as the user that owns Mattermost's tables, or GRANT INSERT, DELETE, TRUNCATE ON ALL "
                      "TABLES IN SCHEMA public TO " + user + ";");
        std::string not_owned;
        for (const auto& row : dest.query("SELECT matviewname FROM pg_matviews WHERE schemaname = current_schema() AND "
                                          "NOT pg_has_role(matviewowner, 'USAGE') ORDER BY 1"))
            not_owned += (not_owned.empty() ? "" : ", ") + row[0].value_or("");
        if (!not_owned.empty())
            block(r, ExitCode::destination,
                  "User \"" + user + "\" does not own the materialized views " + not_owned +
                      ", so it cannot refresh them after the copy. Run mmmove as their owner (the user Mattermost runs as).");
        return;
    }
    // MySQL / MariaDB: global and database-level grants of the current account.
    const std::string grantee =
        "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
    auto rows = dest.query("SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = " + grantee +
                           " UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA = "
                           "DATABASE() AND GRANTEE = " + grantee);
    std::set<std::string> have;
    for (const auto& row : rows) have.insert(row[0].value_or(""));
    std::vector<std::string> need = {"INSERT", "DELETE", "DROP"};
    if (creating) need.insert(need.end(), {"CREATE", "INDEX", "CREATE VIEW"});
    std::string missing;
    for (const auto& p : need)
        if (!have.count(p)) missing += (missing.empty() ? "" : ", ") + p;
    if (!missing.empty())
        warn(r, "mmmove could not confirm that user \"" + user + "\" holds " + missing + " on the destination database "
                "(TRUNCATE needs DROP). If the copy is refused, GRANT ALL ON " + dest.data_source().database + ".* TO the user.");
}

// Names that MySQL matched case-insensitively become exact on PostgreSQL (webhooks, slash commands).
void check_name_case(CheckReport& r, Database& source) {
    const Table* channels = r.source.catalog.find("channels");
    const Table* users = r.source.catalog.find("users");
    if (!channels || !users) return;
    auto n = [&](const std::string& sql) { return std::stoull(source.query(sql).at(0).at(0).value_or("0")); };
    uint64_t upper_channels = n("SELECT COUNT(*) FROM " + source.quote_ident(channels->name) +
                                " WHERE BINARY Name <> LOWER(Name) AND Type IN ('O', 'P')");
    uint64_t upper_users = n("SELECT COUNT(*) FROM " + source.quote_ident(users->name) +
                             " WHERE BINARY Username <> LOWER(Username) OR BINARY Email <> LOWER(Email)");
    if (upper_channels || upper_users)
        warn(r, "On PostgreSQL, names are matched case-sensitively: " + std::to_string(upper_channels) +
                    " channel names and " + std::to_string(upper_users) + " usernames or emails contain capitals, "
                    "and integrations (incoming webhooks, slash commands) that name them in another case will stop "
                    "matching. Update those integrations to the exact names after the move.");
}

// Row counts of the source, as the engine estimates them, for the plan.
void describe_sizes(CheckReport& r, Database& source) {
    auto rows = estimate_row_counts(source);
    std::vector<std::pair<uint64_t, std::string>> sized;
    uint64_t total = 0;
    for (const auto& t : r.source.catalog.tables) {
        uint64_t n = rows[lower(t.name)];
        total += n;
        if (n) sized.emplace_back(n, t.name);
    }
    std::sort(sized.rbegin(), sized.rend());
    std::string top;
    for (size_t i = 0; i < sized.size() && i < 6; ++i) top += (i ? ", " : "") + sized[i].second + " ~" + std::to_string(sized[i].first);
    info(r, "The source holds about " + std::to_string(total) + " rows" + (top.empty() ? "" : " (largest: " + top + ")") +
                "; exact counts are compared at the end of the copy.");
}

}  // namespace

CheckReport run_check(Database& source, Database& dest, const CheckOptions& o) {
    CheckReport r;
    r.source = read_side(source);
    r.dest = read_side(dest);
    info(r, std::string("Source: ") + r.source.label + ", server " + r.source.server_version + ", table names: " +
                table_case_name(r.source.catalog.table_case) + ", " + describe_version(r.source) + ".");
    info(r, std::string("Destination: ") + r.dest.label + ", server " + r.dest.server_version + ", table names: " +
                table_case_name(r.dest.catalog.table_case) + ", " + describe_version(r.dest) + ".");
    note_systems_versions(r);
    // Two DSNs of one database (localhost and 127.0.0.1, TCP and the Unix socket, an alias): a copy
    // would empty the source before reading it, a sync would write into it. A merge says so itself.
    if (!o.merge && same_database(source, dest)) {
        block(r, ExitCode::destination, "The destination " + r.dest.label + " is the source's database (the server says so, "
                                        "whatever the DSNs): a copy or sync into it would empty or rewrite the source. Check --to.");
        return r;
    }
    check_other_sessions(r, dest, o);
    if (!source_has_schema(r)) return r;
    if (holds_only_mmmove_tables(r.dest.catalog)) {
        plan_schema_creation(r, o);
        if (r.create_model) check_privileges(r, dest, o, true);
        return r;
    }
    if (!destination_has_schema(r)) return r;
    compare_versions(r);
    compare_catalogs(r, o);
    check_value_fit(r, o);
    describe_sizes(r, source);
    check_destination_rows(r, dest, o);
    check_privileges(r, dest, o, false);
    if (r.source.engine == Engine::mysql && r.dest.engine == Engine::postgres) check_name_case(r, source);
    if (r.source.engine == Engine::mysql && r.dest.engine == Engine::postgres)
        info(r, "After the move, start the newer Mattermost release on PostgreSQL: it applies the PostgreSQL-only "
                "migrations after " + std::to_string(r.dest.version.highest()) + " itself.");
    return r;
}

static void print_check_unescaped(const CheckReport& r, std::ostream& out, const std::string& action) {
    for (const auto& f : r.findings) {
        const char* tag = f.severity == Finding::Severity::blocking ? "BLOCKING" : f.severity == Finding::Severity::warning ? "warning" : "ok";
        out << "  [" << tag << "] " << f.text << "\n";
    }
    if (r.blocked())
        out << "check: blocked; nothing was written to either side.\n";
    else
        out << "check: ready to " << action << ".\n";
}

void print_check(const CheckReport& r, std::ostream& out, const std::string& action) {
    print_printable(out, [&](std::ostream& text) { print_check_unescaped(r, text, action); });
}

std::vector<const Table*> tables_to_copy(const CheckReport& r, const CheckOptions& o) {
    std::vector<const Table*> tables;
    for (const auto& t : r.source.catalog.tables)
        if (copied_role(t.name) && !o.skip_tables.count(lower(t.name)) && (r.dest.catalog.find(t.name) || r.create_model))
            tables.push_back(&t);
    // A table goes after the tables its foreign keys point to (PostgreSQL checks them row by row).
    const auto& fks = r.dest.catalog.foreign_keys.empty() ? r.source.catalog.foreign_keys : r.dest.catalog.foreign_keys;
    std::vector<const Table*> ordered;
    std::set<std::string> placed;
    while (ordered.size() < tables.size()) {
        size_t before = ordered.size();
        for (const Table* t : tables) {
            if (placed.count(lower(t->name))) continue;
            bool ready = true;
            for (const auto& [child, parent] : fks)
                if (lower(child) == lower(t->name) && lower(parent) != lower(t->name) && !placed.count(lower(parent)) &&
                    std::any_of(tables.begin(), tables.end(), [&](const Table* x) { return lower(x->name) == lower(parent); }))
                    ready = false;
            if (ready) {
                ordered.push_back(t);
                placed.insert(lower(t->name));
            }
        }
        if (ordered.size() == before) {  // a cycle: keep the remaining tables in name order
            for (const Table* t : tables)
                if (!placed.count(lower(t->name))) ordered.push_back(t), placed.insert(lower(t->name));
        }
    }
    return ordered;
}

}  // namespace mmmove
