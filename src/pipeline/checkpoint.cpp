#include "pipeline/checkpoint.h"

#include "catalog/catalog.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "pipeline/issue_log.h"

namespace mmmove {
namespace {

uint64_t read_count(const std::optional<std::string>& v) {
    const std::string s = v.value_or("0");
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
        throw Error(ExitCode::destination, "The checkpoint of the interrupted copy (table " + std::string(Checkpoint::kChunkTable) +
                                               " on the destination) holds a value mmmove did not write. Start again with --truncate.");
    return std::stoull(s);
}

}  // namespace

bool Checkpoint::exists() { return table_exists(db_, kStateTable); }

void Checkpoint::create(const nlohmann::json& state) {
    const std::string text = db_.engine() == Engine::postgres ? "text" : "longtext";
    db_.exec(std::string("CREATE TABLE ") + kStateTable + " (name varchar(64) NOT NULL PRIMARY KEY, value " + text + " NOT NULL)");
    db_.exec(std::string("CREATE TABLE ") + kChunkTable +
             " (table_name varchar(128) NOT NULL, chunk integer NOT NULL, row_count bigint NOT NULL, "
             "skipped bigint NOT NULL, matched bigint NOT NULL, PRIMARY KEY (table_name, chunk))");
    db_.exec(std::string("CREATE TABLE ") + ChunkIssues::kTable + " (table_name varchar(128) NOT NULL, chunk integer NOT NULL, "
             "seq integer NOT NULL, summary " + text + " NOT NULL, line " + text + " NOT NULL, PRIMARY KEY (table_name, chunk, seq))");
    for (auto it = state.begin(); it != state.end(); ++it) set(it.key(), it.value());
}

nlohmann::json Checkpoint::state() {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& r : db_.query(std::string("SELECT name, value FROM ") + kStateTable)) {
        const std::string text = r[1].value_or("null");
        auto v = json_deeper_than(text) ? nlohmann::json(nlohmann::json::value_t::discarded) : nlohmann::json::parse(text, nullptr, false);
        if (v.is_discarded())
            throw Error(ExitCode::destination, std::string("The checkpoint of the interrupted copy (table ") + kStateTable +
                                                   " on the destination) is damaged. Start again with --truncate.");
        j[r[0].value_or("")] = std::move(v);
    }
    return j;
}

void Checkpoint::set(const std::string& key, const nlohmann::json& value) {
    db_.exec(std::string("DELETE FROM ") + kStateTable + " WHERE name = " + db_.quote_literal(key));
    db_.exec(std::string("INSERT INTO ") + kStateTable + " (name, value) VALUES (" + db_.quote_literal(key) + ", " +
             db_.quote_literal(value.dump()) + ")");
}

std::map<std::pair<std::string, size_t>, ChunkDone> Checkpoint::done() {
    std::map<std::pair<std::string, size_t>, ChunkDone> out;
    for (const auto& r : db_.query(std::string("SELECT table_name, chunk, row_count, skipped, matched FROM ") + kChunkTable))
        out[{r[0].value_or(""), read_count(r[1])}] = ChunkDone{read_count(r[2]), read_count(r[3]), read_count(r[4])};
    return out;
}

void Checkpoint::record(Database& conn, const std::string& table, size_t chunk, const ChunkDone& done) {
    conn.exec(std::string("INSERT INTO ") + kChunkTable + " (table_name, chunk, row_count, skipped, matched) VALUES (" +
              conn.quote_literal(lower(table)) + ", " + std::to_string(chunk) + ", " + std::to_string(done.rows) + ", " +
              std::to_string(done.skipped) + ", " + std::to_string(done.matched) + ")");
}

void Checkpoint::drop() {
    db_.exec(std::string("DROP TABLE IF EXISTS ") + ChunkIssues::kTable);
    db_.exec(std::string("DROP TABLE IF EXISTS ") + kChunkTable);
    db_.exec(std::string("DROP TABLE IF EXISTS ") + kStateTable);
}

}  // namespace mmmove
