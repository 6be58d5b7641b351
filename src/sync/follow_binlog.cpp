#include "sync/follow_binlog.h"

#include <algorithm>

#include "verify/table_compare.h"

namespace mmmove::sync_detail {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Whether `name` appears in `text` as a whole identifier (not as part of a longer one).
bool names(const std::string& text, const std::string& name) {
    auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
    for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1))
        if ((at == 0 || !ident(text[at - 1])) && (at + name.size() >= text.size() || !ident(text[at + name.size()]))) return true;
    return false;
}

void scan_table(TableHints& t, std::string why) {
    if (t.scan) return;
    t.scan = true;
    t.why = std::move(why);
    std::set<std::string>().swap(t.keys);
}

// Collects the rows events' keys into StreamHints (by the source's table names).
class HintSink : public BinlogSink {
public:
    HintSink(StreamHints& out, std::string database, size_t max_keys) : out_(out), database_(lower(std::move(database))), max_keys_(max_keys) {}
    void add(const std::string& source_name, Table t) {
        names_[lower(source_name)] = source_name;
        tables_[lower(source_name)] = std::move(t);
    }
    const Table* wanted(const std::string& table) override {
        auto it = tables_.find(table);
        return it == tables_.end() ? nullptr : &it->second;
    }
    void rows(const std::string& table, const std::vector<BinlogKeyImage>& images, bool readable) override {
        TableHints& t = out_.tables[names_.at(table)];
        if (t.scan) return;
        if (!readable) return scan_table(t, "a binlog event mmmove cannot read");
        for (const auto& image : images) {
            if (!image) return scan_table(t, "a change without a key mmmove can name");
            FieldRow row;
            for (const auto& v : *image) row.push_back(Field::of(v));
            t.keys.insert(verify_detail::TableComparer::key_of(row));
        }
        if (t.keys.size() > max_keys_) scan_table(t, "more than " + std::to_string(max_keys_) + " keys changed");
    }
    void statement(const std::string& default_database, const std::string& sql) override {
        // Which table a statement changes is not read from its text: any that may touch the source's
        // database (its default database, or the name in the text) makes the pass scan.
        if (out_.unusable || (lower(default_database) != database_ && !names(lower(sql), database_))) return;
        out_.unusable = true;
        out_.why = "a statement changed the source's tables (DDL, TRUNCATE or statement-format DML)";
    }

private:
    StreamHints& out_;
    std::string database_;
    size_t max_keys_;
    std::map<std::string, std::string> names_;  // lower-case -> the source's name
    std::map<std::string, Table> tables_;       // by lower-case name
};

// Each table's column count and key column positions, from the snapshot's catalog.
void describe_tables(Database& snapshot, HintSink& sink, const std::map<std::string, std::vector<std::string>>& key_columns) {
    std::map<std::string, std::map<std::string, unsigned>> columns;  // lower table -> lower column -> 0-based position
    for (const auto& r : snapshot.query("SELECT LOWER(TABLE_NAME), LOWER(COLUMN_NAME), ORDINAL_POSITION FROM information_schema.COLUMNS "
                                        "WHERE TABLE_SCHEMA = DATABASE()")) {
        const std::string pos = r.size() == 3 ? r[2].value_or("") : "";
        if (pos.empty() || pos.size() > 5 || pos.find_first_not_of("0123456789") != std::string::npos || pos == "0") continue;
        columns[r[0].value_or("")][r[1].value_or("")] = static_cast<unsigned>(std::stoul(pos)) - 1;
    }
    for (const auto& [table, keys] : key_columns) {
        auto cols = columns.find(lower(table));
        if (cols == columns.end()) continue;
        BinlogSink::Table t;
        t.columns = static_cast<unsigned>(cols->second.size());
        for (const auto& k : keys) {
            auto p = cols->second.find(lower(k));
            if (p == cols->second.end() || p->second >= t.columns) break;
            t.key_positions.push_back(p->second);
        }
        if (t.key_positions.size() == keys.size() && !keys.empty()) sink.add(table, std::move(t));
    }
}

}  // namespace

StreamHints read_binlog_hints(Database& snapshot, Database& dump, const BinlogPosition& from, const BinlogPosition& upto,
                              const std::map<std::string, std::vector<std::string>>& key_columns, size_t max_keys) {
    StreamHints out;
    // The database the snapshot reads, as the server names it (the binlog's table maps name it so).
    auto db = snapshot.query("SELECT DATABASE()");
    const std::string database = db.empty() || db[0].empty() ? "" : db[0][0].value_or("");
    HintSink sink(out, database, max_keys);
    describe_tables(snapshot, sink, key_columns);
    // A table the sync brings over whose columns were not found is scanned: no hints can be trusted.
    for (const auto& [table, keys] : key_columns)
        if (!sink.wanted(lower(table))) scan_table(out.tables[table], "its key columns were not found in the source's catalog");
    const BinlogRead read = read_binlog(dump, from, upto, database, sink);
    out.lines = read.events;
    out.transactions = read.transactions;
    if (!read.reached && !out.unusable) {
        out.unusable = true;
        out.why = "the binlog did not reach the snapshot's position " + upto.text();
    }
    return out;
}

}  // namespace mmmove::sync_detail
