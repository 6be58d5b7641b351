// PostgreSQL through libpq. libpqxx (Debian's 6.4) was the first choice, but its stream_to keeps raw
// line writes private and stream_from cannot hand out raw COPY lines without a copy per line, and the
// same-engine path must move COPY data without touching it; libpq's PQgetCopyData/PQputCopyData do.
#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

#include "db/copy_text.h"
#include "db/database.h"
#include "db/transport.h"

namespace mmmove {
namespace {

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class PgDatabase;

class PgReader : public RowReader {
public:
    PgReader(PgDatabase& db, PGconn* conn) : db_(db), conn_(conn) {}
    ~PgReader() override;
    bool next(FieldRow& row) override;
    // The raw COPY line (with its newline); valid until the next call. Used when both sides are PostgreSQL.
    bool next_raw(std::string_view& line);

private:
    PgDatabase& db_;
    PGconn* conn_;
    char* line_ = nullptr;
    std::string buf_;
    bool done_ = false;
};

class PgWriter : public RowWriter {
public:
    PgWriter(PgDatabase& db, PGconn* conn) : db_(db), conn_(conn) { out_.reserve(kFlushBytes + 65536); }
    ~PgWriter() override;
    void write(const FieldRow& row) override;
    void write_raw(std::string_view line);
    uint64_t finish() override;

private:
    static constexpr size_t kFlushBytes = 1 << 20;
    void flush();
    PgDatabase& db_;
    PGconn* conn_;
    std::string out_;
    uint64_t rows_ = 0;
    bool finished_ = false;
};

class PgDatabase : public Database {
public:
    PgDatabase(const DataSource& ds, Side side) : Database(ds, side) {
        PostgresTransport t = postgres_transport(ds, side);
        std::string port = std::to_string(ds.port);
        std::string host = ds.unix_socket.empty() ? ds.host : ds.unix_socket;
        std::vector<const char*> keys = {"host", "port", "user", "password", "dbname", "sslmode", "connect_timeout",
                                         "application_name", "client_encoding"};
        std::vector<const char*> vals = {host.c_str(), port.c_str(), ds.user.c_str(), ds.password.c_str(),
                                         ds.database.c_str(), t.sslmode.c_str(), t.connect_timeout.c_str(), "mmmove", "UTF8"};
        for (const auto& [k, v] : t.tls_files) {
            keys.push_back(k.c_str());
            vals.push_back(v.c_str());
        }
        keys.push_back(nullptr);
        vals.push_back(nullptr);
        conn_ = PQconnectdbParams(keys.data(), vals.data(), 0);
        if (PQstatus(conn_) != CONNECTION_OK) {
            std::string err = PQerrorMessage(conn_);
            PQfinish(conn_);
            conn_ = nullptr;
            explain_connect_failure(err, t.sslmode);
        }
        // Server notices (e.g. "word is too long to be indexed" from full-text indexes) are not errors.
        PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
        exec("SET bytea_output = 'hex'");
        exec("SET extra_float_digits = 3");
        exec("SET statement_timeout = 0");
        // quote_literal doubles quotes only: with this off (a database or role may still set it), a
        // backslash in a value read back would end the literal early and the rest would be read as SQL.
        exec("SET standard_conforming_strings = on");
        // mmmove's statements are scans, digests and key lists, never long analytics: the JIT a cost
        // estimate triggers compiles a by-key statement's 500-key predicate for seconds (measured:
        // a 500-key DELETE of Reactions 3.1 s with it, 0.15 s without) and gains nothing on digests.
        if (PQserverVersion(conn_) >= 110000) exec("SET jit = off");
    }
    ~PgDatabase() override {
        if (conn_) PQfinish(conn_);
    }

    Engine engine() const override { return Engine::postgres; }
    std::string server_version() override {
        return query("SHOW server_version").at(0).at(0).value_or("?");
    }

