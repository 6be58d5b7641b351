#include "pipeline/index_rebuild.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include "catalog/catalog.h"
#include "core/error.h"
#include "core/printable.h"
#include "core/workers.h"

namespace mmmove {
namespace {

std::string key_name(const std::string& line) {
    auto a = line.find('`'), b = line.find('`', a + 1);
    return a == std::string::npos || b == std::string::npos ? "" : line.substr(a + 1, b - a - 1);
}

// Mattermost's index names are plain identifiers; an index spelled otherwise is never set aside.
bool plain_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 && name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
}

// A value read back from the checkpoint, as an error message may show it: its first 64 bytes on one
// line, escaped as every text mmmove did not write is.
std::string shown(const std::string& s) { return printable(std::string_view(s).substr(0, 64)) + (s.size() > 64 ? "…" : ""); }

const ModelTable* model_table(const SchemaModel& model, const std::string& table) {
    for (const auto& t : model.tables)
        if (lower(t.name) == lower(table)) return &t;
    return nullptr;
}

// The secondary (non-unique) indexes the model defines for `table`, named as the destination spells it.
std::vector<SecondaryIndex> model_indexes(const SchemaModel* model, const std::string& table) {
    std::vector<SecondaryIndex> out;
    const ModelTable* t = model ? model_table(*model, table) : nullptr;
    if (!t) return out;
    if (model->engine == Engine::postgres) {
        const std::string head = "CREATE INDEX ";
        for (const auto& def : t->indexes) {
            auto on = def.find(" ON {table} ");
            if (def.rfind(head, 0) != 0 || on == std::string::npos) continue;
            std::string name = def.substr(head.size(), on - head.size());
            if (plain_name(name)) out.push_back({table, name, def, def.find(" USING gin ") != std::string::npos});
        }
    } else {
        for (const auto& line : t->constraints) {
            bool ft = line.rfind("FULLTEXT KEY ", 0) == 0;
            if (!ft && line.rfind("KEY ", 0) != 0) continue;
            std::string name = key_name(line);
            if (plain_name(name)) out.push_back({table, name, line, ft});
        }
    }
    return out;
}

std::set<std::string> existing_indexes(Database& db, const std::string& table) {
    std::set<std::string> names;
    if (db.engine() == Engine::postgres) {
        for (const auto& r : db.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = " +
                                      db.quote_literal(table)))
            names.insert(r[0].value_or(""));
    } else {
        for (const auto& r : db.query("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
                                      "AND TABLE_NAME = " + db.quote_literal(table)))
            names.insert(r[0].value_or(""));
    }
    return names;
}

// The destination's secondary indexes of `table` as it defines them now, in the model's form
// (name → definition): only compared with the model, never run.
std::map<std::string, std::string> live_indexes(Database& db, const std::string& table) {
    std::map<std::string, std::string> out;
    if (db.engine() == Engine::postgres) {
        for (const auto& r : db.query(
                 "SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                 "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "JOIN pg_class ic ON ic.oid = i.indexrelid "
                 "WHERE n.nspname = current_schema() AND c.relname = " + db.quote_literal(table) +
                 " AND NOT i.indisprimary AND NOT i.indisunique "
                 "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"))
            out[r[0].value_or("")] = index_template(r[1].value_or(""));
        return out;
    }
    std::string ddl = db.query("SHOW CREATE TABLE " + db.quote_ident(table)).at(0).at(1).value_or("");
    for (size_t pos = ddl.find('\n'); pos != std::string::npos;) {
        size_t end = ddl.find('\n', pos + 1);
        std::string line = ddl.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
        pos = end;
        while (!line.empty() && line[0] == ' ') line.erase(0, 1);
        if (!line.empty() && line.back() == ',') line.pop_back();
        if (line.rfind("KEY ", 0) == 0 || line.rfind("FULLTEXT KEY ", 0) == 0) out[key_name(line)] = line;
    }
    return out;
}

std::string replace_table(std::string def, const std::string& quoted_table) {
    auto at = def.find("{table}");
    return at == std::string::npos ? def : def.replace(at, 7, quoted_table);
}

