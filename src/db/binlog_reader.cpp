#include "db/binlog_reader.h"

#include <mysql.h>
#include <mariadb_rpl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <regex>

#include "core/error.h"

namespace mmmove {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string text_of(const MARIADB_STRING& s) { return s.str ? std::string(s.str, s.length) : std::string(); }

// The stem and number of a binlog file name of mmmove's form.
std::pair<std::string, uint64_t> split_file(const std::string& name) {
    const size_t dot = name.rfind('.');
    return {name.substr(0, dot), std::stoull(name.substr(dot + 1))};
}

std::string one_value(Database& conn, const std::string& sql) {
    auto rows = conn.query(sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0].value_or("");
}

// A replica's server id of its own: the server ends an older dump that uses the same one.
uint32_t reader_server_id(Database& conn) {
    const std::string own = one_value(conn, "SELECT @@server_id");
    std::random_device rd;
    std::uniform_int_distribution<uint32_t> pick(1u << 30, 0xFFFFFFF0u);
    for (;;) {
        const uint32_t id = pick(rd);
        if (std::to_string(id) != own) return id;
    }
}

// A key column's value as mmmove names it by literal: integers in decimal, strings as they are.
std::optional<std::string> key_value(const MARIADB_RPL_VALUE& v) {
    if (v.is_null) return std::nullopt;
    switch (v.field_type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
            return v.is_signed ? std::to_string(v.val.ll) : std::to_string(v.val.ull);
        case MYSQL_TYPE_VARCHAR:
        case MYSQL_TYPE_VAR_STRING:
        case MYSQL_TYPE_STRING:
            return text_of(v.val.str);
        default:
            return std::nullopt;
    }
}

bool rows_event(int type) {
    return (type >= WRITE_ROWS_EVENT_V1 && type <= DELETE_ROWS_EVENT_V1) || (type >= WRITE_ROWS_EVENT && type <= DELETE_ROWS_EVENT) ||
           (type >= WRITE_ROWS_COMPRESSED_EVENT_V1 && type <= DELETE_ROWS_COMPRESSED_EVENT);
}

struct EventFree {
    void operator()(MARIADB_RPL_EVENT* e) const { mariadb_free_rpl_event(e); }
};
using EventPtr = std::unique_ptr<MARIADB_RPL_EVENT, EventFree>;
struct RplClose {
    void operator()(MARIADB_RPL* r) const { mariadb_rpl_close(r); }
};

// One dump, event by event (see read_binlog).
class Dump {
public:
    Dump(MARIADB_RPL* rpl, const std::string& database, BinlogSink& sink) : rpl_(rpl), database_(lower(database)), sink_(sink) {}
    void take(EventPtr ev, BinlogRead& out);

private:
    void rows(MARIADB_RPL_EVENT* ev);
    MARIADB_RPL* rpl_;
    std::string database_;
    BinlogSink& sink_;
    std::map<uint64_t, EventPtr> maps_;  // table id -> its latest TABLE_MAP event (rows events refer to it)
};

void Dump::take(EventPtr ev, BinlogRead& out) {
    ++out.events;
    switch (ev->event_type) {
        case TABLE_MAP_EVENT: {
            const uint64_t id = ev->event.table_map.table_id;
            maps_[id] = std::move(ev);
            return;
        }
        case XID_EVENT:
            ++out.transactions;
            return;
        case QUERY_EVENT: {
            const std::string sql = text_of(ev->event.query.statement);
            const std::string head = lower(sql.substr(0, 18));
            // Transaction control changes no table (a ROLLBACK TO SAVEPOINT's rows never reach the binlog).
            for (const char* control : {"xa ", "savepoint ", "rollback to ", "release savepoint ", "#"})
                if (head.rfind(control, 0) == 0) return;
            if (head == "begin" || head == "commit" || head == "rollback") {
                if (head == "commit") ++out.transactions;
                return;
            }
            ++out.transactions;
            sink_.statement(text_of(ev->event.query.database), sql);
            return;
        }
        default:
            if (rows_event(ev->event_type)) rows(ev.get());
    }
}

void Dump::rows(MARIADB_RPL_EVENT* ev) {
    auto map = maps_.find(ev->event.rows.table_id);
    if (map == maps_.end()) throw Error(ExitCode::source, "a rows event without its table map");
    const auto& tm = map->second->event.table_map;
    if (lower(text_of(tm.database)) != database_) return;
    const std::string table = text_of(tm.table);
    const BinlogSink::Table* want = sink_.wanted(lower(table));
    if (!want) return;
    std::vector<BinlogKeyImage> images;
    MARIADB_RPL_ROW* row = mariadb_rpl_extract_rows(rpl_, map->second.get(), ev);
    if (!row) return sink_.rows(lower(table), images, false);
    for (; row; row = row->next) {
        if (row->column_count != tm.column_count || row->column_count != want->columns)
            return sink_.rows(lower(table), {}, false);
        std::vector<std::string> key;
        for (unsigned p : want->key_positions) {
            auto v = key_value(row->columns[p]);
            if (!v) break;
            key.push_back(std::move(*v));
        }
        images.push_back(key.size() == want->key_positions.size() ? BinlogKeyImage(std::move(key)) : std::nullopt);
    }
    sink_.rows(lower(table), images, true);
}

}  // namespace

