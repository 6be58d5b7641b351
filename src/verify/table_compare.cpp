#include "verify/table_compare.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "catalog/secrets.h"
#include "files/printable_path.h"
#include "pipeline/issue_log.h"
#include "transform/convert.h"

namespace mmmove::verify_detail {
namespace {

// What the copy does to a value it changes on purpose, whichever policy it ran with: the report says
// which values were changed, and how they were changed does not depend on the policy.
const ConvertPolicy kRedo{OverlongPolicy::truncate, InvalidJsonPolicy::repair, RefusedPolicy::repair};

// A value in the canonical row: a tag (NULL or not), then its length and its canonical bytes, so no
// two different rows have the same bytes.
void append_value(std::string& out, const Field& f, Canon canon, Engine engine, std::string& scratch) {
    if (f.null) {
        out.push_back('\0');
        return;
    }
    std::string_view v = canonical_value(f.view(), canon, engine, scratch);
    uint64_t n = v.size();
    out.push_back('\1');
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(v);
}

// The values of an encoded key or row, in order (nullopt for NULL).
std::vector<std::optional<std::string>> decode_values(std::string_view enc) {
    std::vector<std::optional<std::string>> out;
    size_t at = 0;
    while (at < enc.size()) {
        if (enc[at++] == '\0') {
            out.emplace_back();
            continue;
        }
        uint64_t n = 0;
        std::memcpy(&n, enc.data() + at, sizeof n);
        at += sizeof n;
        out.emplace_back(std::string(enc.substr(at, n)));
        at += n;
    }
    return out;
}

Hash128 hash_of(std::string_view bytes) {
    XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
    return {h.low64, h.high64};
}

void add(Hash128& sum, Hash128 h) {
    sum.lo += h.lo;
    sum.hi += h.hi;
}

// A value as the result shows it: one printable line (control bytes and invalid UTF-8 escaped, so a
// removed NUL byte shows), at most 40 characters from `from` on, or a hash for a secret.
std::string shown_value(const std::optional<std::string>& v, bool secret, size_t from) {
    if (!v) return "NULL";
    if (secret) return masked_secret(*v);
    from = std::min(from, v->size());
    while (from > 0 && (static_cast<unsigned char>((*v)[from]) & 0xC0) == 0x80) --from;  // not inside a UTF-8 sequence
    std::string_view rest = std::string_view(*v).substr(from);
    std::string_view part = rest.substr(0, 40);
    return std::string(from ? "…" : "") + "\"" + printable_path(part) + "\"" + (part.size() < rest.size() ? "…" : "");
}

// Where two values start to differ, less a little context.
size_t context_start(const std::optional<std::string>& a, const std::optional<std::string>& b) {
    if (!a || !b) return 0;
    size_t i = 0;
    while (i < a->size() && i < b->size() && (*a)[i] == (*b)[i]) ++i;
    return i > 16 ? i - 16 : 0;
}

// The source's rows as a stage writes them: through its transforms (a dropped row is skipped) and
// the edge conversion, in the destination's columns and spelling, as write_chunk_rows writes them.
class StagedReader : public RowReader {
public:
    StagedReader(std::unique_ptr<RowReader> inner, const PlannedTable& t, Engine from, Engine to, const LoadStage& stage,
                 ConvertPolicy policy)
        : inner_(std::move(inner)), conv_(*t.source, *t.dest, from, to, policy, issues_),
          chain_(stage.chain(t, RowColumns(conv_.source_columns()), issues_)) {}
    bool next(FieldRow& row) override {
        while (inner_->next(row)) {
            const bool kept = chain_.apply(row) && conv_.convert(row);
            issues_.clear();  // the write reports what the conversion changes
            if (kept) return true;
        }
        return false;
    }

private:
    std::unique_ptr<RowReader> inner_;
    ChunkIssues issues_;
    RowConverter conv_;
    TransformChain chain_;
};

}  // namespace

// One side's rows as canonical bytes and keys. On the source side of a table the copy's report names,
// a row the report lists is put through the copy's conversion first (only the columns it lists), and a
// row it left out is skipped.
class RowCanon {
public:
    RowCanon(const TableComparer& tc, Side side) : tc_(tc), engine_(side == Side::source ? tc.source_spelling_ : tc.to_) {
        if (side == Side::source && tc.expected_)
            conv_ = std::make_unique<RowConverter>(*tc.table_.source, *tc.table_.dest, tc.from_, tc.to_, kRedo, issues_);
    }
    // Builds the row's canonical bytes, and its key when `with_key` (only the row-by-row pass needs it).
    // False when the copy's report says it left this row out.
    bool build(const FieldRow& row, ChunkDigest& d, bool with_key) {
        const ExpectedChanges::Row* expected = expectation(row, d);
        if (expected && expected->left_out) return false;
        bytes_.clear();
        for (size_t i = 0; i < row.size(); ++i) append(bytes_, row, i, expected);
        if (!with_key) return true;
        key_.clear();
        if (tc_.key_columns_.empty())
            key_ = bytes_;
        else
            for (size_t i : tc_.key_columns_) append(key_, row, i, expected);
        return true;
    }
    // Each column's canonical value, for naming the columns that differ.
    std::vector<std::optional<std::string>> columns(const FieldRow& row) {
        ChunkDigest unused;
        const ExpectedChanges::Row* expected = expectation(row, unused);
        std::vector<std::optional<std::string>> out;
        for (size_t i = 0; i < row.size(); ++i) {
            auto [f, engine] = value(row, i, expected);
            if (f.null)
                out.emplace_back();
            else
                out.emplace_back(std::string(canonical_value(f.view(), tc_.canon_[i], engine, scratch_)));
        }
        return out;
    }
    const std::string& bytes() const { return bytes_; }
    const std::string& key() const { return key_; }

private:
    const ExpectedChanges::Row* expectation(const FieldRow& row, ChunkDigest& d) {
        if (!conv_) return nullptr;
        const ExpectedChanges::Row* e = tc_.expected_->find(tc_.name_, conv_->key_of(row));
        if (!e) return nullptr;
        if (e->left_out) {
            ++d.expected_absent;
            return e;
        }
        converted_ = row;
        try {
            if (!conv_->convert(converted_)) converted_ = row;
        } catch (const Error&) {
            converted_ = row;  // the copy could not have changed it either: compare the value as it is
        }
        issues_.clear();
        ++d.expected_changed;
        return e;
    }
    // Column i as it is compared: the copy's conversion of it (in the destination's spelling) when the
    // report lists it, else the value as this side holds it.
    std::pair<const Field&, Engine> value(const FieldRow& row, size_t i, const ExpectedChanges::Row* expected) const {
        bool redo = expected && std::find(expected->columns.begin(), expected->columns.end(), tc_.lower_columns_[i]) != expected->columns.end();
        return {redo ? converted_[i] : row[i], redo ? tc_.to_ : engine_};
    }
    void append(std::string& out, const FieldRow& row, size_t i, const ExpectedChanges::Row* expected) {
        auto [f, engine] = value(row, i, expected);
        append_value(out, f, tc_.canon_[i], engine, scratch_);
    }