    Result run(const std::string& sql, ExecStatusType want) {
        // The extended protocol runs exactly one statement: text read back from a server can never
        // smuggle a second one in.
        Result r(PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
        if (!r || PQresultStatus(r.get()) != want) {
            const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
            fail("rejected a statement: " + statement_for_message(sql), PQerrorMessage(conn_), state ? state : "");
        }
        return r;
    }

    std::vector<QueryRow> query(const std::string& sql) override {
        Result r = run(sql, PGRES_TUPLES_OK);
        std::vector<QueryRow> rows;
        int n = PQntuples(r.get()), m = PQnfields(r.get());
        rows.reserve(n);
        for (int i = 0; i < n; ++i) {
            QueryRow row;
            for (int j = 0; j < m; ++j) {
                if (PQgetisnull(r.get(), i, j))
                    row.emplace_back(std::nullopt);
                else
                    row.emplace_back(std::string(PQgetvalue(r.get(), i, j), PQgetlength(r.get(), i, j)));
            }
            rows.push_back(std::move(row));
        }
        return rows;
    }
    void exec(const std::string& sql) override { run(sql, PGRES_COMMAND_OK); }
    uint64_t exec_count(const std::string& sql) override {
        Result r = run(sql, PGRES_COMMAND_OK);
        const char* n = PQcmdTuples(r.get());
        return n && *n ? std::strtoull(n, nullptr, 10) : 0;
    }
    void begin_snapshot_read() override { exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); }
    void begin() override { exec("BEGIN"); }
    void commit() override { exec("COMMIT"); }
    void rollback() override {
        Result r(PQexec(conn_, "ROLLBACK"));
    }

    std::unique_ptr<RowReader> read_where(const std::string& table, const std::vector<std::string>& columns,
                                          const std::string& where) override {
        if (where.empty())
            run("COPY " + quote_ident(table) + " (" + column_list(columns) + ") TO STDOUT", PGRES_COPY_OUT);
        else
            // ONLY: the table's own rows, as `COPY table` reads them (a SELECT would add the rows of
            // tables inheriting from it, which a copy leaves behind as tables of their own).
            run("COPY (SELECT " + column_list(columns) + " FROM ONLY " + quote_ident(table) + " WHERE " + where + ") TO STDOUT",
                PGRES_COPY_OUT);
        return std::make_unique<PgReader>(*this, conn_);
    }
    std::string export_snapshot() override { return query("SELECT pg_export_snapshot()").at(0).at(0).value_or(""); }
    void import_snapshot(const std::string& id) override {
        exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        exec("SET TRANSACTION SNAPSHOT " + quote_literal(id));
    }
    std::unique_ptr<RowWriter> write_table(const std::string& table, const std::vector<std::string>& columns,
                                           const std::vector<ColumnKind>&) override {
        run("COPY " + quote_ident(table) + " (" + column_list(columns) + ") FROM STDIN", PGRES_COPY_IN);
        return std::make_unique<PgWriter>(*this, conn_);
    }
    std::string quote_ident(const std::string& name) const override {
        std::string s = "\"";
        for (char c : name) s += c == '"' ? std::string("\"\"") : std::string(1, c);
        return s + "\"";
    }
    std::string quote_literal(const std::string& value) override {
        std::string s = "'";
        for (char c : value) s += c == '\'' ? std::string("''") : std::string(1, c);
        return s + "'";
    }
    [[noreturn]] void copy_failed(const std::string& what, const PGresult* result = nullptr) {
        const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
        fail(what, result ? PQresultErrorMessage(result) : PQerrorMessage(conn_), state ? state : "");
    }

private:

