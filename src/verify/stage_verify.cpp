#include "verify/stage_verify.h"

#include <map>
#include <ostream>

#include "catalog/catalog.h"
#include "pipeline/issue_log.h"
#include "pipeline/snapshot.h"
#include "verify/canonical.h"

namespace mmmove {

bool StageVerifyResult::equal() const {
    for (const auto& t : tables)
        if (t.missing || t.differ) return false;
    return true;
}

namespace {

constexpr size_t kBatch = 1000;

struct Expected {
    std::string shown_key;
    RowValues values;  // as the stage and the conversion wrote them; then as the key should hold them
};

// A composite key as one map key: each part length-prefixed, so no value can pass for two parts.
std::string joined_key(const std::vector<std::string_view>& parts) {
    std::string key;
    for (auto p : parts) key += std::to_string(p.size()) + ":" + std::string(p);
    return key;
}

// Compares batches of one table's expected rows with the destination's rows under the same keys.
class TableCheck {
public:
    TableCheck(const PlannedTable& t, Database& dst, const RowConverter& conv, const LoadStage& stage, size_t examples, StageVerifyTable& out)
        : t_(t), dst_(dst), stage_(stage), kept_table_(stage.write_plan(t).kept_table), examples_(examples), out_(out) {
        for (const auto& k : conv.dest_kinds()) canon_.push_back(destination_canon(k));
        columns_ = conv.dest_columns();
        for (const auto& k : t.dest->primary_key)
            for (size_t i = 0; i < columns_.size(); ++i)
                if (lower(columns_[i]) == lower(k)) key_.push_back(i);
    }
    bool keyed() const { return !key_.empty() && key_.size() == t_.dest->primary_key.size(); }
    void add(const FieldRow& row, std::string shown_key) {
        Expected e{std::move(shown_key), {}};
        for (const auto& f : row) e.values.push_back(f.null ? std::nullopt : std::optional<std::string>(std::string(f.view())));
        batch_[key_of(row)] = std::move(e);
        if (batch_.size() == kBatch) flush();
    }
    void flush() {
        if (batch_.empty()) return;
        const std::string where = batch_predicate();
        std::map<std::string, RowValues> kept;
        if (!kept_table_.empty()) read_rows(kept_table_, where, [&](const FieldRow& row) { kept[key_of(row)] = values_of(row); });
        for (auto& [key, e] : batch_) {
            auto k = kept.find(key);
            if (k != kept.end()) ++out_.kept;
            stage_.expect(t_, columns_, e.values, k == kept.end() ? nullptr : &k->second);
            if (k != kept.end()) e.shown_key += " (the destination's own row before the merge)";
        }
        read_rows(t_.dest->name, where, [&](const FieldRow& row) { compare(row); });
        for (const auto& [key, e] : batch_) {
            ++out_.missing;
            example(e.shown_key + ": missing on the destination");
        }
        batch_.clear();
    }

private:
    void compare(const FieldRow& row) {
        auto it = batch_.find(key_of(row));
        if (it == batch_.end()) return;
        ++out_.compared;
        for (size_t i = 0; i < row.size(); ++i) {
            std::optional<std::string> got = row[i].null ? std::nullopt : std::optional<std::string>(canon(row[i].view(), i));
            const auto& want = it->second.values[i];
            if (got == (want ? std::optional<std::string>(canon(*want, i)) : std::nullopt)) continue;
            ++out_.differ;
            example(it->second.shown_key + ": " + columns_[i] + " differs");
            break;
        }
        batch_.erase(it);
    }
    std::string key_of(const FieldRow& row) const {
        std::vector<std::string_view> parts;
        for (size_t i : key_) parts.push_back(row[i].view());
        return joined_key(parts);
    }
    static RowValues values_of(const FieldRow& row) {
        RowValues v;
        for (const auto& f : row) v.push_back(f.null ? std::nullopt : std::optional<std::string>(std::string(f.view())));
        return v;
    }
    // "k IN ('a', 'b')", or "(k1, k2) IN (('a', 'x'), ('b', 'y'))" for a composite key.
    std::string batch_predicate() {
        std::string keys, in;
        for (size_t i : key_) keys += (keys.empty() ? "" : ", ") + dst_.quote_ident(columns_[i]);
        for (const auto& [key, e] : batch_) {
            std::string tuple;
            for (size_t i : key_) tuple += (tuple.empty() ? "" : ", ") + dst_.quote_literal(e.values[i].value_or(""));
            in += (in.empty() ? "" : ", ") + (key_.size() == 1 ? tuple : "(" + tuple + ")");
        }
        return (key_.size() == 1 ? keys : "(" + keys + ")") + " IN (" + in + ")";
    }
    template <typename F>
    void read_rows(const std::string& table, const std::string& where, F&& each) {
        auto reader = dst_.read_where(table, columns_, where);
        FieldRow row;
        while (reader->next(row)) each(row);
    }
    std::string canon(std::string_view v, size_t i) {
        std::string scratch;
        return std::string(canonical_value(v, canon_[i], dst_.engine(), scratch));
    }
    void example(std::string text) {
        if (out_.examples.size() < examples_) out_.examples.push_back(std::move(text));
    }
    const PlannedTable& t_;
    Database& dst_;
    const LoadStage& stage_;
    const std::string kept_table_;
    size_t examples_;
    StageVerifyTable& out_;
    std::vector<Canon> canon_;
    std::vector<std::string> columns_;
    std::vector<size_t> key_;
    std::map<std::string, Expected> batch_;
};

StageVerifyTable verify_table(const PlannedTable& t, Database& src, Database& dst, const LoadStage& stage, const ConvertPolicy& policy,
                              size_t examples) {
    StageVerifyTable out{t.dest->name, 0, 0, 0, 0, "", {}};
    for (size_t c = 0; c < t.chunk_count(); ++c) {
        ChunkIssues issues;  // what the conversion changes was reported by the load itself
        RowConverter conv(*t.source, *t.dest, src.engine(), dst.engine(), policy, issues);
        TransformChain chain = stage.chain(t, RowColumns(conv.source_columns()), issues);
        TableCheck check(t, dst, conv, stage, examples, out);
        if (!check.keyed()) {
            out.not_compared = "no primary key";
            return out;
        }
        auto reader = src.read_where(t.source->name, conv.source_columns(), chunk_predicate(src, t, c));
        FieldRow row;
        while (reader->next(row))
            if (chain.apply(row) && conv.convert(row)) check.add(row, conv.key_of(row));
        check.flush();
    }
    return out;
}

}  // namespace

StageVerifyResult verify_through_stage(const CopyPlan& chunks, ReadSnapshot& snapshot, Database& dst, const LoadStage& stage,
                               const ConvertPolicy& policy, size_t examples) {
    StageVerifyResult r;
    for (const auto& t : chunks.tables) r.tables.push_back(verify_table(t, snapshot.worker(0), dst, stage, policy, examples));
    return r;
}

void print_stage_verify(const StageVerifyResult& r, std::ostream& out, const std::string& verb) {
    uint64_t compared = 0, kept = 0;
    std::string unchecked;
    for (const auto& t : r.tables) {
        compared += t.compared, kept += t.kept;
        if (!t.not_compared.empty()) unchecked += (unchecked.empty() ? "" : ", ") + t.table + " (" + t.not_compared + ")";
        if (!t.missing && !t.differ) continue;
        out << "  " << t.table << ": " << t.missing << " rows missing on the destination, " << t.differ << " rows differ ("
            << t.compared + t.missing << " " << verb << " rows checked)\n";
        for (const auto& e : t.examples) out << "      " << e << "\n";
    }
    if (!unchecked.empty()) out << "  not compared: " << unchecked << "\n";
    out << "verify: " << (r.equal() ? "every " + verb + " row is in the destination as " + verb + " (" : std::string("DIFFERENT (")) << compared << " rows compared in "
        << r.tables.size() << " tables";
    if (kept) out << "; " << kept << " under a key the destination already held, as the rules combine them";
    out << ")\n";
}

}  // namespace mmmove