    const TableComparer& tc_;
    Engine engine_;
    ChunkIssues issues_;
    std::unique_ptr<RowConverter> conv_;
    FieldRow converted_;
    std::string bytes_, key_, scratch_;
};

TableComparer::TableComparer(const PlannedTable& table, Engine from, Engine to, const ExpectedChanges* expected,
                             const LoadStage* stage, ConvertPolicy policy)
    : table_(table), from_(from), to_(to), name_(lower(table.source->name)), policy_(policy), source_spelling_(from) {
    expected_ = expected && expected->has_table(name_) ? expected : nullptr;
    if (stage && !stage_chain(*stage, policy).empty()) {
        stage_ = stage;
        source_spelling_ = to;
        keys_kept_ = stage->keeps_keys(table);
    }
    for (const auto& sc : table.source->columns) {
        const Column* dc = table.dest->find_column(sc.name);
        if (!dc) continue;
        source_columns_.push_back(sc.name);
        dest_columns_.push_back(dc->name);
        lower_columns_.push_back(lower(sc.name));
        // Staged, the source's values are the text the stage and the conversion made, not the server's own
        // spelling (jsonb re-spells JSON, a float is printed anew): compared as stage_verify compares.
        canon_.push_back(stage_ ? destination_canon(dc->kind) : canon_for(sc.kind, sc.type, from, dc->kind, dc->type, to));
        secret_.push_back(is_secret_column(table.source->name, sc.name));
    }
    for (const auto& dc : table.dest->columns)
        if (!table.source->find_column(dc.name)) dest_only_columns_.push_back(dc.name);
    for (const auto& k : table.source->primary_key) {
        auto at = std::find(lower_columns_.begin(), lower_columns_.end(), lower(k));
        if (at == lower_columns_.end()) {
            key_columns_.clear();  // a key column the destination lacks: rows are matched whole
            break;
        }
        key_columns_.push_back(static_cast<size_t>(at - lower_columns_.begin()));
    }
    raw_lines_ = from == Engine::postgres && to == Engine::postgres && !expected_ && !stage_ &&
                 std::all_of(canon_.begin(), canon_.end(), [](Canon c) { return c == Canon::raw; });
}

std::string TableComparer::chunk_where(Database& db, Side side, size_t chunk) const {
    std::string key;
    if (!table_.key_column.empty()) {
        const Column* k = (side == Side::source ? table_.source : table_.dest)->find_column(table_.key_column);
        key = k ? k->name : table_.key_column;
    }
    return chunk_predicate(db, table_, chunk, key);
}

std::unique_ptr<RowReader> TableComparer::read(Database& db, Side side, const std::string& where) const {
    bool src = side == Side::source;
    auto reader = db.read_where(src ? table_.source->name : table_.dest->name, src ? source_columns_ : dest_columns_, where);
    if (!src || !stage_) return reader;
    return std::make_unique<StagedReader>(std::move(reader), table_, from_, to_, *stage_, policy_);
}

TransformChain TableComparer::stage_chain(const LoadStage& stage, ConvertPolicy policy) const {
    ChunkIssues issues;
    RowConverter conv(*table_.source, *table_.dest, from_, to_, policy, issues);
    return stage.chain(table_, RowColumns(conv.source_columns()), issues);
}

std::vector<std::string> TableComparer::key_columns(Side side) const {
    std::vector<std::string> out;
    for (size_t i : key_columns_) out.push_back((side == Side::source ? source_columns_ : dest_columns_)[i]);
    return out;
}

bool TableComparer::literal_keys() const { return keys_kept_ && literal_dest_keys(); }

bool TableComparer::literal_dest_keys() const {
    return !key_columns_.empty() &&
           std::all_of(key_columns_.begin(), key_columns_.end(), [&](size_t i) { return canon_[i] == Canon::raw || canon_[i] == Canon::text; });
}

std::vector<std::optional<std::string>> TableComparer::key_values(const std::string& key) { return decode_values(key); }

std::string TableComparer::key_of(const FieldRow& values) {
    std::string out, scratch;
    for (const Field& f : values) append_value(out, f, Canon::raw, Engine::postgres, scratch);
    return out;
}

ChunkDigest TableComparer::digest(Database& db, Side side, size_t chunk) const {
    ChunkDigest d;
    auto reader = read(db, side, chunk_where(db, side, chunk));
    if (raw_lines_) {
        std::string_view line;
        while (pg_read_raw(*reader, line)) ++d.rows, add(d.sum, hash_of(line));
        return d;
    }
    RowCanon canon(*this, side);
    FieldRow row;
    while (reader->next(row))
        if (canon.build(row, d, false)) ++d.rows, add(d.sum, hash_of(canon.bytes()));
    return d;
}

ChunkDiff TableComparer::diff(Database& source, Database& dest, size_t chunk) const {
    return diff_where(source, dest, chunk_where(source, Side::source, chunk), chunk_where(dest, Side::destination, chunk));
}

ChunkDiff TableComparer::diff_where(Database& source, Database& dest, const std::string& source_where, const std::string& dest_where,
                                     bool keep_rows) const {
    using Owned = std::vector<std::optional<std::string>>;
    struct Seen {
        Hash128 hash;
        uint64_t count = 0;  // a table without a primary key may hold the same row twice
        Owned row;           // keep_rows: the row as read (one per key: the table has a primary key)
    };
    keep_rows = keep_rows && !key_columns_.empty() && !stage_;
    std::unordered_map<std::string, Seen> source_rows;
    ChunkDigest unused;
    FieldRow row;
    {
        RowCanon canon(*this, Side::source);
        auto reader = read(source, Side::source, source_where);
        while (reader->next(row))
            if (canon.build(row, unused, true)) {
                Seen& s = source_rows[canon.key()];
                s.hash = hash_of(canon.bytes());
                ++s.count;
                if (!keep_rows) continue;
                s.row.clear();
                for (const Field& f : row) s.row.push_back(f.null ? std::nullopt : std::optional<std::string>(std::string(f.view())));
            }
    }
    ChunkDiff out;
    if (keep_rows) out.source_rows.emplace();
    RowCanon canon(*this, Side::destination);
    auto reader = read(dest, Side::destination, dest_where);
    while (reader->next(row)) {
        canon.build(row, unused, true);
        Hash128 h = hash_of(canon.bytes());
        auto it = source_rows.find(canon.key());
        if (it == source_rows.end()) {
            out.extra.push_back({canon.key(), h});
        } else if (it->second.hash == h) {
            if (--it->second.count == 0) source_rows.erase(it);
        } else {
            out.differs.push_back(canon.key());
            if (keep_rows) out.source_rows->push_back(std::move(it->second.row));
            source_rows.erase(it);
        }
    }
    for (auto& [key, seen] : source_rows) {
        for (uint64_t i = 0; i < seen.count; ++i) out.missing.push_back({key, seen.hash});
        if (keep_rows) out.source_rows->push_back(std::move(seen.row));
    }
    return out;
}

std::string TableComparer::shown_key(const std::string& key) const {
    if (key_columns_.empty()) return "(no primary key)";
    auto values = decode_values(key);
    std::string out;
    for (size_t k = 0; k < key_columns_.size() && k < values.size(); ++k) {
        size_t i = key_columns_[k];
        std::string v = !values[k] ? "NULL" : secret_[i] ? masked_secret(*values[k]) : printable_path(repair_utf8(strip_nul(*values[k])));
        out += (out.empty() ? "" : ", ") + source_columns_[i] + "=" + v;
    }
    return out;
}

RowDifference TableComparer::describe(Database& source, Database& dest, const std::string& key, RowDifference::Kind kind) const {
    RowDifference r;
    r.kind = kind;
    r.key = shown_key(key);
    if (kind != RowDifference::Kind::differs || key_columns_.empty()) return r;
    auto values = decode_values(key);
    // Reads the row with this key on one side, as canonical values per column.
    auto fetch = [&](Database& db, Side side) -> std::optional<std::vector<std::optional<std::string>>> {
        bool src = side == Side::source;
        std::string where;
        for (size_t k = 0; k < key_columns_.size(); ++k) {
            const std::string& column = (src ? source_columns_ : dest_columns_)[key_columns_[k]];
            where += (where.empty() ? "" : " AND ") + db.quote_ident(column) + (values[k] ? " = " + db.quote_literal(*values[k]) : " IS NULL");
        }
        auto reader = read(db, side, where);
        RowCanon canon(*this, side);
        FieldRow row;
        ChunkDigest unused;
        while (reader->next(row))  // a case-insensitive collation may match more than this key
            if (canon.build(row, unused, true) && canon.key() == key) {
                auto cols = canon.columns(row);
                while (reader->next(row)) {
                }
                return cols;
            }
        return std::nullopt;
    };
    auto s = fetch(source, Side::source);
    auto d = fetch(dest, Side::destination);
    if (!s || !d) return r;
    for (size_t i = 0; i < s->size(); ++i) {
        if ((*s)[i] == (*d)[i]) continue;
        r.columns.push_back(source_columns_[i]);
        if (r.columns.size() <= 3)
        {
            size_t from = context_start((*s)[i], (*d)[i]);
            r.detail += (r.detail.empty() ? "" : "; ") + source_columns_[i] + ": " + shown_value((*s)[i], secret_[i], from) +
                        " on the source, " + shown_value((*d)[i], secret_[i], from) + " on the destination";
        }
    }
    return r;
}

}  // namespace mmmove::verify_detail
