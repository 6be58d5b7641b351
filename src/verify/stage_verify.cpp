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

// Both sides of the comparison are in the destination's spelling (the source's row has been through
// the edge conversion), so only what the destination itself may spell two ways needs a canonical form.
Canon canon_of(ColumnKind kind) {
    switch (kind) {
        case ColumnKind::json: return Canon::json;
        case ColumnKind::boolean: return Canon::boolean;
        case ColumnKind::binary: return Canon::binary;
        case ColumnKind::text_array: return Canon::array;
        case ColumnKind::floating: return Canon::floating;
        default: return Canon::text;
    }
}

struct Expected {
    std::string shown_key;
    std::vector<std::optional<std::string>> values;
};

class TableCheck {
public:
    TableCheck(const PlannedTable& t, Database& dst, const RowConverter& conv, size_t examples, StageVerifyTable& out)
        : t_(t), dst_(dst), examples_(examples), out_(out) {
        for (const auto& k : conv.dest_kinds()) canon_.push_back(canon_of(k));
        columns_ = conv.dest_columns();
        for (size_t i = 0; i < columns_.size(); ++i)
            if (lower(columns_[i]) == lower(t.dest->primary_key.at(0))) key_ = i;
    }
    void add(const FieldRow& row, std::string shown_key) {
        Expected e{std::move(shown_key), {}};
        for (size_t i = 0; i < row.size(); ++i) e.values.push_back(row[i].null ? std::nullopt : std::optional<std::string>(canon(row[i].view(), i)));
        batch_[std::string(row[key_].view())] = std::move(e);
        if (batch_.size() == kBatch) flush();
    }
    void flush() {
        if (batch_.empty()) return;
        std::string in;
        for (const auto& [key, e] : batch_) in += (in.empty() ? "" : ", ") + dst_.quote_literal(key);
        auto reader = dst_.read_where(t_.dest->name, columns_, dst_.quote_ident(columns_[key_]) + " IN (" + in + ")");
        FieldRow row;
        while (reader->next(row)) {
            auto it = batch_.find(std::string(row[key_].view()));
            if (it == batch_.end()) continue;
            ++out_.compared;
            for (size_t i = 0; i < row.size(); ++i) {
                std::optional<std::string> got = row[i].null ? std::nullopt : std::optional<std::string>(canon(row[i].view(), i));
                if (got == it->second.values[i]) continue;
                ++out_.differ;
                example(it->second.shown_key + ": " + columns_[i] + " differs");
                break;
            }
            batch_.erase(it);
        }
        for (const auto& [key, e] : batch_) {
            ++out_.missing;
            example(e.shown_key + ": missing on the destination");
        }
        batch_.clear();
    }

private:
    std::string canon(std::string_view v, size_t i) {
        std::string scratch;
        return std::string(canonical_value(v, canon_[i], dst_.engine(), scratch));
    }
    void example(std::string text) {
        if (out_.examples.size() < examples_) out_.examples.push_back(std::move(text));
    }
    const PlannedTable& t_;
    Database& dst_;
    size_t examples_;
    StageVerifyTable& out_;
    std::vector<Canon> canon_;
    std::vector<std::string> columns_;
    size_t key_ = 0;
    std::map<std::string, Expected> batch_;
};

StageVerifyTable verify_table(const PlannedTable& t, Database& src, Database& dst, const LoadStage& stage, const ConvertPolicy& policy,
                              size_t examples) {
    StageVerifyTable out{t.dest->name, 0, 0, 0, {}};
    for (size_t c = 0; c < t.chunk_count(); ++c) {
        ChunkIssues issues;  // what the conversion changes was reported by the merge itself
        RowConverter conv(*t.source, *t.dest, src.engine(), dst.engine(), policy, issues);
        TransformChain chain = stage.chain(t, RowColumns(conv.source_columns()), issues);
        TableCheck check(t, dst, conv, examples, out);
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
    for (const auto& t : chunks.tables) {
        if (t.dest->primary_key.size() != 1 || stage.write_plan(t).kind != WritePlan::Kind::insert) continue;
        r.tables.push_back(verify_table(t, snapshot.worker(0), dst, stage, policy, examples));
    }
    return r;
}

void print_stage_verify(const StageVerifyResult& r, std::ostream& out, const std::string& verb) {
    uint64_t compared = 0;
    for (const auto& t : r.tables) {
        compared += t.compared;
        if (!t.missing && !t.differ) continue;
        out << "  " << t.table << ": " << t.missing << " rows missing on the destination, " << t.differ << " rows differ\n";
        for (const auto& e : t.examples) out << "      " << e << "\n";
    }
    out << "verify: " << (r.equal() ? "every " + verb + " row is in the destination as " + verb + " (" : std::string("DIFFERENT (")) << compared << " rows compared in "
        << r.tables.size() << " tables)\n";
}

}  // namespace mmmove
