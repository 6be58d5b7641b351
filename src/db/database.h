#pragma once
// One connection to one side of a move, behind an interface both engines implement. Small catalog
// queries return whole results; table data only ever streams through RowReader / RowWriter, so memory
// does not grow with table size. Not thread-safe: one Database per thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/data_source.h"

namespace mmmove {

// One value of a streamed row, in the source engine's text form (PostgreSQL COPY text after unescaping,
// MySQL's text protocol). Points into the reader's buffers; valid until the reader's next call.
struct Field {
    const char* data = nullptr;
    size_t size = 0;
    bool null = true;
    std::string_view view() const { return {data, size}; }
    static Field of(std::string_view s) { return Field{s.data(), s.size(), false}; }
};
using FieldRow = std::vector<Field>;
using QueryRow = std::vector<std::optional<std::string>>;

// What a column holds, as far as moving it between engines matters.
enum class ColumnKind { text, integer, floating, boolean, json, binary, text_array, enumeration };
const char* column_kind_name(ColumnKind k);

class RowReader {
public:
    virtual ~RowReader() = default;
    // Fills row with the next row's fields; false at the end of the table.
    virtual bool next(FieldRow& row) = 0;
};

// Produces the next row to write into `row`; false at the end. Used by pull-based bulk loads.
using RowSupplier = std::function<bool(FieldRow& row)>;

class RowWriter {
public:
    virtual ~RowWriter() = default;
    virtual void write(const FieldRow& row) = 0;
    // Writes every row the supplier gives. Engines whose bulk path pulls data (MySQL's LOAD DATA LOCAL)
    // override this; the default pushes row by row. Returns rows written.
    virtual uint64_t write_all(const RowSupplier& next) {
        FieldRow row;
        uint64_t n = 0;
        while (next(row)) write(row), ++n;
        return n;
    }
    // Sends what is buffered and ends the load; errors surface here. Returns rows written.
    virtual uint64_t finish() = 0;
};

class Database {
public:
    virtual ~Database() = default;
    static std::unique_ptr<Database> connect(const DataSource& ds, Side side);

    virtual Engine engine() const = 0;
    virtual std::string server_version() = 0;
    virtual std::vector<QueryRow> query(const std::string& sql) = 0;
    virtual void exec(const std::string& sql) = 0;
    // Runs a statement that changes rows and returns how many it changed (MySQL: rows it inserted or
    // really updated; an ON DUPLICATE KEY UPDATE that changes nothing counts 0).
    virtual uint64_t exec_count(const std::string& sql) = 0;
    // Starts a read-only transaction on one consistent snapshot; everything read until commit() sees it.
    virtual void begin_snapshot_read() = 0;
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    std::unique_ptr<RowReader> read_table(const std::string& table, const std::vector<std::string>& columns) {
        return read_where(table, columns, "");
    }
    // Streams the rows matching `where` (SQL, empty for all rows).
    virtual std::unique_ptr<RowReader> read_where(const std::string& table, const std::vector<std::string>& columns,
                                                  const std::string& where) = 0;
    // Snapshot sharing for parallel reads. PostgreSQL: the snapshot of this read transaction, for
    // import_snapshot() on other connections. MySQL has none (see pipeline/snapshot.cpp).
    virtual std::string export_snapshot() { return ""; }
    virtual void import_snapshot(const std::string& id) { (void)id; }
    // MySQL/MariaDB destinations: load with LOAD DATA LOCAL INFILE when the server allows it.
    virtual bool enable_bulk_load() { return false; }
    // MySQL/MariaDB: the libmariadb connection (MYSQL*), for the binlog reader alone (db/binlog_reader.h),
    // which turns a connection of its own into a binlog dump; nullptr on PostgreSQL.
    virtual void* native_mysql() { return nullptr; }
    virtual std::unique_ptr<RowWriter> write_table(const std::string& table, const std::vector<std::string>& columns,
                                                   const std::vector<ColumnKind>& kinds) = 0;
    virtual std::string quote_ident(const std::string& name) const = 0;
    virtual std::string quote_literal(const std::string& value) = 0;
    // "a", "b", … : the columns quoted and joined, for a SELECT or INSERT list.
    std::string column_list(const std::vector<std::string>& columns) const;

    // A statement as error messages may show it: its head only, and never the values it carries (an
    // INSERT can hold a whole configuration with its secrets).
    static std::string statement_for_message(const std::string& sql);
    const DataSource& data_source() const { return ds_; }
    Side side() const { return side_; }

protected:
    Database(const DataSource& ds, Side side) : ds_(ds), side_(side) {}
    // Raises Error with this side's exit code and a message that never holds the password.
    // `sqlstate` is the server's code for the failure, when it gave one.
    [[noreturn]] void fail(const std::string& what, const std::string& server_message, const std::string& sqlstate = "") const;

    DataSource ds_;
    Side side_;
};

// True when `db` has a base table `name` in its current schema (PostgreSQL) or database (MySQL).
bool table_exists(Database& db, const std::string& name);

// Multi-row INSERTs of literal rows, `per_statement` rows at a time: for mmmove's own small tables
// (checkpoint, ID map), never for table data, which streams through RowWriter.
class ValuesInsert {
public:
    // `head`: "INSERT INTO t (a, b)"; each row given to add() is "(…, …)", already quoted.
    ValuesInsert(Database& db, std::string head, size_t per_statement = 500) : db_(db), head_(std::move(head)), per_(per_statement) {}
    void add(const std::string& row);
    void finish();  // sends what is left

private:
    Database& db_;
    std::string head_, values_;
    size_t per_, n_ = 0;
};

// True when the destination refused rows it was sent (a value out of range, a NULL, a duplicate key,
// a value too deep or too large) rather than failing as a server: SQLSTATE classes 22, 23 and 54.
bool refused_rows(const Error& e);

// True when the destination ended the transaction because it lost a lock conflict with another one:
// a deadlock victim (MySQL 1213, PostgreSQL 40P01), a serialization failure (40001), or InnoDB's lock
// wait timeout (1205, filed as 40001 by the MySQL layer). The work of the transaction can run again.
bool lost_lock_conflict(const Error& e);

std::unique_ptr<Database> connect_postgres(const DataSource& ds, Side side);
// PostgreSQL→PostgreSQL moves COPY lines untouched: these take a reader/writer made by a PostgreSQL Database.
bool pg_read_raw(RowReader& reader, std::string_view& line);
void pg_write_raw(RowWriter& writer, std::string_view line);
std::unique_ptr<Database> connect_mysql(const DataSource& ds, Side side);

}  // namespace mmmove
