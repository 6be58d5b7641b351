// MySQL and MariaDB through MariaDB Connector/C (libmariadb). MySQL Connector/C++ (Debian's 1.1, the
// JDBC-style API) sits on top of the same C client; mmmove needs the C layer's unbuffered
// mysql_use_result to stream tables of any size and exact control of the INSERT text it sends.
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include <cstring>

#include "db/database.h"
#include "db/other_sessions.h"
#include "db/transport.h"

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

// Answers the server's LOCAL INFILE requests on one connection. It is installed on every connection
// from the start, so libmariadb's default handler (which opens whatever file the server names) is
// never used: outside a load, or for any name other than the one mmmove's own LOAD DATA statement
// used, the request is refused and not one byte of a local file is sent.
// The rows of one LOAD DATA LOCAL statement, turned into its text as the server reads it.
struct LoadFeed {
    const RowSupplier* next = nullptr;
    FieldRow row;
    std::string buf;
    size_t pos = 0;
    bool done = false;
    uint64_t rows = 0;
    std::exception_ptr error;
};
int read_load_block(LoadFeed& f, char* out, unsigned int len);

struct InfileGate {
    const char* expected = nullptr;  // the file name of the load in progress; null outside a load
    LoadFeed* feed = nullptr;
    std::string refused;  // the name of the last refused request, for the error message

    static int init(void** ptr, const char* filename, void* userdata) {
        auto* g = static_cast<InfileGate*>(userdata);
        *ptr = g;
        if (g->expected && g->feed && filename && std::strcmp(filename, g->expected) == 0) return 0;
        g->refused = filename ? std::string(filename).substr(0, 200) : "";
        return 1;
    }
    static int read(void* ptr, char* out, unsigned int len) {
        return read_load_block(*static_cast<InfileGate*>(ptr)->feed, out, len);
    }
    static void end(void*) {}
    static int error(void* ptr, char* msg, unsigned int len) {
        auto* g = static_cast<InfileGate*>(ptr);
        std::string m = "mmmove stopped the load";
        if (!g->refused.empty()) m = "mmmove refused to send the local file \"" + g->refused + "\"";
        else if (g->feed && g->feed->error)
            try { std::rethrow_exception(g->feed->error); } catch (const std::exception& e) { m = e.what(); }
        snprintf(msg, len, "%s", m.substr(0, 400).c_str());
        return CR_UNKNOWN_ERROR;
    }
};

// MySQL's fastest bulk path: LOAD DATA LOCAL INFILE, fed from memory by a local-infile handler that
// pulls rows from the pipeline while the server reads. One statement per chunk. LOCAL loads turn
// row errors into warnings, so any warning fails the load, and the row count is checked.
class MyLoadWriter : public RowWriter {
public:
    // The name LOAD DATA LOCAL asks for; the gate serves the stream only under this name.
    static constexpr const char* kStreamName = "mmmove-stream";
    MyLoadWriter(MyDatabase& db, MYSQL* conn, InfileGate& gate, std::string sql)
        : db_(db), conn_(conn), gate_(gate), sql_(std::move(sql)) {}
    void write(const FieldRow&) override { throw Error(ExitCode::internal, "MyLoadWriter takes rows through write_all()."); }
    uint64_t finish() override { return rows_; }
    uint64_t write_all(const RowSupplier& next) override;

private:
    MyDatabase& db_;
    MYSQL* conn_;
    InfileGate& gate_;
    std::string sql_;
    uint64_t rows_ = 0;
};