// The statements that rebuild one table's indexes, in order. InnoDB builds all plain keys of a table
// in one ALTER, but only one FULLTEXT index per ALTER.
std::vector<std::string> rebuild_statements(Database& db, const std::string& table, const std::vector<const SecondaryIndex*>& idx) {
    std::vector<std::string> out;
    std::set<std::string> have = existing_indexes(db, table);
    if (db.engine() == Engine::postgres) {
        for (const auto* i : idx)
            if (!have.count(i->name)) out.push_back(replace_table(i->definition, db.quote_ident(table)));
        return out;
    }
    std::string plain;
    for (const auto* i : idx)
        if (!have.count(i->name) && !i->fulltext) plain += (plain.empty() ? "" : ", ") + std::string("ADD ") + i->definition;
    if (!plain.empty()) out.push_back("ALTER TABLE " + db.quote_ident(table) + " " + plain);
    for (const auto* i : idx)
        if (!have.count(i->name) && i->fulltext) out.push_back("ALTER TABLE " + db.quote_ident(table) + " ADD " + i->definition);
    return out;
}

[[noreturn]] void altered_indexes(const std::string& what) {
    throw Error(ExitCode::destination, "The checkpoint of the interrupted copy on the destination (table mmmove_copy_state) lists " + what +
                                           ": mmmove did not write that, and will not use it. Start the copy again with --truncate "
                                           "instead of --resume.");
}

}  // namespace

std::vector<SecondaryIndex> deferrable_indexes(Database& db, const SchemaModel* model, const std::vector<std::string>& tables) {
    std::vector<SecondaryIndex> out;
    for (const auto& t : tables) {
        std::vector<SecondaryIndex> known = model_indexes(model, t);
        if (known.empty()) continue;
        std::map<std::string, std::string> live = live_indexes(db, t);
        for (auto& i : known) {
            auto it = live.find(i.name);
            if (it != live.end() && it->second == i.definition) out.push_back(std::move(i));
        }
    }
    return out;
}

std::vector<SecondaryIndex> missing_indexes(Database& db, const SchemaModel* model, const std::vector<std::string>& tables) {
    std::vector<SecondaryIndex> out;
    for (const auto& t : tables) {
        std::vector<SecondaryIndex> known = model_indexes(model, t);
        if (known.empty()) continue;
        std::set<std::string> have = existing_indexes(db, t);
        for (auto& i : known)
            if (!have.count(i.name)) out.push_back(std::move(i));
    }
    return out;
}

void drop_indexes(Database& db, const std::vector<SecondaryIndex>& indexes) {
    std::map<std::string, std::vector<const SecondaryIndex*>> by_table;
    for (const auto& i : indexes) by_table[i.table].push_back(&i);
    for (const auto& [table, list] : by_table) {
        if (db.engine() == Engine::postgres) {
            for (const auto* i : list) db.exec("DROP INDEX IF EXISTS " + db.quote_ident(i->name));
        } else {
            // Only those still there: a copy restarted with --truncate may find some already dropped.
            std::set<std::string> have = existing_indexes(db, table);
            std::string drops;
            for (const auto* i : list)
                if (have.count(i->name)) drops += (drops.empty() ? "" : ", ") + std::string("DROP INDEX ") + db.quote_ident(i->name);
            if (!drops.empty()) db.exec("ALTER TABLE " + db.quote_ident(table) + " " + drops);
        }
    }
}

