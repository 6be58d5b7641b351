#include "sync/stillness_stream.h"

#include <chrono>
#include <map>

#include "sync/follow_stream.h"

namespace mmmove {
namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

uint32_t xid_of(const std::optional<std::string>& text) {
    const std::string v = text.value_or("");
    if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos) return 0;
    const unsigned long long x = std::stoull(v);
    return x > 0xFFFFFFFFull ? 0 : static_cast<uint32_t>(x);
}

// What the stream says of the plan's tables: per table, its changes and whether it was truncated.
struct StreamCount {
    std::map<std::string, TableMoved> moved;  // by the source's table name
    bool unreadable = false;
    uint64_t transactions = 0;
};

// One line of a transaction the snapshot does not see.
void take_line(StreamCount& out, const std::string& data, const std::string& schema, const std::map<std::string, bool>& tables) {
    if (data.rfind("message:", 0) == 0) return;  // a decoding message (flushed_lsn_now's): no row
    auto change = sync_detail::parse_decoded_change(data);
    if (!change) {
        out.unreadable = true;
        return;
    }
    change->also.emplace_back(change->schema, change->table);
    for (const auto& [s, table] : change->also) {
        if (s != schema || !tables.count(table)) continue;
        TableMoved& t = out.moved[table];
        t.table = table;
        if (change->action == "TRUNCATE") t.truncated = true;
        else ++t.new_or_changed;
        if (change->action != "TRUNCATE") break;  // only a TRUNCATE names several tables
    }
}

}  // namespace

StillnessStream::StillnessStream(Database& source, std::ostream& log, bool quiet, int create_timeout_s) : log_(log), quiet_(quiet) {
    if (source.engine() != Engine::postgres) {
        start_binlog(source);
        return;
    }
    try {
        conn_ = Database::connect(source.data_source(), Side::source);
        auto level = conn_->query("SHOW wal_level");
        const std::string wal = level.empty() ? "" : level[0][0].value_or("");
        if (wal != "logical") {
            give_up("the source's wal_level is " + (wal.empty() ? std::string("unknown") : wal) + ", not logical");
            return;
        }
        // Creating a slot waits for the transactions running on the whole cluster: bounded, so that one
        // left open elsewhere costs the downtime a few seconds, never the pass.
        slot_ = new_follow_slot_name();
        conn_->exec("SET statement_timeout = '" + std::to_string(create_timeout_s) + "s'");
        conn_->query("SELECT 1 FROM pg_create_logical_replication_slot(" + conn_->quote_literal(slot_) + ", 'test_decoding', true)");
        conn_->exec("SET statement_timeout = 0");
    } catch (const std::exception& e) {
        slot_.clear();
        conn_.reset();  // nothing to hold it for
        give_up("no temporary replication slot: " + first_line(e.what()));
    }
}

StillnessStream::~StillnessStream() { drop(); }

// The slot goes with its connection anyway; dropped as soon as it was read, so that it holds no WAL
// while the pass verifies or reports.
void StillnessStream::drop() {
    if (!conn_ || slot_.empty()) return;
    try {
        conn_->query("SELECT pg_drop_replication_slot(" + conn_->quote_literal(slot_) + ")");
    } catch (const std::exception&) {
        conn_.reset();  // closing the session drops a temporary slot
    }
    slot_.clear();
}

void StillnessStream::give_up(const std::string& why) {
    why_not_ = why;
    current_.reset();
    binlog_at_.reset();
    if (!quiet_) log_ << "  proving the source stood still by row counts (" << why << ")\n";
}

void StillnessStream::snapshot_taken(Database& snapshot) {
    if (conn_ && conn_->engine() == Engine::mysql) {
        try {
            binlog_at_ = binlog_snapshot_position(snapshot);
            if (!binlog_at_) give_up("the source gave no binlog position for the snapshot");
        } catch (const std::exception& e) {
            give_up("the snapshot's binlog position could not be read: " + first_line(e.what()));
        }
        return;
    }
    if (!conn_ || slot_.empty()) return;
    try {
        current_ = current_xid_snapshot(snapshot);
    } catch (const std::exception& e) {
        give_up("the snapshot's transactions could not be read: " + first_line(e.what()));
    }
}

std::optional<SourceMoved> StillnessStream::measure(const Catalog& source, const CopyPlan& plan, int64_t snapshot_ms) {
    if (!usable()) return std::nullopt;
    SourceMoved m;
    m.snapshot_ms = snapshot_ms;
    m.proof = "change stream";
    if (binlog_at_) return measure_binlog(source, plan, std::move(m));
    struct Dropped {
        StillnessStream& s;
        ~Dropped() { s.drop(); }
    } dropped{*this};
    const auto start = std::chrono::steady_clock::now();
    std::map<std::string, bool> tables;
    for (const auto& p : plan.tables)
        if (const Table* t = source.find(p.source->name)) tables[t->name] = true, ++m.tables_checked;
    StreamCount count;
    try {
        const std::string upto = flushed_lsn_now(*conn_);
        const auto schema_row = conn_->query("SELECT current_schema()");
        const std::string schema = schema_row.empty() ? "" : schema_row[0][0].value_or("");
        conn_->begin();
        conn_->exec("DECLARE mmmove_still NO SCROLL CURSOR FOR SELECT xid::text, data FROM pg_logical_slot_peek_changes(" +
                    conn_->quote_literal(slot_) + ", " + conn_->quote_literal(upto) +
                    "::pg_lsn, NULL, 'include-xids', '1', 'skip-empty-xacts', '1')");
        bool unseen = false;  // inside a transaction the snapshot does not see
        for (;;) {
            auto rows = conn_->query("FETCH 2000 FROM mmmove_still");
            if (rows.empty()) break;
            for (const auto& r : rows) {
                if (r.size() != 2 || !r[1]) continue;
                const std::string& data = *r[1];
                const uint32_t xid = xid_of(r[0]);
                if (data.rfind("BEGIN", 0) == 0) {
                    unseen = xid == 0 || !current_->sees(xid);  // an xid mmmove cannot read: counted as unseen
                    if (unseen) ++count.transactions;
                } else if (data.rfind("COMMIT", 0) == 0) {
                    unseen = false;
                } else if (unseen) {
                    take_line(count, data, schema, tables);
                }
            }
        }
        conn_->exec("CLOSE mmmove_still");
        conn_->commit();
    } catch (const std::exception& e) {
        try { conn_->rollback(); } catch (const std::exception&) {}
        give_up("the change stream could not be read: " + first_line(e.what()));
        return std::nullopt;
    }
    if (count.unreadable) {
        give_up("a change line mmmove cannot read");
        return std::nullopt;
    }
    for (auto& [name, t] : count.moved) m.moved.push_back(std::move(t));
    m.stream_transactions = count.transactions;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return m;
}

}  // namespace mmmove
