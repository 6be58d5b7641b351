// MySQL and MariaDB through MariaDB Connector/C (libmariadb). MySQL Connector/C++ (Debian's 1.1, the
// JDBC-style API) sits on top of the same C client; mmmove needs the C layer's unbuffered
// mysql_use_result to stream tables of any size and exact control of the INSERT text it sends.
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include <cstring>

#include "db/database.h"

namespace mmmove {
namespace {

class MyDatabase;

class MyReader : public RowReader {
public:
    MyReader(MyDatabase& db, MYSQL* conn, MYSQL_RES* res) : db_(db), conn_(conn), res_(res) {
        columns_ = mysql_num_fields(res_);
    }
    ~MyReader() override {
        if (res_) mysql_free_result(res_);  // frees and drains the rest of an abandoned stream
    }
    bool next(FieldRow& row) override;

private:
    MyDatabase& db_;
    MYSQL* conn_;
    MYSQL_RES* res_;
    unsigned columns_ = 0;
};

class MyWriter : public RowWriter {
public:
    MyWriter(MyDatabase& db, MYSQL* conn, std::string head, std::vector<ColumnKind> kinds)
        : db_(db), conn_(conn), head_(std::move(head)), kinds_(std::move(kinds)) {
        stmt_.reserve(kFlushBytes + 65536);
    }
    void write(const FieldRow& row) override;
    uint64_t finish() override {
        flush();
        return rows_;
    }

private:
    // One INSERT carries up to ~4 MiB of rows: few round trips, far below max_allowed_packet.
    static constexpr size_t kFlushBytes = 4 << 20;
    void flush();
    MyDatabase& db_;
    MYSQL* conn_;
    std::string head_;
    std::vector<ColumnKind> kinds_;
    std::string stmt_;
    size_t pending_ = 0;
    uint64_t rows_ = 0;
};

// MySQL's fastest bulk path: LOAD DATA LOCAL INFILE, fed from memory by a local-infile handler that
// pulls rows from the pipeline while the server reads. One statement per chunk. LOCAL loads turn
// row errors into warnings, so any warning fails the load, and the row count is checked.
class MyLoadWriter : public RowWriter {
public:
    MyLoadWriter(MyDatabase& db, MYSQL* conn, std::string sql) : db_(db), conn_(conn), sql_(std::move(sql)) {}
    void write(const FieldRow&) override { throw Error(ExitCode::internal, "MyLoadWriter takes rows through write_all()."); }
    uint64_t finish() override { return rows_; }
    uint64_t write_all(const RowSupplier& next) override;

private:
    struct Feed {
        const RowSupplier* next;
        FieldRow row;
        std::string buf;
        size_t pos = 0;
        bool done = false;
        uint64_t rows = 0;
        std::exception_ptr error;
    };
    static int init(void** ptr, const char*, void* userdata) {
        *ptr = userdata;
        return 0;
    }
    static int read(void* ptr, char* out, unsigned int len);
    static void end(void*) {}
    static int error(void* ptr, char* msg, unsigned int len) {
        auto* f = static_cast<Feed*>(ptr);
        std::string m = "mmmove stopped the load";
        if (f->error) try { std::rethrow_exception(f->error); } catch (const std::exception& e) { m = e.what(); }
        snprintf(msg, len, "%s", m.substr(0, 400).c_str());
        return 2000;
    }
    MyDatabase& db_;
    MYSQL* conn_;
    std::string sql_;
    uint64_t rows_ = 0;
};

class MyDatabase : public Database {
public:
    MyDatabase(const DataSource& ds, Side side) : Database(ds, side) {
        conn_ = mysql_init(nullptr);
        unsigned timeout = 10;
        if (auto it = ds.params.find("timeout"); it != ds.params.end()) timeout = static_cast<unsigned>(std::atoi(it->second.c_str()));
        mysql_options(conn_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        mysql_options(conn_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        unsigned local_infile = 1;  // used only through MyLoadWriter's own handler, never for a file on disk
        mysql_options(conn_, MYSQL_OPT_LOCAL_INFILE, &local_infile);
        const char* sock = ds.unix_socket.empty() ? nullptr : ds.unix_socket.c_str();
        if (!mysql_real_connect(conn_, sock ? nullptr : ds.host.c_str(), ds.user.c_str(), ds.password.c_str(),
                                ds.database.c_str(), static_cast<unsigned>(ds.port), sock, 0)) {
            unsigned err = mysql_errno(conn_);
            std::string msg = mysql_error(conn_);
            mysql_close(conn_);
            conn_ = nullptr;
            explain_connect_failure(err, msg);
        }
        // Strict mode: a value that does not fit is an error, never a silent truncation.
        exec("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
        exec("SET SESSION net_read_timeout = 3600, net_write_timeout = 3600");
        exec("SET SESSION time_zone = '+00:00'");
    }
    ~MyDatabase() override {
        if (conn_) mysql_close(conn_);
    }

    Engine engine() const override { return Engine::mysql; }
    std::string server_version() override { return mysql_get_server_info(conn_); }

    void run(const std::string& sql) {
        if (mysql_real_query(conn_, sql.data(), sql.size()) != 0)
            fail("rejected a statement: " + statement_for_message(sql), mysql_error(conn_), mysql_sqlstate(conn_));
    }
    std::vector<QueryRow> query(const std::string& sql) override {
        run(sql);
        MYSQL_RES* res = mysql_store_result(conn_);
        std::vector<QueryRow> rows;
        if (!res) {
            if (mysql_field_count(conn_) != 0) fail("failed to return a result.", mysql_error(conn_));
            return rows;
        }
        unsigned m = mysql_num_fields(res);
        while (MYSQL_ROW r = mysql_fetch_row(res)) {
            unsigned long* len = mysql_fetch_lengths(res);
            QueryRow row;
            for (unsigned j = 0; j < m; ++j)
                row.emplace_back(r[j] ? std::optional<std::string>(std::string(r[j], len[j])) : std::nullopt);
            rows.push_back(std::move(row));
        }
        mysql_free_result(res);
        return rows;
    }
    void exec(const std::string& sql) override {
        run(sql);
        if (MYSQL_RES* res = mysql_store_result(conn_)) mysql_free_result(res);
    }
    void begin_snapshot_read() override {
        exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    }
    void begin() override { exec("START TRANSACTION"); }
    void commit() override { exec("COMMIT"); }
    void rollback() override { mysql_real_query(conn_, "ROLLBACK", 8); }

    std::string column_list(const std::vector<std::string>& columns) const {
        std::string s;
        for (const auto& c : columns) s += (s.empty() ? "" : ", ") + quote_ident(c);
        return s;
    }
    std::unique_ptr<RowReader> read_where(const std::string& table, const std::vector<std::string>& columns,
                                          const std::string& where) override {
        run("SELECT " + column_list(columns) + " FROM " + quote_ident(table) + (where.empty() ? "" : " WHERE " + where));
        MYSQL_RES* res = mysql_use_result(conn_);
        if (!res) fail("failed to stream table " + table + ".", mysql_error(conn_));
        return std::make_unique<MyReader>(*this, conn_, res);
    }
    bool enable_bulk_load() override {
        auto v = query("SELECT @@local_infile");
        bulk_load_ = !v.empty() && v[0][0] && (*v[0][0] == "1" || *v[0][0] == "ON");
        return bulk_load_;
    }
    std::unique_ptr<RowWriter> write_table(const std::string& table, const std::vector<std::string>& columns,
                                           const std::vector<ColumnKind>& kinds) override {
        if (bulk_load_)
            return std::make_unique<MyLoadWriter>(*this, conn_,
                                                  "LOAD DATA LOCAL INFILE 'mmmove-stream' INTO TABLE " + quote_ident(table) +
                                                      " CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
                                                      "LINES TERMINATED BY '\\n' (" + column_list(columns) + ")");
        return std::make_unique<MyWriter>(*this, conn_, "INSERT INTO " + quote_ident(table) + " (" + column_list(columns) + ") VALUES ", kinds);
    }
    std::string quote_ident(const std::string& name) const override {
        std::string s = "`";
        for (char c : name) s += c == '`' ? std::string("``") : std::string(1, c);
        return s + "`";
    }
    std::string quote_literal(const std::string& value) override {
        std::string s;
        append_literal(s, value.data(), value.size());
        return s;
    }
    void append_literal(std::string& out, const char* p, size_t n) {
        size_t at = out.size();
        out.resize(at + 2 * n + 3);
        out[at] = '\'';
        unsigned long w = mysql_real_escape_string(conn_, &out[at + 1], p, n);
        out[at + 1 + w] = '\'';
        out.resize(at + 2 + w);
    }
    [[noreturn]] void stream_failed(const std::string& what) { fail(what, mysql_error(conn_), mysql_sqlstate(conn_)); }
    // Rows a LOCAL load skipped (LOCAL turns row errors into warnings): a data exception, by SQLSTATE.
    [[noreturn]] void rows_refused(const std::string& what, const std::string& warnings) { fail(what, warnings, "22000"); }

private:
    [[noreturn]] void explain_connect_failure(unsigned err, const std::string& msg) {
        std::string who = side_ == Side::source ? "MMMOVE_SOURCE_PASSWORD or --from-password-file"
                                                : "MMMOVE_DEST_PASSWORD or --to-password-file";
        if (err == ER_ACCESS_DENIED_ERROR || err == ER_DBACCESS_DENIED_ERROR)
            fail("refused the login of user \"" + ds_.user + "\": the password is wrong or the user has no access. "
                 "Put the right password in the DSN, " + who + ".", msg);
        if (err == ER_BAD_DB_ERROR)
            fail("has no database \"" + ds_.database + "\". Create it (CREATE DATABASE " + ds_.database +
                 ") or fix the database name in the DSN.", msg);
        fail("cannot be reached. Check the host and port, that the MySQL/MariaDB server is running and that "
             "it accepts TCP connections from this machine (bind-address).", msg);
    }
    MYSQL* conn_ = nullptr;
    bool bulk_load_ = false;
};

bool MyReader::next(FieldRow& row) {
    MYSQL_ROW r = mysql_fetch_row(res_);
    if (!r) {
        if (mysql_errno(conn_) != 0) db_.stream_failed("broke off while sending table data.");
        return false;
    }
    unsigned long* len = mysql_fetch_lengths(res_);
    row.resize(columns_);
    for (unsigned j = 0; j < columns_; ++j) row[j] = r[j] ? Field{r[j], len[j], false} : Field{};
    return true;
}

void MyWriter::write(const FieldRow& row) {
    if (pending_ == 0) {
        stmt_ = head_;
    } else {
        stmt_ += ',';
    }
    stmt_ += '(';
    static const char* hex = "0123456789ABCDEF";
    for (size_t i = 0; i < row.size(); ++i) {
        if (i) stmt_ += ',';
        const Field& f = row[i];
        if (f.null) {
            stmt_ += "NULL";
        } else if (kinds_[i] == ColumnKind::binary) {
            stmt_ += "X'";
            for (size_t k = 0; k < f.size; ++k) {
                unsigned char c = static_cast<unsigned char>(f.data[k]);
                stmt_ += hex[c >> 4];
                stmt_ += hex[c & 15];
            }
            stmt_ += '\'';
        } else {
            db_.append_literal(stmt_, f.data, f.size);
        }
    }
    stmt_ += ')';
    ++pending_;
    ++rows_;
    if (stmt_.size() >= kFlushBytes) flush();
}

void MyWriter::flush() {
    if (pending_ == 0) return;
    if (mysql_real_query(conn_, stmt_.data(), stmt_.size()) != 0) db_.stream_failed("refused table data.");
    pending_ = 0;
    stmt_.clear();
}

int MyLoadWriter::read(void* ptr, char* out, unsigned int len) {
    auto* f = static_cast<Feed*>(ptr);
    try {
        while (f->pos == f->buf.size() && !f->done) {
            f->buf.clear();
            f->pos = 0;
            // Refill ~256 KiB of LOAD DATA text: tab-separated, \N for NULL, backslash escapes.
            while (f->buf.size() < (256u << 10)) {
                if (!(*f->next)(f->row)) {
                    f->done = true;
                    break;
                }
                for (size_t i = 0; i < f->row.size(); ++i) {
                    if (i) f->buf.push_back('\t');
                    const Field& v = f->row[i];
                    if (v.null) {
                        f->buf += "\\N";
                        continue;
                    }
                    for (size_t k = 0; k < v.size; ++k) {
                        char c = v.data[k];
                        switch (c) {
                            case '\\': f->buf += "\\\\"; break;
                            case '\t': f->buf += "\\t"; break;
                            case '\n': f->buf += "\\n"; break;
                            case '\0': f->buf += "\\0"; break;
                            default: f->buf.push_back(c);
                        }
                    }
                }
                f->buf.push_back('\n');
                ++f->rows;
            }
        }
    } catch (...) {
        f->error = std::current_exception();
        return -1;
    }
    size_t n = std::min<size_t>(len, f->buf.size() - f->pos);
    std::memcpy(out, f->buf.data() + f->pos, n);
    f->pos += n;
    return static_cast<int>(n);
}

uint64_t MyLoadWriter::write_all(const RowSupplier& next) {
    Feed feed;
    feed.next = &next;
    mysql_set_local_infile_handler(conn_, &MyLoadWriter::init, &MyLoadWriter::read, &MyLoadWriter::end,
                                   &MyLoadWriter::error, &feed);
    int rc = mysql_real_query(conn_, sql_.data(), sql_.size());
    mysql_set_local_infile_default(conn_);
    if (feed.error) std::rethrow_exception(feed.error);
    if (rc != 0) db_.stream_failed("refused table data.");
    if (mysql_warning_count(conn_) > 0) {
        std::string warnings;
        for (const auto& w : db_.query("SHOW WARNINGS LIMIT 5")) warnings += (warnings.empty() ? "" : "; ") + w.at(2).value_or("");
        db_.rows_refused("reported problems with loaded rows (a LOCAL load would otherwise skip them).", warnings);
    }
    uint64_t loaded = mysql_affected_rows(conn_);
    if (loaded != feed.rows)
        db_.stream_failed("stored " + std::to_string(loaded) + " of " + std::to_string(feed.rows) + " rows sent.");
    rows_ = feed.rows;
    return rows_;
}

}  // namespace

std::unique_ptr<Database> connect_mysql(const DataSource& ds, Side side) {
    static bool initialised = (mysql_library_init(0, nullptr, nullptr), true);
    (void)initialised;
    return std::make_unique<MyDatabase>(ds, side);
}

}  // namespace mmmove