void rebuild_indexes(const DataSource& ds, const std::vector<SecondaryIndex>& indexes, unsigned jobs, std::ostream& log, bool quiet) {
    if (indexes.empty()) return;
    std::map<std::string, std::vector<const SecondaryIndex*>> by_table;
    for (const auto& i : indexes) by_table[i.table].push_back(&i);
    // PostgreSQL builds any two indexes at once; MySQL locks the table, so its work is one queue per table.
    std::vector<std::vector<std::string>> tasks;
    {
        auto db = Database::connect(ds, Side::destination);
        for (const auto& [table, list] : by_table) {
            auto stmts = rebuild_statements(*db, table, list);
            if (db->engine() == Engine::postgres)
                for (auto& s : stmts) tasks.push_back({std::move(s)});
            else if (!stmts.empty())
                tasks.push_back(std::move(stmts));
        }
    }
    // Largest first is unknown here; full-text and Posts indexes are the long ones, so start those early.
    std::stable_sort(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) {
        auto weight = [](const std::vector<std::string>& t) {
            int w = 0;
            for (const auto& s : t) w += (s.find("gin") != std::string::npos || s.find("FULLTEXT") != std::string::npos) * 2 +
                                         (lower(s).find("posts") != std::string::npos);
            return w;
        };
        return weight(a) > weight(b);
    });
    std::atomic<size_t> next{0};
    auto start = std::chrono::steady_clock::now();
    // Each worker on its own connection; once one fails, the others finish the index they are building
    // and take no other.
    run_workers(std::max(1u, jobs), [&](unsigned, const StopFlag& stop) {
        auto db = Database::connect(ds, Side::destination);
        if (db->engine() == Engine::postgres) db->exec("SET maintenance_work_mem = '256MB'");
        for (size_t i; !stop.stopped() && (i = next++) < tasks.size();)
            for (const auto& s : tasks[i]) db->exec(s);
    });
    if (!quiet)
        log << "  rebuilt " << indexes.size() << " secondary indexes in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
}

nlohmann::json indexes_to_json(const std::vector<SecondaryIndex>& indexes) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& i : indexes) j.push_back({{"table", i.table}, {"name", i.name}});
    return j;
}

std::vector<SecondaryIndex> indexes_from_json(const nlohmann::json& j, const SchemaModel* model, const std::vector<std::string>& tables) {
    if (j.is_null()) return {};
    if (!j.is_array() || j.size() > 100000) altered_indexes("something other than the indexes it set aside");
    std::vector<SecondaryIndex> out;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& e : j) {
        if (!e.is_object() || !e.contains("table") || !e.contains("name") || !e["table"].is_string() || !e["name"].is_string())
            altered_indexes("a malformed index entry");
        const std::string table = e["table"].get<std::string>(), name = e["name"].get<std::string>();
        // Only the table and name are read; a definition an older mmmove kept there is ignored.
        if (std::find(tables.begin(), tables.end(), table) == tables.end())
            altered_indexes("an index of \"" + shown(table) + "\", which is not a table this copy loads");
        std::vector<SecondaryIndex> known = model_indexes(model, table);
        auto it = std::find_if(known.begin(), known.end(), [&](const SecondaryIndex& i) { return i.name == name; });
        if (it == known.end())
            altered_indexes("the index \"" + shown(name) + "\" of " + shown(table) + ", which mmmove's schema model for the destination's level does not define");
        if (seen.insert({table, name}).second) out.push_back(std::move(*it));
    }
    return out;
}

void refresh_materialized_views(Database& dst, const Catalog& catalog, std::ostream& log, bool quiet,
                                const std::function<void(const std::string&)>& on_view) {
    if (dst.engine() != Engine::postgres) return;
    for (const auto& v : catalog.materialized_views) {
        if (on_view) on_view(v);
        dst.exec("REFRESH MATERIALIZED VIEW " + dst.quote_ident(v));
        if (!quiet) log << "  refreshed materialized view " << printable(v) << "\n";
    }
}

std::vector<std::string> analyse_never_analysed(Database& dst) {
    if (dst.engine() != Engine::postgres) return {};
    std::vector<std::string> tables;
    for (const auto& row : dst.query("SELECT c.relname::text FROM pg_class c WHERE c.relkind = 'r' AND c.reltuples < 0 AND "
                                     "c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) ORDER BY 1"))
        if (!row.empty() && row[0]) tables.push_back(*row[0]);
    if (tables.empty()) return tables;
    std::string sql = "ANALYZE ";
    for (size_t i = 0; i < tables.size(); ++i) sql += (i ? ", " : "") + dst.quote_ident(tables[i]);
    dst.exec(sql);
    return tables;
}

