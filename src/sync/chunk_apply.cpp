#include "sync/chunk_apply.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "db/transaction.h"
#include "pipeline/chunk_runner.h"
#include "transform/convert.h"

namespace mmmove::sync_detail {
namespace {

using verify_detail::ChunkDiff;
using verify_detail::TableComparer;

// Keys per DELETE and per source read: statements stay well under the servers' packet limits.
constexpr size_t kKeysPerStatement = 500;
// The same on PostgreSQL, whose keys go in arrays (pg_array_predicate): a share's keys at once.
constexpr size_t kKeysPerArray = 2000;

}  // namespace

// A key value as a literal on `db`. PostgreSQL's text holds no NUL byte and no invalid UTF-8: a key
// read from MySQL with either is named as the copy wrote it there (NUL bytes removed, invalid
// sequences replaced), never sent raw (a NUL byte would cut the statement short).
static std::string key_text(Database& db, const std::string& value) {
    if (db.engine() != Engine::postgres || (!has_nul(value) && valid_utf8(value))) return value;
    return repair_utf8(strip_nul(value));
}
static std::string key_literal(Database& db, const std::string& value) { return db.quote_literal(key_text(db, value)); }

// A value as an element of a PostgreSQL array's text form: always in double quotes (so that NULL,
// blanks, commas and braces are plain characters), with \ and " escaped by a backslash. The whole
// array text is then quoted as a literal, so a value is data at both levels.
static void append_array_element(std::string& out, const std::string& value) {
    out += '"';
    for (char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

// The values are quoted as literals; TableComparer::literal_keys() says they are the values as the
// servers spell them.
std::string key_predicate(Database& db, const std::vector<std::string>& columns, const std::vector<const std::string*>& keys,
                          size_t from, size_t to) {
    std::string in, any;
    std::set<std::string> firsts;  // the composite keys' first values, as literals
    bool first_null = false;
    for (size_t k = from; k < to; ++k) {
        auto values = TableComparer::key_values(*keys[k]);
        if (columns.size() == 1 && values.size() == 1 && values[0]) {
            in += (in.empty() ? "" : ", ") + key_literal(db, *values[0]);
            continue;
        }
        std::string all;
        for (size_t i = 0; i < columns.size() && i < values.size(); ++i)
            all += (all.empty() ? "" : " AND ") + db.quote_ident(columns[i]) + (values[i] ? " = " + key_literal(db, *values[i]) : " IS NULL");
        any += (any.empty() ? "(" : " OR (") + all + ")";
        if (values.empty() || !values[0]) first_null = true;
        else firsts.insert(key_literal(db, *values[0]));
    }
    // PostgreSQL plans a long OR of composite keys as one index probe each, slowly: the first column's
    // values as an IN list too (implied by the OR, so the rows selected are the same) let it probe the
    // index once for all of them and filter. Not on MySQL/MariaDB, whose range optimizer may give up on
    // the combination and scan the table.
    if (!any.empty() && !first_null && db.engine() == Engine::postgres) {
        std::string list;
        for (const auto& f : firsts) list += (list.empty() ? "" : ", ") + f;
        any = "(" + db.quote_ident(columns[0]) + " IN (" + list + ") AND (" + any + "))";
    }
    if (!in.empty()) in = db.quote_ident(columns[0]) + " IN (" + in + ")";
    if (in.empty()) return any;
    return any.empty() ? in : in + " OR " + any;
}

// The array type whose elements compare with column `c` by the column's own equality, so that its
// primary key index finds them: text for PostgreSQL's text and varchar (varchar = text is the same
// operator), bigint for its integers. "" for any other type (char(n) pads, others need their own).
static std::string pg_key_array_type(const Column* c) {
    if (!c) return "";
    if (c->type == "text" || c->type.rfind("character varying", 0) == 0) return "text[]";
    if (c->type == "bigint" || c->type == "integer" || c->type == "smallint") return "bigint[]";
    return "";
}

// On PostgreSQL, the keys as one array literal per key column, joined by position: the statement is
// parsed and planned in the same time for 2 keys as for 2,000 (an IN list is one node per value and
// estimated value by value; an OR of composite keys is planned arm by arm and each row filtered
// through every arm), and is a semi join probing the primary key once per key. nullopt where it does
// not apply (a NULL key value, a column type without an array form above): the keys are then lists.
static std::optional<std::string> pg_array_predicate(Database& db, const Table& table, const std::vector<std::string>& columns,
                                                     const std::vector<const std::string*>& keys, size_t from, size_t to) {
    if (db.engine() != Engine::postgres || columns.empty() || from >= to) return std::nullopt;
    std::vector<std::string> types, arrays(columns.size());
    for (const auto& name : columns) {
        types.push_back(pg_key_array_type(table.find_column(name)));
        if (types.back().empty()) return std::nullopt;
    }
    for (size_t k = from; k < to; ++k) {
        auto values = TableComparer::key_values(*keys[k]);
        if (values.size() != columns.size()) return std::nullopt;
        for (size_t i = 0; i < columns.size(); ++i) {
            if (!values[i]) return std::nullopt;
            arrays[i] += k == from ? "{" : ",";
            append_array_element(arrays[i], key_text(db, *values[i]));
        }
    }
    std::string names, unnest;
    for (size_t i = 0; i < columns.size(); ++i) {
        names += (i ? ", " : "") + db.quote_ident(columns[i]);
        unnest += (i ? ", " : "") + db.quote_literal(arrays[i] + "}") + "::" + types[i];
    }
    return "(" + names + ") IN (SELECT * FROM unnest(" + unnest + "))";
}

std::string key_predicate(Database& db, const Table& table, const std::vector<std::string>& columns,
                          const std::vector<const std::string*>& keys, size_t from, size_t to) {
    if (auto p = pg_array_predicate(db, table, columns, keys, from, to)) return *p;
    return key_predicate(db, columns, keys, from, to);
}

size_t keys_per_statement(const Database& db) { return db.engine() == Engine::postgres ? kKeysPerArray : kKeysPerStatement; }

namespace {

// What a chunk's apply did: the differences it put right, and the values converted on the way.
ChunkApplied applied(const ChunkDiff& diff, ChunkIssues& issues, bool whole) {
    ChunkApplied a;
    a.whole = whole;
    a.inserted = diff.missing.size();
    a.updated = diff.differs.size();
    a.deleted = diff.extra.size();
    a.converted_values = issues.size();
    issues.each([&](const std::string&, const std::string& line) { a.report_lines.push_back(line); });
    return a;
}

// The chunk replaced whole: for a table whose keys cannot be named (no primary key, or key values
// that are not spelled the same on both engines).
ChunkApplied replace_chunk(Database& src, Database& dst, const TableComparer& tc, size_t chunk, const ChunkDiff& diff,
                           const ConvertPolicy& policy, Progress& progress, size_t progress_index, const LoadStage* stage) {
    const PlannedTable& t = tc.table();
    std::string where = tc.chunk_where(dst, Side::destination, chunk);
    dst.exec("DELETE FROM " + dst.quote_ident(t.dest->name) + (where.empty() ? "" : " WHERE " + where));
    ChunkIssues issues;
    ChunkProgress counted(progress, progress_index);
    write_chunk_rows(src, dst, t, chunk, policy, counted, issues, stage);
    return applied(diff, issues, /*whole=*/true);
}

// The last link of a KeyedRows chain: keeps a row only when its key, as the stage wrote it, is one of
// the keys asked for. Runs after the stage's masks, so it sees the key the destination holds.
class KeepKeys : public Transform {
public:
    KeepKeys(std::vector<int> columns, const std::unordered_set<std::string>& keys) : columns_(std::move(columns)), keys_(keys) {}
    Result apply(FieldRow& row) override {
        key_row_.clear();
        for (int i : columns_) key_row_.push_back(row[static_cast<size_t>(i)]);
        return keys_.count(TableComparer::key_of(key_row_)) ? Result::unchanged : Result::drop;
    }

private:
    std::vector<int> columns_;
    const std::unordered_set<std::string>& keys_;
    FieldRow key_row_;
};

// The stage, with only the rows whose masked keys are in `keys` passing: how a chunk of a table whose
// key the stage masks (Reactions.EmojiName) writes just the rows that differ.
class KeyedRows : public LoadStage {
public:
    KeyedRows(const LoadStage& stage, std::vector<std::string> key_columns, const std::unordered_set<std::string>& keys)
        : stage_(stage), key_columns_(std::move(key_columns)), keys_(keys) {}
    TransformChain chain(const PlannedTable& table, const RowColumns& columns, ChunkIssues& issues) const override {
        TransformChain c = stage_.chain(table, columns, issues);
        std::vector<int> at;
        for (const auto& k : key_columns_) {
            at.push_back(columns.find(k));
            if (at.back() < 0) throw Error(ExitCode::internal, "The key column " + k + " of " + table.source->name + " is not read.");
        }
        c.add(std::make_unique<KeepKeys>(std::move(at), keys_));
        return c;
    }
    WritePlan write_plan(const PlannedTable& table) const override { return stage_.write_plan(table); }

private:
    const LoadStage& stage_;
    std::vector<std::string> key_columns_;
    const std::unordered_set<std::string>& keys_;
};

// A table whose key the stage masks, same engine, its rows converted as they are: the destination's
// rows under the diff's keys are deleted by those keys, and the chunk's source rows are read again
// through the stage, of which only those whose masked key the diff names are written. Exact because
// the filter sees the very key the comparer computed (no conversion comes after the stage here).
bool masked_keys_apply(Database& src, Database& dst, const TableComparer& tc, const ConvertPolicy& policy, const LoadStage* stage) {
    if (!stage || !tc.staged() || !tc.literal_dest_keys() || src.engine() != dst.engine()) return false;
    ChunkIssues issues;
    return RowConverter(*tc.table().source, *tc.table().dest, src.engine(), dst.engine(), policy, issues).identity();
}

ChunkApplied apply_masked_keys(Database& src, Database& dst, const TableComparer& tc, size_t chunk, const ChunkDiff& diff,
                               const ConvertPolicy& policy, Progress& progress, size_t progress_index, const LoadStage& stage) {
    const PlannedTable& t = tc.table();
    std::vector<const std::string*> keys;
    std::unordered_set<std::string> wanted;
    for (const auto& k : diff.differs) keys.push_back(&k), wanted.insert(k);
    for (const auto& k : diff.missing) keys.push_back(&k.key), wanted.insert(k.key);
    for (const auto& k : diff.extra) keys.push_back(&k.key);  // in no source row of the chunk: deleted only
    const auto dest_columns = tc.key_columns(Side::destination);
    for (size_t from = 0, n = keys_per_statement(dst); from < keys.size(); from += n)
        dst.exec("DELETE FROM " + dst.quote_ident(t.dest->name) + " WHERE " +
                 key_predicate(dst, *t.dest, dest_columns, keys, from, std::min(keys.size(), from + n)));
    ChunkIssues issues;
    ChunkProgress counted(progress, progress_index);
    KeyedRows only(stage, tc.key_columns(Side::source), wanted);
    ChunkOutcome out;
    if (!wanted.empty() && !diff.source_keys) out = write_chunk_rows(src, dst, t, chunk, policy, counted, issues, &only);
    if (!wanted.empty() && diff.source_keys) {  // the finder named the source's rows: just those are read
        std::vector<const std::string*> own;
        for (const auto& k : *diff.source_keys) own.push_back(&k);
        for (size_t from = 0, n = keys_per_statement(src); from < own.size(); from += n) {
            PlannedTable by_key = t;
            by_key.bounds.clear();
            by_key.key_column.clear();
            by_key.scope = key_predicate(src, *t.source, tc.key_columns(Side::source), own, from, std::min(own.size(), from + n));
            const ChunkOutcome part = write_chunk_rows(src, dst, by_key, 0, policy, counted, issues, &only);
            out.rows += part.rows, out.skipped += part.skipped;
        }
    }
    if (out.rows + out.skipped != wanted.size())
        throw Error(ExitCode::internal, "An incremental refresh of " + t.dest->name + " wrote " + std::to_string(out.rows) + " of the " +
                                            std::to_string(wanted.size()) + " rows that differ: the source changed under its snapshot, "
                                            "or mmmove masked a key differently. Nothing of the chunk was committed; run the job again.");
    return applied(diff, issues, /*whole=*/false);
}

// The rows the comparison read and kept (ChunkDiff::source_rows: those of the keys that differ or are
// missing), written through the edge conversion without reading the source again. Only when they are
// exactly the rows a read by key would give: a PostgreSQL destination (a key names one row there, so
// the DELETE by key removed exactly the keys the diff names), no stage, the same columns. Returns false,
// with nothing written (its savepoint rolled back), when the destination refuses a row: the caller then
// writes the keys by reading them again, which names each refused row under the policy.
bool write_kept_rows(Database& src, Database& dst, const TableComparer& tc, const ChunkDiff& diff, const ConvertPolicy& policy,
                     Progress& progress, size_t progress_index, ChunkIssues& issues, uint64_t& written) {
    const PlannedTable& t = tc.table();
    const auto& kept = *diff.source_rows;
    if (dst.engine() != Engine::postgres || kept.size() != diff.differs.size() + diff.missing.size()) return false;
    RowConverter conv(*t.source, *t.dest, src.engine(), dst.engine(), policy, issues);
    if (conv.source_columns() != tc.source_columns()) return false;
    ChunkProgress counted(progress, progress_index);
    Savepoint savepoint(dst, "mmmove_kept");
    try {
        auto writer = dst.write_table(t.dest->name, conv.dest_columns(), conv.dest_kinds());
        size_t next = 0;
        const uint64_t rows = writer->write_all([&](FieldRow& row) {
            while (next < kept.size()) {
                row.clear();
                for (const auto& v : kept[next++]) row.push_back(v ? Field::of(*v) : Field{});
                counted.add(1);
                if (conv.convert(row)) return true;
            }
            return false;
        });
        writer->finish();
        written = rows + conv.skipped();
    } catch (const Error& e) {
        if (!refused_rows(e)) throw;
        savepoint.rollback();
        savepoint.release();
        counted.rewind();
        issues.clear();
        return false;
    }
    savepoint.release();
    return true;
}

}  // namespace

ChunkChanges DigestChangeFinder::find(Database& source, Database& dest, size_t chunk) const {
    ChunkChanges c;
    auto s = comparer_.digest(source, Side::source, chunk);
    auto d = comparer_.digest(dest, Side::destination, chunk);
    c.source_rows = c.rows_read = s.rows;
    if (!s.same_rows(d)) c.diff = comparer_.diff(source, dest, chunk);
    return c;
}

// Every key the diff names is deleted on the destination, then the source's current row for each of
// them is written. Deleting a key found missing (usually a no-op) and reading a key found extra from
// the source (usually none) keep the result right when the two engines' collations put one key into
// different chunks: whichever of its chunks is applied last, the row ends as the source holds it.
ChunkApplied apply_chunk(Database& src, Database& dst, const TableComparer& tc, size_t chunk, const ChunkDiff& diff,
                         const ConvertPolicy& policy, Progress& progress, size_t progress_index, const LoadStage* stage) {
    if (!tc.literal_keys() && masked_keys_apply(src, dst, tc, policy, stage))
        return apply_masked_keys(src, dst, tc, chunk, diff, policy, progress, progress_index, *stage);
    if (!tc.literal_keys()) return replace_chunk(src, dst, tc, chunk, diff, policy, progress, progress_index, stage);
    std::vector<const std::string*> keys;
    for (const auto& k : diff.differs) keys.push_back(&k);
    for (const auto& k : diff.missing) keys.push_back(&k.key);
    for (const auto& k : diff.extra) keys.push_back(&k.key);
    const PlannedTable& t = tc.table();
    const auto dest_columns = tc.key_columns(Side::destination), source_columns = tc.key_columns(Side::source);
    for (size_t from = 0, n = keys_per_statement(dst); from < keys.size(); from += n)
        dst.exec("DELETE FROM " + dst.quote_ident(t.dest->name) + " WHERE " +
                 key_predicate(dst, *t.dest, dest_columns, keys, from, std::min(keys.size(), from + n)));
    ChunkIssues issues;
    ChunkProgress counted(progress, progress_index);
    uint64_t written = 0;
    const bool kept = diff.source_rows && !stage && write_kept_rows(src, dst, tc, diff, policy, progress, progress_index, issues, written);
    for (size_t from = 0, n = keys_per_statement(src); !kept && from < keys.size(); from += n) {
        PlannedTable by_key = t;  // the table as one chunk of just these keys, wherever the source's collation puts them
        by_key.bounds.clear();
        by_key.key_column.clear();
        by_key.scope = key_predicate(src, *t.source, source_columns, keys, from, std::min(keys.size(), from + n));
        ChunkOutcome out = write_chunk_rows(src, dst, by_key, 0, policy, counted, issues, stage);
        written += out.rows + out.skipped;
    }
    ChunkApplied a = applied(diff, issues, /*whole=*/false);
    // A key only the destination held in this chunk may be a source row of another chunk, written here.
    const uint64_t found_elsewhere = written > a.inserted + a.updated ? written - a.inserted - a.updated : 0;
    a.deleted = diff.extra.size() - std::min<uint64_t>(diff.extra.size(), found_elsewhere);
    a.updated += diff.extra.size() - a.deleted;
    return a;
}

}  // namespace mmmove::sync_detail