bool binlog_file_name(const std::string& name) {
    static const std::regex form(R"([A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}\.[0-9]{6,10})");
    return std::regex_match(name, form);
}

std::optional<BinlogPosition> BinlogPosition::parse(const std::string& text) {
    static const std::regex form(R"(([^:]{1,80}):([1-9][0-9]{0,17}))");
    std::smatch m;
    if (text.size() > 120 || !std::regex_match(text, m, form) || !binlog_file_name(m[1].str())) return std::nullopt;
    BinlogPosition p{m[1].str(), std::stoull(m[2].str())};
    if (p.pos < 4) return std::nullopt;
    return p;
}

std::optional<int> compare_binlog_positions(const BinlogPosition& a, const BinlogPosition& b) {
    const auto fa = split_file(a.file), fb = split_file(b.file);
    if (fa.first != fb.first) return std::nullopt;
    if (fa.second != fb.second) return fa.second < fb.second ? -1 : 1;
    return a.pos == b.pos ? 0 : (a.pos < b.pos ? -1 : 1);
}

std::string binlog_obstacle(Database& conn) {
    auto rows = conn.query("SELECT @@version, @@log_bin, @@binlog_format, @@binlog_row_image");
    if (rows.empty() || rows[0].size() != 4) return "the server did not say how it writes its binlog";
    auto at = [&](size_t i) { return rows[0][i].value_or(""); };
    if (lower(at(0)).find("mariadb") == std::string::npos)
        return "following needs MariaDB (MySQL gives no binlog position consistent with a snapshot)";
    if (at(1) != "1") return "the server writes no binlog (start MariaDB with log_bin)";
    if (lower(at(2)) != "row") return "its binlog_format is " + at(2) + ", not ROW (set binlog_format=ROW)";
    if (lower(at(3)) != "full") return "its binlog_row_image is " + at(3) + ", not FULL (set binlog_row_image=FULL)";
    return "";
}

std::optional<BinlogPosition> binlog_snapshot_position(Database& snapshot) {
    std::string file, pos;
    for (const auto& r : snapshot.query("SHOW STATUS LIKE 'binlog_snapshot_%'")) {
        if (r.size() != 2) continue;
        const std::string name = lower(r[0].value_or(""));
        if (name == "binlog_snapshot_file") file = r[1].value_or("");
        if (name == "binlog_snapshot_position") pos = r[1].value_or("");
    }
    return BinlogPosition::parse(file + ":" + pos);
}

std::string binlog_position_problem(Database& conn, const BinlogPosition& p) {
    for (const auto& r : conn.query("SHOW BINARY LOGS")) {
        if (r.size() < 2 || r[0].value_or("") != p.file) continue;
        const std::string size = r[1].value_or("");
        if (size.empty() || size.size() > 18 || size.find_first_not_of("0123456789") != std::string::npos)
            return "the server gave a binlog size mmmove cannot read";
        if (p.pos > std::stoull(size)) return "the recorded binlog position lies beyond the end of " + p.file;
        return "";
    }
    return "the binlog file " + p.file + " is no longer on the source (purged: keep binlogs longer than the time between syncs, "
           "binlog_expire_logs_seconds)";
}