std::map<std::string, std::set<std::string>> view_sources(Database& dst) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& row : dst.query("SELECT DISTINCT v.relname, t.relname FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class "
                                     "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND "
                                     "d.refclassid = 'pg_class'::regclass JOIN pg_class t ON t.oid = d.refobjid "
                                     "WHERE v.relkind = 'm' AND t.oid <> v.oid AND v.relnamespace = "
                                     "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"))
        if (row.size() == 2 && row[0] && row[1]) out[lower(*row[0])].insert(lower(*row[1]));
    return out;
}

std::vector<std::string> views_reading(Database& dst, const Catalog& catalog, const std::set<std::string>& tables) {
    if (dst.engine() != Engine::postgres) return {};
    const auto sources = view_sources(dst);
    std::set<std::string> stale = tables;  // grows by the views found to read a stale relation
    std::vector<std::string> out;
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& v : catalog.materialized_views) {
            auto it = sources.find(lower(v));
            if (stale.count(lower(v)) || it == sources.end()) continue;
            if (std::any_of(it->second.begin(), it->second.end(), [&](const std::string& t) { return stale.count(t) > 0; }))
                stale.insert(lower(v)), grew = true;
        }
    }
    for (const auto& v : catalog.materialized_views)
        if (stale.count(lower(v)) && !tables.count(lower(v))) out.push_back(v);
    return out;
}

void refresh_views(const std::vector<std::string>& views, const std::vector<Database*>& connections, std::ostream& log, bool quiet) {
    if (views.empty() || connections.empty() || connections[0]->engine() != Engine::postgres) return;
    std::set<std::string> names;
    for (const auto& v : views) names.insert(lower(v));
    bool chained = false;  // a view reading another of them: refreshed after it, so one at a time
    for (const auto& [view, reads] : view_sources(*connections[0]))
        if (names.count(view))
            for (const auto& t : reads) chained = chained || names.count(t) > 0;
    // Side by side, the largest first (by what each holds now, as its query last made it): the longest
    // refresh starts at once instead of after the short ones, so the pass waits for it the least.
    std::vector<std::string> order = views;
    if (!chained && connections.size() > 1) {
        std::map<std::string, double> size;
        Database& db = *connections[0];
        for (const auto& row : db.query("SELECT c.relname::text, pg_total_relation_size(c.oid)::float8 FROM pg_class c "
                                        "WHERE c.relkind = 'm' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"))
            if (row.size() == 2 && row[0] && row[1]) size[lower(*row[0])] = std::strtod(row[1]->c_str(), nullptr);
        std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) { return size[lower(a)] > size[lower(b)]; });
    }
    std::mutex m;
    for_each_item(chained ? 1u : static_cast<unsigned>(connections.size()), order.size(), [&](unsigned w, size_t i) {
        connections[w]->exec("REFRESH MATERIALIZED VIEW " + connections[w]->quote_ident(order[i]));
        std::lock_guard lock(m);
        if (!quiet) log << "  refreshed materialized view " << printable(order[i]) << "\n";
    });
}

std::unique_ptr<Database> open_view_refresher(const DataSource& dst) {
    auto db = Database::connect(dst, Side::destination);
    if (db->engine() == Engine::postgres) db->exec(std::string("SET work_mem = '") + kViewWorkMem + "'");
    return db;
}

void refresh_views_apart(const DataSource& dst, const std::vector<std::string>& views, unsigned jobs, std::ostream& log, bool quiet) {
    if (views.empty()) return;
    const size_t n = std::min<size_t>(worker_count(jobs), views.size());
    std::vector<std::unique_ptr<Database>> own;
    std::vector<Database*> connections;
    for (size_t i = 0; i < n; ++i) connections.push_back(own.emplace_back(open_view_refresher(dst)).get());
    refresh_views(views, connections, log, quiet);
}

}  // namespace mmmove
