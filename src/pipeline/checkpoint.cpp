#include "pipeline/checkpoint.h"

#include "catalog/catalog.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "pipeline/issue_log.h"
#include "transform/convert.h"

namespace mmmove {
namespace {

uint64_t read_count(const std::optional<std::string>& v) {
    const std::string s = v.value_or("0");
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
        throw Error(ExitCode::destination, "The checkpoint of the interrupted copy (table " + std::string(Checkpoint::kChunkTable) +
                                               " on the destination) holds a value mmmove did not write. Start again with --truncate.");
    return std::stoull(s);
}

// Where in `j` text stands that is not UTF-8 (a name read back from a server), as "a → b"; "" when nowhere.
std::string invalid_utf8_at(const nlohmann::json& j, const std::string& path) {
    if (j.is_string()) return valid_utf8(j.get_ref<const std::string&>()) ? "" : path;
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string here = path + " → " + repair_utf8(it.key());
            if (!valid_utf8(it.key())) return here;
            if (std::string at = invalid_utf8_at(it.value(), here); !at.empty()) return at;
        }
    } else if (j.is_array()) {
        for (size_t i = 0; i < j.size(); ++i)
            if (std::string at = invalid_utf8_at(j[i], path + " → " + std::to_string(i)); !at.empty()) return at;
    }
    return "";
}

// The entry's JSON text. JSON holds only UTF-8, and replacing other bytes would record a name that is
// not the one the run uses (a resume would then refuse the checkpoint or map another name), so such a
// value is refused, with where it stands, before anything is written.
std::string entry_text(const std::string& key, const nlohmann::json& value) {
    if (std::string at = invalid_utf8_at(value, repair_utf8(key)); !at.empty() || !valid_utf8(key))
        throw Error(ExitCode::source, "mmmove cannot record the run's progress in its checkpoint (table " + std::string(Checkpoint::kStateTable) +
                                          " on the destination): the entry " + (at.empty() ? repair_utf8(key) : at) +
                                          " holds text that is not UTF-8, a name read from the source. Nothing was written. Give it "
                                          "a UTF-8 name on the source (or leave its table out with --skip-table) and run the command again.");
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
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

// One statement, so a run killed or failing mid-way leaves the entry's earlier value or the new one
// (set may run inside the caller's transaction: it opens none of its own).
void Checkpoint::set(const std::string& key, const nlohmann::json& value) {
    const std::string text = entry_text(key, value);  // before anything is written
    const std::string upsert = db_.engine() == Engine::postgres ? " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
                                                                : " ON DUPLICATE KEY UPDATE value = VALUES(value)";
    db_.exec(std::string("INSERT INTO ") + kStateTable + " (name, value) VALUES (" + db_.quote_literal(key) + ", " + db_.quote_literal(text) +
             ")" + upsert);
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