namespace {

// Opens a dump from `from` on `conn` (see read_binlog).
std::unique_ptr<MARIADB_RPL, RplClose> open_dump(Database& conn, const BinlogPosition& from) {
    auto* mysql = static_cast<MYSQL*>(conn.native_mysql());
    if (!mysql || !binlog_file_name(from.file)) throw Error(ExitCode::source, "not a binlog position mmmove reads");
    // The server sends checksummed events only to a reader that says it knows the checksum; its
    // capability 4 (MariaDB 10.0+) sends GTID events as they are, instead of dummy statements.
    conn.exec("SET @master_binlog_checksum = @@global.binlog_checksum, @mariadb_slave_capability = 4");
    const uint32_t id = reader_server_id(conn);
    std::unique_ptr<MARIADB_RPL, RplClose> rpl(mariadb_rpl_init(mysql));
    if (!rpl) throw Error(ExitCode::source, "libmariadb could not start a binlog reader");
    const uint32_t flags = MARIADB_RPL_BINLOG_DUMP_NON_BLOCK;
    mariadb_rpl_optionsv(rpl.get(), MARIADB_RPL_FILENAME, from.file.c_str(), from.file.size());
    mariadb_rpl_optionsv(rpl.get(), MARIADB_RPL_START, static_cast<unsigned long>(from.pos));
    mariadb_rpl_optionsv(rpl.get(), MARIADB_RPL_SERVER_ID, id);
    mariadb_rpl_optionsv(rpl.get(), MARIADB_RPL_FLAGS, flags);
    mariadb_rpl_optionsv(rpl.get(), MARIADB_RPL_VERIFY_CHECKSUM, 1);
    mariadb_rpl_optionsv(rpl.get(), MARIADB_RPL_EXTRACT_VALUES, 1);
    if (mariadb_rpl_open(rpl.get())) throw Error(ExitCode::source, std::string("the binlog dump was refused: ") + mariadb_rpl_error(rpl.get()));
    return rpl;
}

}  // namespace

std::string binlog_dump_refused(Database& conn) {
    std::optional<BinlogPosition> end;
    try {
        for (const auto& r : conn.query("SHOW BINARY LOGS"))
            if (r.size() >= 2) end = BinlogPosition::parse(r[0].value_or("") + ":" + r[1].value_or(""));
    } catch (const std::exception&) {
        return "the account may not list the binlogs: GRANT BINLOG MONITOR (MariaDB 10.5+) or REPLICATION CLIENT";
    }
    if (!end) return "the server lists no binlog mmmove can read";
    try {
        auto rpl = open_dump(conn, *end);
        // A dump the server accepts opens with its rotate event; a refusal comes as an error instead.
        EventPtr ev(mariadb_rpl_fetch(rpl.get(), nullptr));
        auto* mysql = static_cast<MYSQL*>(conn.native_mysql());
        if (!ev) return std::string("the account may not dump the binlog (") + (mysql_errno(mysql) ? mysql_error(mysql) : mariadb_rpl_error(rpl.get())) +
                        "): GRANT REPLICATION SLAVE";
    } catch (const std::exception& e) {
        return std::string("the account may not dump the binlog (") + e.what() + "): GRANT REPLICATION SLAVE";
    }
    return "";
}

BinlogRead read_binlog(Database& conn, const BinlogPosition& from, const BinlogPosition& upto, const std::string& database,
                       BinlogSink& sink) {
    if (!binlog_file_name(from.file) || !compare_binlog_positions(from, upto)) throw Error(ExitCode::source, "not a binlog position mmmove reads");
    auto rpl = open_dump(conn, from);
    BinlogRead out;
    Dump dump(rpl.get(), database, sink);
    BinlogPosition at = from;
    while (!(out.reached = at.file == upto.file && at.pos == upto.pos)) {
        EventPtr ev(mariadb_rpl_fetch(rpl.get(), nullptr));
        if (!ev) {
            auto* mysql = static_cast<MYSQL*>(conn.native_mysql());
            if (mariadb_rpl_errno(rpl.get())) throw Error(ExitCode::source, std::string("the binlog dump broke: ") + mariadb_rpl_error(rpl.get()));
            if (mysql_errno(mysql)) throw Error(ExitCode::source, std::string("the binlog dump broke: ") + mysql_error(mysql));
            break;  // the end of the binlog, before `upto`
        }
        const bool artificial = ev->next_event_pos == 0;  // the dump's opening rotate and format description
        if (!artificial) {
            if (at.file == upto.file && ev->next_event_pos > upto.pos) break;  // `upto` is not an event's end
            at.pos = ev->next_event_pos;
        }
        if (ev->event_type == ROTATE_EVENT) {
            const std::string next = text_of(ev->event.rotate.filename);
            if (!binlog_file_name(next)) throw Error(ExitCode::source, "the binlog names a file mmmove does not read");
            if (!artificial && at.file == upto.file && at.pos == upto.pos) continue;  // `upto` is this file's end
            at = BinlogPosition{next, ev->event.rotate.position};
            if (compare_binlog_positions(at, upto).value_or(1) > 0) break;
            continue;
        }
        if (!artificial) dump.take(std::move(ev), out);
    }
    return out;
}

}  // namespace mmmove
