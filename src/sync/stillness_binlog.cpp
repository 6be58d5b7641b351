// The MariaDB side of StillnessStream (see sync/stillness_stream.h): the row binlog from the pass's
// snapshot's position to its present end.
#include <algorithm>
#include <chrono>
#include <map>

#include "sync/stillness_stream.h"

namespace mmmove {
namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Counts the rows events of the plan's tables; the values are never read.
class MovedSink : public BinlogSink {
public:
    void add(const mmmove::Table& t) {
        BinlogSink::Table want;
        want.columns = static_cast<unsigned>(t.columns.size());
        wanted_[lower(t.name)] = {t.name, want};
    }
    const Table* wanted(const std::string& table) override {
        auto it = wanted_.find(table);
        return it == wanted_.end() ? nullptr : &it->second.second;
    }
    // Any rows event of the table is a move, readable or not; its row images (an UPDATE has two per row)
    // bound the rows it changed.
    void rows(const std::string& table, const std::vector<BinlogKeyImage>& images, bool) override {
        TableMoved& t = moved[wanted_.at(table).first];
        t.table = wanted_.at(table).first;
        t.upper_bound = true;
        t.new_or_changed += std::max<size_t>(1, images.size());
    }
    void statement(const std::string& default_database, const std::string& sql) override {
        if (lower(default_database) == database || lower(sql).find(database) != std::string::npos) unprovable = true;
    }
    std::string database;
    std::map<std::string, TableMoved> moved;
    bool unprovable = false;

private:
    std::map<std::string, std::pair<std::string, BinlogSink::Table>> wanted_;  // lower-case -> the source's name, shape
};

}  // namespace

void StillnessStream::start_binlog(Database& source) {
    try {
        conn_ = Database::connect(source.data_source(), Side::source);
        if (std::string why = binlog_obstacle(*conn_); !why.empty()) return conn_.reset(), give_up(why);
        auto probe = Database::connect(source.data_source(), Side::source);  // a dump leaves its connection unusable
        if (std::string why = binlog_dump_refused(*probe); !why.empty()) return conn_.reset(), give_up(why);
    } catch (const std::exception& e) {
        conn_.reset();
        give_up("the binlog could not be read: " + first_line(e.what()));
    }
}

std::optional<SourceMoved> StillnessStream::measure_binlog(const Catalog& source, const CopyPlan& plan, SourceMoved m) {
    MovedSink sink;
    for (const auto& p : plan.tables)
        if (const Table* t = source.find(p.source->name)) sink.add(*t), ++m.tables_checked;
    const auto start = std::chrono::steady_clock::now();
    BinlogRead read;
    try {
        auto end_rows = conn_->query("SHOW MASTER STATUS");
        auto end = end_rows.empty() || end_rows[0].size() < 2 ? std::nullopt
                                                               : BinlogPosition::parse(end_rows[0][0].value_or("") + ":" + end_rows[0][1].value_or(""));
        if (!end) return give_up("the source gave no binlog end position"), std::nullopt;
        auto db = conn_->query("SELECT DATABASE()");
        sink.database = lower(db.empty() || db[0].empty() ? "" : db[0][0].value_or(""));
        auto dump = Database::connect(conn_->data_source(), Side::source);
        read = read_binlog(*dump, *binlog_at_, *end, sink.database, sink);
        if (!read.reached) return give_up("the binlog did not reach its end " + end->text()), std::nullopt;
    } catch (const std::exception& e) {
        give_up("the binlog could not be read: " + first_line(e.what()));
        return std::nullopt;
    }
    if (sink.unprovable) return give_up("a statement changed the source's tables (DDL, TRUNCATE or statement-format DML)"), std::nullopt;
    for (auto& [name, t] : sink.moved) m.moved.push_back(std::move(t));
    m.stream_transactions = read.transactions;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return m;
}

}  // namespace mmmove