    [[noreturn]] void explain_connect_failure(const std::string& err, const std::string& sslmode) {
        std::string who = side_ == Side::source ? "MMMOVE_SOURCE_PASSWORD or --from-password-file"
                                                : "MMMOVE_DEST_PASSWORD or --to-password-file";
        if (err.find("password authentication failed") != std::string::npos ||
            err.find("no password supplied") != std::string::npos)
            fail("refused the login of user \"" + ds_.user + "\": the password is wrong or missing. Put the right "
                 "password in the DSN, " + who + ".", err);
        if (err.find("does not exist") != std::string::npos && err.find("database") != std::string::npos)
            fail("has no database \"" + ds_.database + "\". Create it (CREATE DATABASE " + ds_.database +
                 ") or fix the database name in the DSN.", err);
        if (err.find("does not support SSL") != std::string::npos)
            fail("does not offer TLS, and sslmode=" + sslmode + " requires it (with no sslmode in the DataSource, "
                 "Mattermost's driver and mmmove require TLS). Enable ssl on the server, or write sslmode=disable "
                 "in the DataSource if the network to it is trusted.", err);
        if (err.find("SSL") != std::string::npos || err.find("certificate") != std::string::npos)
            fail("could not be reached over TLS as sslmode=" + sslmode + " asks. Check the files named in the "
                 "message (sslrootcert, sslcert, sslkey) and that the server's certificate matches its host name.", err);
        fail("cannot be reached. Check the host and port, that PostgreSQL is running and accepts TCP "
             "connections from this machine (listen_addresses, pg_hba.conf).", err);
    }

    PGconn* conn_ = nullptr;
};

PgReader::~PgReader() {
    if (line_) PQfreemem(line_);
    if (!done_) {
        // Abandoned mid-stream: drain so the connection stays usable for the rollback.
        char* l;
        while (PQgetCopyData(conn_, &l, 0) > 0) PQfreemem(l);
        while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    }
}

bool PgReader::next_raw(std::string_view& line) {
    if (line_) {
        PQfreemem(line_);
        line_ = nullptr;
    }
    if (done_) return false;
    int n = PQgetCopyData(conn_, &line_, 0);
    if (n >= 0) {
        line = std::string_view(line_, n);
        return true;
    }
    done_ = true;
    if (n == -2) db_.copy_failed("broke off while sending table data.");
    Result r(PQgetResult(conn_));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) db_.copy_failed("failed while sending table data.");
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    return false;
}

bool PgReader::next(FieldRow& row) {
    std::string_view line;
    if (!next_raw(line)) return false;
    decode_copy_line(line, buf_, row);
    return true;
}

PgWriter::~PgWriter() {
    if (!finished_) {
        PQputCopyEnd(conn_, "mmmove abandoned the load");
        while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    }
}

void PgWriter::write(const FieldRow& row) {
    for (size_t i = 0; i < row.size(); ++i) {
        if (i) out_.push_back('\t');
        append_copy_field(out_, row[i]);
    }
    out_.push_back('\n');
    ++rows_;
    if (out_.size() >= kFlushBytes) flush();
}

void PgWriter::write_raw(std::string_view line) {
    out_.append(line);
    ++rows_;
    if (out_.size() >= kFlushBytes) flush();
}

void PgWriter::flush() {
    if (out_.empty()) return;
    if (PQputCopyData(conn_, out_.data(), static_cast<int>(out_.size())) != 1)
        db_.copy_failed("broke off while receiving table data.");
    out_.clear();
}

uint64_t PgWriter::finish() {
    flush();
    finished_ = true;
    if (PQputCopyEnd(conn_, nullptr) != 1) db_.copy_failed("broke off at the end of a load.");
    Result r(PQgetResult(conn_));
    bool ok = r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    if (!ok) db_.copy_failed("refused table data.", r.get());
    return rows_;
}

}  // namespace

std::unique_ptr<Database> connect_postgres(const DataSource& ds, Side side) {
    return std::make_unique<PgDatabase>(ds, side);
}

bool pg_read_raw(RowReader& reader, std::string_view& line) { return static_cast<PgReader&>(reader).next_raw(line); }
void pg_write_raw(RowWriter& writer, std::string_view line) { static_cast<PgWriter&>(writer).write_raw(line); }

}  // namespace mmmove
