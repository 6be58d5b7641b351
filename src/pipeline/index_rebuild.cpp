#include "pipeline/index_rebuild.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "catalog/catalog.h"

namespace mmmove {
namespace {

std::string key_name(const std::string& line) {
    auto a = line.find('`'), b = line.find('`', a + 1);
    return a == std::string::npos || b == std::string::npos ? "" : line.substr(a + 1, b - a - 1);
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

// The statements that rebuild one table's indexes, in order. InnoDB builds all plain keys of a table
// in one ALTER, but only one FULLTEXT index per ALTER.
std::vector<std::string> rebuild_statements(Database& db, const std::string& table, const std::vector<const SecondaryIndex*>& idx) {
    std::vector<std::string> out;
    std::set<std::string> have = existing_indexes(db, table);
    if (db.engine() == Engine::postgres) {
        for (const auto* i : idx)
            if (!have.count(i->name)) out.push_back(i->definition);
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

}  // namespace

std::vector<SecondaryIndex> secondary_indexes(Database& db, const std::vector<std::string>& tables) {
    std::vector<SecondaryIndex> out;
    for (const auto& t : tables) {
        if (db.engine() == Engine::postgres) {
            for (const auto& r : db.query(
                     "SELECT ic.relname, pg_get_indexdef(i.indexrelid), am.amname FROM pg_index i "
                     "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam "
                     "WHERE n.nspname = current_schema() AND c.relname = " + db.quote_literal(t) +
                     " AND NOT i.indisprimary AND NOT i.indisunique "
                     "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY ic.relname"))
                out.push_back({t, r[0].value_or(""), r[1].value_or(""), r[2].value_or("") == "gin"});
        } else {
            std::string ddl = db.query("SHOW CREATE TABLE " + db.quote_ident(t)).at(0).at(1).value_or("");
            size_t pos = 0;
            while ((pos = ddl.find('\n', pos)) != std::string::npos) {
                size_t end = ddl.find('\n', pos + 1);
                std::string line = ddl.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
                pos = end;
                while (!line.empty() && line[0] == ' ') line.erase(0, 1);
                if (!line.empty() && line.back() == ',') line.pop_back();
                bool ft = line.rfind("FULLTEXT KEY ", 0) == 0;
                if (line.rfind("KEY ", 0) == 0 || ft) out.push_back({t, key_name(line), line, ft});
                if (end == std::string::npos) break;
            }
        }
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
    std::mutex m;
    std::exception_ptr error;
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < std::max(1u, jobs); ++w)
        threads.emplace_back([&] {
            try {
                auto db = Database::connect(ds, Side::destination);
                if (db->engine() == Engine::postgres) db->exec("SET maintenance_work_mem = '256MB'");
                for (size_t i; (i = next++) < tasks.size();)
                    for (const auto& s : tasks[i]) db->exec(s);
            } catch (...) {
                std::lock_guard lock(m);
                if (!error) error = std::current_exception();
            }
        });
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    if (!quiet)
        log << "  rebuilt " << indexes.size() << " secondary indexes in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
}

nlohmann::json indexes_to_json(const std::vector<SecondaryIndex>& indexes) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& i : indexes) j.push_back({{"table", i.table}, {"name", i.name}, {"definition", i.definition}, {"fulltext", i.fulltext}});
    return j;
}

std::vector<SecondaryIndex> indexes_from_json(const nlohmann::json& j) {
    std::vector<SecondaryIndex> out;
    for (const auto& e : j)
        out.push_back({e["table"].get<std::string>(), e["name"].get<std::string>(), e["definition"].get<std::string>(), e["fulltext"].get<bool>()});
    return out;
}

}  // namespace mmmove
