#pragma once
// Converting values between engines, at the edge, one column at a time. Every value that has to change
// in a way an admin would care about (a stripped NUL byte, a replaced invalid UTF-8 sequence, a
// truncated over-long text, a repaired JSON value) is reported with its table, key and column.
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"

namespace mmmove {

// --- value-level conversions (pure functions, unit-tested) ---
bool has_nul(std::string_view s);
std::string strip_nul(std::string_view s);
bool valid_utf8(std::string_view s);
std::string repair_utf8(std::string_view s);  // invalid sequences become U+FFFD
size_t utf8_length(std::string_view s);
std::string_view utf8_prefix(std::string_view s, size_t max_chars, size_t max_bytes);
// JSON text: removes \u0000 escapes inside strings (PostgreSQL's jsonb refuses them). True if changed.
bool strip_json_nul_escapes(std::string_view in, std::string& out);
bool valid_json(std::string_view s);
std::string bytes_to_pg_hex(std::string_view raw);         // raw bytes → "\x0a1b…"
bool pg_hex_to_bytes(std::string_view hex, std::string& out);
bool json_array_to_pg_array(std::string_view json, std::string& out);  // ["a","b"] → {"a","b"}
bool pg_array_to_json_array(std::string_view pg, std::string& out);    // {a,"b c"} → ["a","b c"]

// --- policies and the report ---
enum class OverlongPolicy { stop, truncate };
enum class InvalidJsonPolicy { stop, repair };
struct ConvertPolicy {
    OverlongPolicy overlong = OverlongPolicy::stop;
    InvalidJsonPolicy invalid_json = InvalidJsonPolicy::stop;
};

// Every changed value, as one JSON line per value in the report file (opened on the first issue),
// plus counts per table and column for the summary.
class IssueLog {
public:
    explicit IssueLog(std::string path) : path_(std::move(path)) {}
    void add(const std::string& table, const std::string& key, const std::string& column, const std::string& problem,
             const std::string& action);
    uint64_t total() const { return total_; }
    const std::map<std::string, uint64_t>& counts() const { return counts_; }  // "table.column: problem" → n
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::mutex m_;  // workers report from several threads
    std::ofstream out_;
    uint64_t total_ = 0;
    std::map<std::string, uint64_t> counts_;
};

// Converts rows of one source table into what the destination column types accept.
class RowConverter {
public:
    RowConverter(const Table& source, const Table& dest, Engine from, Engine to, ConvertPolicy policy, IssueLog& log);
    // True when no column needs any work: rows can pass untouched.
    bool identity() const { return identity_; }
    // Converts row in place; changed fields point into the converter's buffers until the next call.
    void convert(FieldRow& row);
    const std::vector<std::string>& source_columns() const { return source_columns_; }
    const std::vector<std::string>& dest_columns() const { return dest_columns_; }
    const std::vector<ColumnKind>& dest_kinds() const { return dest_kinds_; }

private:
    enum Op : unsigned {
        to_pg_bool = 1, to_my_bool = 2, to_pg_bytea = 4, to_my_binary = 8, to_pg_array = 16, to_json_array = 32,
        clean_text = 64, check_json = 128, check_length = 256,
    };
    struct ColumnPlan {
        unsigned ops = 0;
        const Column* dest = nullptr;
        int64_t max_bytes = 0;
        std::string scratch;
    };
    std::string key_of(const FieldRow& row) const;
    void set(FieldRow& row, size_t i, std::string value);
    void problem(const FieldRow& row, size_t i, const std::string& what, const std::string& action);

    const Table& source_;
    ConvertPolicy policy_;
    IssueLog& log_;
    std::vector<ColumnPlan> plans_;
    std::vector<size_t> key_columns_;
    std::vector<std::string> source_columns_, dest_columns_;
    std::vector<ColumnKind> dest_kinds_;
    bool identity_ = true;
};

}  // namespace mmmove
