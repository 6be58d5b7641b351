#pragma once
// Converting values between engines, at the edge, one column at a time. Every value that has to change
// in a way an admin would care about (a stripped NUL byte, a replaced invalid UTF-8 sequence, a
// truncated over-long text, a repaired JSON value) is reported with its table, key and column.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "transform/issue_sink.h"

namespace mmmove {

// --- value-level conversions (pure functions, unit-tested) ---
bool has_nul(std::string_view s);
std::string strip_nul(std::string_view s);
bool valid_utf8(std::string_view s);
std::string repair_utf8(std::string_view s);  // invalid sequences become U+FFFD
size_t utf8_length(std::string_view s);
std::string_view utf8_prefix(std::string_view s, size_t max_chars, size_t max_bytes);
// The bytes a MySQL text type holds ("text": 65535), 0 for any other type.
size_t mysql_text_bytes(const std::string& type);
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
// A value the destination's column cannot hold although the two schemas are "the same": a NULL where
// the destination says NOT NULL, an integer wider than its column, a value outside an enum, a key
// that becomes a duplicate (NUL removal, MySQL's case-insensitive collation). stop leaves the
// destination as found; repair writes the column's zero value for a NULL and the nearest value for an
// out-of-range integer (and skips rows it has no repair for); skip_row leaves the row out.
enum class RefusedPolicy { stop, repair, skip_row };
struct ConvertPolicy {
    OverlongPolicy overlong = OverlongPolicy::stop;
    InvalidJsonPolicy invalid_json = InvalidJsonPolicy::stop;
    RefusedPolicy refused = RefusedPolicy::stop;
};
const char* refused_policy_flag(RefusedPolicy p);  // "stop", "repair", "skip-row"
// The policy as copy's flags and a job's copy: section spell it (--on-overlong truncate, --on-invalid-json
// repair, --on-refused-value repair|skip-row; anything else is stop: the callers check the words).
ConvertPolicy convert_policy_named(const std::string& overlong, const std::string& invalid_json, const std::string& refused);

// The range an integer column holds, from the engine's type name ("integer", "int(11) unsigned",
// "smallint"…); false when the type is not a fixed-width integer.
bool integer_range(const std::string& type, long double& min, long double& max);

// Converts rows of one source table into what the destination column types accept.
class RowConverter {
public:
    RowConverter(const Table& source, const Table& dest, Engine from, Engine to, ConvertPolicy policy, IssueSink& log);
    // True when no column needs any work: rows can pass untouched.
    bool identity() const { return identity_; }
    // Converts row in place; changed fields point into the converter's buffers until the next call.
    // False when the policy leaves the row out (it is reported). Throws Error(data) when it stops.
    bool convert(FieldRow& row);
    // The row's primary key as reports show it ("Id=…"), secret key columns masked.
    std::string key_of(const FieldRow& row) const;
    // Names a value the destination refused (found by loading rows one by one): reported and true when
    // the policy leaves the row out, Error(data) when it stops the copy.
    bool refused_by_destination(const FieldRow& row, const std::string& reason);
    uint64_t skipped() const { return skipped_; }
    const std::vector<std::string>& source_columns() const { return source_columns_; }
    const std::vector<std::string>& dest_columns() const { return dest_columns_; }
    const std::vector<ColumnKind>& dest_kinds() const { return dest_kinds_; }

private:
    enum Op : unsigned {
        to_pg_bool = 1, to_my_bool = 2, to_pg_bytea = 4, to_my_binary = 8, to_pg_array = 16, to_json_array = 32,
        clean_text = 64, check_json = 128, check_length = 256, check_not_null = 512, check_range = 1024,
    };
    struct ColumnPlan {
        unsigned ops = 0;
        const Column* dest = nullptr;
        int64_t max_bytes = 0;
        long double min = 0, max = 0;  // check_range: what the destination's integer column holds
        std::string scratch;
    };
    void set(FieldRow& row, size_t i, std::string value);
    void problem(const FieldRow& row, size_t i, const std::string& what, const std::string& action);
    // A NULL or out-of-range integer: false when the row is left out.
    bool fit_null(FieldRow& row, size_t i);
    bool fit_range(FieldRow& row, size_t i);
    std::string zero_value(const Column& dest) const;
    std::string where(const FieldRow& row, size_t i) const;  // "Table X (Id=…) column Y"

    const Table& source_;
    ConvertPolicy policy_;
    IssueSink& log_;
    Engine to_;
    uint64_t skipped_ = 0;
    std::vector<ColumnPlan> plans_;
    std::vector<size_t> key_columns_;
    std::vector<bool> secret_;  // per column: a secret (mappings/secrets.yaml), never shown
    std::vector<std::string> source_columns_, dest_columns_;
    std::vector<ColumnKind> dest_kinds_;
    bool identity_ = true;
};

}  // namespace mmmove
