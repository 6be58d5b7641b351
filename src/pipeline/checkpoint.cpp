#include "pipeline/checkpoint.h"

#include "catalog/catalog.h"

namespace mmmove {

bool Checkpoint::exists() {
    std::string q = db_.engine() == Engine::postgres
                        ? "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'mmmove_copy_state'"
                        : "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'mmmove_copy_state'";
    return !db_.query(q).empty();
}

void Checkpoint::create(const nlohmann::json& state) {
    db_.exec(std::string("CREATE TABLE ") + kStateTable + " (name varchar(64) NOT NULL PRIMARY KEY, value " +
             (db_.engine() == Engine::postgres ? "text" : "longtext") + " NOT NULL)");
    db_.exec(std::string("CREATE TABLE ") + kChunkTable +
             " (table_name varchar(128) NOT NULL, chunk integer NOT NULL, row_count bigint NOT NULL, PRIMARY KEY (table_name, chunk))");
    for (auto it = state.begin(); it != state.end(); ++it) set(it.key(), it.value());
}

nlohmann::json Checkpoint::state() {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& r : db_.query(std::string("SELECT name, value FROM ") + kStateTable))
        j[r[0].value_or("")] = nlohmann::json::parse(r[1].value_or("null"));
    return j;
}

void Checkpoint::set(const std::string& key, const nlohmann::json& value) {
    db_.exec(std::string("DELETE FROM ") + kStateTable + " WHERE name = " + db_.quote_literal(key));
    db_.exec(std::string("INSERT INTO ") + kStateTable + " (name, value) VALUES (" + db_.quote_literal(key) + ", " +
             db_.quote_literal(value.dump()) + ")");
}

std::map<std::pair<std::string, size_t>, uint64_t> Checkpoint::done() {
    std::map<std::pair<std::string, size_t>, uint64_t> out;
    for (const auto& r : db_.query(std::string("SELECT table_name, chunk, row_count FROM ") + kChunkTable))
        out[{r[0].value_or(""), std::stoull(r[1].value_or("0"))}] = std::stoull(r[2].value_or("0"));
    return out;
}

void Checkpoint::record(Database& conn, const std::string& table, size_t chunk, uint64_t rows) {
    conn.exec(std::string("INSERT INTO ") + kChunkTable + " (table_name, chunk, row_count) VALUES (" +
              conn.quote_literal(lower(table)) + ", " + std::to_string(chunk) + ", " + std::to_string(rows) + ")");
}

void Checkpoint::drop() {
    db_.exec(std::string("DROP TABLE IF EXISTS ") + kChunkTable);
    db_.exec(std::string("DROP TABLE IF EXISTS ") + kStateTable);
}

}  // namespace mmmove