class MyDatabase : public Database {
public:
    MyDatabase(const DataSource& ds, Side side) : Database(ds, side) {
        MysqlTransport t = mysql_transport(ds, side);
        conn_ = mysql_init(nullptr);
        mysql_options(conn_, MYSQL_OPT_CONNECT_TIMEOUT, &t.connect_timeout_seconds);
        mysql_options(conn_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        guard_file_requests();
        apply_tls(t);
        mysql_optionsv(conn_, MARIADB_OPT_RESTRICTED_AUTH,
                       t.allow_cleartext_password ? kAnyPasswordPlugin : kHashedPasswordPlugins);
        // tcp(host:port) is TCP to that host and port, as for Mattermost's Go driver, and unix(/path) is
        // that socket: libmariadb alone would take host "localhost" to mean the default Unix socket
        // (or MYSQL_UNIX_PORT), which may be another server, even the other side of the copy.
        const char* sock = ds.unix_socket.empty() ? nullptr : ds.unix_socket.c_str();
        unsigned protocol = sock ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
        mysql_options(conn_, MYSQL_OPT_PROTOCOL, &protocol);
        if (!mysql_real_connect(conn_, sock ? nullptr : ds.host.c_str(), ds.user.c_str(), ds.password.c_str(),
                                ds.database.c_str(), static_cast<unsigned>(ds.port), sock, 0)) {
            unsigned err = mysql_errno(conn_);
            std::string msg = mysql_error(conn_);
            mysql_close(conn_);
            conn_ = nullptr;
            explain_connect_failure(err, msg, t);
        }
        // From here on every file request reaches the InfileGate (libmariadb's own refusal would be
        // hidden behind the server's next error), which refuses all but a load's own stream.
        unsigned on = 1;
        mysql_options(conn_, MYSQL_OPT_LOCAL_INFILE, &on);
        try {
            // libmariadb refuses to log in without TLS only when it verifies the certificate; skip-verify
            // must not fall back to plain text either (the login used no clear-text password: see
            // MysqlTransport::allow_cleartext_password).
            if (t.tls == MysqlTls::skip_verify && mysql_get_ssl_cipher(conn_) == nullptr)
                fail("could not be reached over TLS as the DataSource's tls=" + ds.params.at("tls") +
                     " asks: the server does not offer TLS. Enable TLS on the server (ssl_cert, ssl_key), or "
                     "use tls=preferred if the network is trusted.", "");
            // Strict mode: a value that does not fit is an error, never a silent truncation.
            exec("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
            exec("SET SESSION net_read_timeout = 3600, net_write_timeout = 3600");
            exec("SET SESSION time_zone = '+00:00'");
            // Marks this connection as mmmove's, so other_sessions() does not count it as a foreign
            // session (PROCESSLIST shows no program name). Source connections take no lock at all. A
            // server without GET_LOCK (Galera) leaves the connection unmarked: it then counts as another's.
            if (side == Side::destination) try_mark_session();
        } catch (...) {
            mysql_close(conn_);
            conn_ = nullptr;
            throw;
        }
    }
    ~MyDatabase() override {
        if (conn_) mysql_close(conn_);
    }

    void try_mark_session() {
        try {
            query(mysql_session_mark_sql());
        } catch (const Error&) {
            // Not marked: refusing the connection for it would stop even a verify.
        }
    }

    Engine engine() const override { return Engine::mysql; }
    std::string server_version() override { return mysql_get_server_info(conn_); }

    void run(const std::string& sql) {
        if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
            if (!gate_.refused.empty() || std::strstr(mysql_error(conn_), "local infile forbidden"))
                refused_file_request();
            fail("rejected a statement: " + statement_for_message(sql), mysql_error(conn_), sqlstate());
        }
    }
    [[noreturn]] void refused_file_request() {
        std::string name = gate_.refused.empty() ? "" : " \"" + gate_.refused + "\"";
        fail("asked mmmove to send it the local file" + name + ", which mmmove never does except for the rows "
             "of its own loads; it refused. Check that the DataSource names the real MySQL/MariaDB server.", "");
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
    uint64_t exec_count(const std::string& sql) override {
        run(sql);
        if (MYSQL_RES* res = mysql_store_result(conn_)) mysql_free_result(res);
        my_ulonglong n = mysql_affected_rows(conn_);
        return n == static_cast<my_ulonglong>(-1) ? 0 : static_cast<uint64_t>(n);
    }
    void* native_mysql() override { return conn_; }
    void begin_snapshot_read() override {
        exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    }
    void begin() override { exec("START TRANSACTION"); }
    void commit() override { exec("COMMIT"); }
    void rollback() override { mysql_real_query(conn_, "ROLLBACK", 8); }

    std::unique_ptr<RowReader> read_where(const std::string& table, const std::vector<std::string>& columns,
                                          const std::string& where) override {
        run("SELECT " + column_list(columns) + " FROM " + quote_ident(table) + (where.empty() ? "" : " WHERE " + where));
        MYSQL_RES* res = mysql_use_result(conn_);
        if (!res) fail("failed to stream table " + table + ".", mysql_error(conn_));
        return std::make_unique<MyReader>(*this, conn_, res);
    }
    bool enable_bulk_load() override {
        if (side_ != Side::destination) return false;  // only destinations announced LOCAL INFILE at login
        auto v = query("SELECT @@local_infile");
        bulk_load_ = !v.empty() && v[0][0] && (*v[0][0] == "1" || *v[0][0] == "ON");
        return bulk_load_;
    }
    std::unique_ptr<RowWriter> write_table(const std::string& table, const std::vector<std::string>& columns,
                                           const std::vector<ColumnKind>& kinds) override {
        if (bulk_load_)
            return std::make_unique<MyLoadWriter>(*this, conn_, gate_,
                                                  "LOAD DATA LOCAL INFILE '" + std::string(MyLoadWriter::kStreamName) + "' INTO TABLE " + quote_ident(table) +
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
    [[noreturn]] void stream_failed(const std::string& what) { fail(what, mysql_error(conn_), sqlstate()); }
    // The SQLSTATE of the last failure. A deadlock (1213) comes as 40001; InnoDB's lock wait timeout
    // (1205) comes as HY000, which says nothing, so it is filed as 40001 too: in both the transaction
    // lost a lock conflict with another one, and rolling it back and running it again is the remedy.
    const char* sqlstate() const { return mysql_errno(conn_) == ER_LOCK_WAIT_TIMEOUT ? "40001" : mysql_sqlstate(conn_); }
    // Rows a LOCAL load skipped (LOCAL turns row errors into warnings): a data exception, by SQLSTATE.
    [[noreturn]] void rows_refused(const std::string& what, const std::string& warnings) { fail(what, warnings, "22000"); }

private:
    // Password exchanges that never give the server the password itself. mysql_clear_password and
    // dialog (PAM, LDAP) do, so they are allowed only as MysqlTransport says.
    static constexpr const char* kHashedPasswordPlugins =
        "mysql_native_password,caching_sha2_password,sha256_password,client_ed25519,auth_gssapi_client";
    static constexpr const char* kAnyPasswordPlugin =
        "mysql_native_password,caching_sha2_password,sha256_password,client_ed25519,auth_gssapi_client,"
        "mysql_clear_password,dialog";

    // LOCAL INFILE is announced at login only by destination connections, which may become loaders
    // (the server must know then); every connection answers file requests through its InfileGate alone.
    void guard_file_requests() {
        unsigned announce = side_ == Side::destination ? 1 : 0;
        mysql_options(conn_, MYSQL_OPT_LOCAL_INFILE, &announce);
        mysql_set_local_infile_handler(conn_, &InfileGate::init, &InfileGate::read, &InfileGate::end,
                                       &InfileGate::error, &gate_);
    }

    // go-sql-driver's meanings: true verifies the certificate and host name against the system's
    // trusted roots; skip-verify encrypts without verifying; preferred encrypts when the server offers
    // TLS and otherwise falls back to plain text; false (the default) never encrypts.
    void apply_tls(const MysqlTransport& t) {
        if (t.tls == MysqlTls::off) return;
        my_bool yes = 1, verify = t.tls == MysqlTls::verify;
        if (t.tls == MysqlTls::preferred) {
            mysql_ssl_set(conn_, nullptr, nullptr, nullptr, nullptr, nullptr);
        } else {
            mysql_optionsv(conn_, MYSQL_OPT_SSL_ENFORCE, &yes);
        }
        mysql_optionsv(conn_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }

    [[noreturn]] void explain_connect_failure(unsigned err, const std::string& msg, const MysqlTransport& t) {
        if (err == CR_PLUGIN_NOT_ALLOWED)
            fail("asked for the password in clear text (mysql_clear_password or dialog), and mmmove did not send "
                 "it. mmmove sends a password that way only over verified TLS: when the server really needs it (PAM, "
                 "LDAP), write tls=true and allowCleartextPasswords=true in the DataSource.", msg);
        if (t.tls != MysqlTls::off && t.tls != MysqlTls::preferred &&
            (err == CR_SSL_CONNECTION_ERROR || msg.find("SSL") != std::string::npos || msg.find("TLS") != std::string::npos))
            fail("could not be reached over TLS as the DataSource's tls=" + ds_.params.at("tls") +
                 " asks. Enable TLS on the server (ssl_cert, ssl_key), make sure its certificate is trusted and "
                 "names the host (tls=true), or use tls=skip-verify or tls=preferred if the network is trusted.", msg);
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
    InfileGate gate_;
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

int read_load_block(LoadFeed& feed, char* out, unsigned int len) {
    auto* f = &feed;
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
    LoadFeed feed;
    feed.next = &next;
    // Open the gate for this statement's own stream only, and close it whatever happens.
    struct Open {
        InfileGate& g;
        Open(InfileGate& gate, LoadFeed& f) : g(gate) {
            g.expected = kStreamName;
            g.feed = &f;
            g.refused.clear();
        }
        ~Open() {
            g.expected = nullptr;
            g.feed = nullptr;
        }
    } open(gate_, feed);
    int rc = mysql_real_query(conn_, sql_.data(), sql_.size());
    if (feed.error) std::rethrow_exception(feed.error);
    if (!gate_.refused.empty()) db_.refused_file_request();
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
