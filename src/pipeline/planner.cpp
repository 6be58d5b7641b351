#include "pipeline/planner.h"

#include <algorithm>
#include <cmath>

#include "catalog/schema_model.h"
#include "core/error.h"

namespace mmmove {
namespace {

// Mattermost's ID alphabet, in the byte order both engines sort lower-case ASCII in.
std::string sorted_alphabet() {
    std::string a = "ybndrfg8ejkmcpqxot1uwisza345h769";
    std::sort(a.begin(), a.end());
    return a;
}

std::vector<std::string> prefix_bounds(size_t chunks) {
    const std::string a = sorted_alphabet();
    const size_t space = a.size() * a.size();  // two-character prefixes
    std::vector<std::string> out;
    for (size_t i = 1; i < chunks; ++i) {
        size_t at = i * space / chunks;
        out.push_back(std::string{a[at / a.size()], a[at % a.size()]});
    }
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

CopyPlan plan_copy(const CheckReport& check, const CheckOptions& options, Database& source, uint64_t chunk_rows) {
    CopyPlan plan;
    plan.chunk_rows = chunk_rows;
    auto estimates = estimate_row_counts(source);
    const auto& fks = check.dest.catalog.foreign_keys;
    for (const Table* st : tables_to_copy(check, options)) {
        PlannedTable p;
        p.source = st;
        p.dest = check.dest.catalog.find(st->name);
        p.bootstrap = table_role(st->name) == TableRole::server_bootstrap;
        p.estimated_rows = estimates[lower(st->name)];
        for (const auto& [child, parent] : fks)
            if (lower(child) == lower(st->name) && lower(parent) != lower(child)) p.parents.push_back(lower(parent));
        size_t chunks = p.bootstrap || chunk_rows == 0 ? 1 : static_cast<size_t>(std::ceil(double(p.estimated_rows) / double(chunk_rows)));
        if (chunks > 1 && !st->primary_key.empty()) {
            const Column* key = st->find_column(st->primary_key.front());
            p.key_column = key->name;
            p.numeric_key = key->kind == ColumnKind::integer;
            if (p.numeric_key) {
                auto mm = source.query("SELECT MIN(" + source.quote_ident(key->name) + "), MAX(" + source.quote_ident(key->name) +
                                       ") FROM " + source.quote_ident(st->name));
                int64_t lo = std::stoll(mm[0][0].value_or("0")), hi = std::stoll(mm[0][1].value_or("0"));
                for (size_t i = 1; i < chunks && hi > lo; ++i) p.bounds.push_back(std::to_string(lo + (hi - lo) / int64_t(chunks) * int64_t(i)));
                p.bounds.erase(std::unique(p.bounds.begin(), p.bounds.end()), p.bounds.end());
            } else {
                p.bounds = prefix_bounds(std::min<size_t>(chunks, 1024));
            }
        }
        plan.tables.push_back(std::move(p));
    }
    return plan;
}

std::string chunk_predicate(Database& source, const PlannedTable& t, size_t number) {
    const std::string range = chunk_predicate(source, t, number, t.key_column);
    if (t.scope.empty()) return range;
    return range.empty() ? t.scope : range + " AND (" + t.scope + ")";
}

std::string chunk_predicate(Database& db, const PlannedTable& t, size_t number, const std::string& key_column) {
    if (t.bounds.empty()) return "";
    auto lit = [&](const std::string& v) { return t.numeric_key ? v : db.quote_literal(v); };
    std::string key = db.quote_ident(key_column);
    std::string where;
    if (number > 0) where = key + " >= " + lit(t.bounds[number - 1]);
    if (number < t.bounds.size()) where += (where.empty() ? "" : " AND ") + key + " < " + lit(t.bounds[number]);
    // Primary-key columns are NOT NULL, so the ranges cover every row.
    return where;
}

nlohmann::json plan_bounds(const CopyPlan& plan) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& t : plan.tables) j[lower(t.source->name)] = {{"key", t.key_column}, {"numeric", t.numeric_key}, {"bounds", t.bounds}};
    return j;
}

namespace {

[[noreturn]] void altered_checkpoint(const std::string& table, const std::string& what) {
    throw Error(ExitCode::destination, "The checkpoint of the interrupted copy on the destination does not hold what mmmove wrote "
                                       "for table " + table + " (" + what + "); mmmove will not use it. Start the copy again "
                                       "with --truncate instead of --resume.");
}

// A bound read back from the destination goes into SQL run on the source: only the forms mmmove
// writes itself are accepted (a whole number, or a prefix of Mattermost's ID alphabet).
bool valid_bound(const std::string& v, bool numeric) {
    if (v.empty() || v.size() > 26) return false;
    if (numeric) {
        size_t digits = v[0] == '-' ? 1 : 0;
        return v.size() > digits && v.find_first_not_of("0123456789", digits) == std::string::npos;
    }
    return v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos;
}

}  // namespace

void apply_bounds(CopyPlan& plan, const nlohmann::json& bounds) {
    if (!bounds.is_object()) altered_checkpoint("all tables", "no chunk bounds");
    for (auto& t : plan.tables) {
        auto it = bounds.find(lower(t.source->name));
        if (it == bounds.end()) continue;
        const auto& b = *it;
        if (!b.is_object() || !b.contains("key") || !b["key"].is_string() || !b.contains("bounds") || !b["bounds"].is_array())
            altered_checkpoint(t.source->name, "malformed entry");
        std::vector<std::string> cuts;
        for (const auto& v : b["bounds"]) {
            if (!v.is_string()) altered_checkpoint(t.source->name, "a bound that is not text");
            cuts.push_back(v.get<std::string>());
        }
        std::string key = b["key"].get<std::string>();
        if (cuts.empty()) {
            t.key_column.clear();
            t.bounds.clear();
            continue;
        }
        // The key column and its kind come from the source's own catalog, never from the checkpoint.
        if (t.source->primary_key.empty() || lower(key) != lower(t.source->primary_key.front()))
            altered_checkpoint(t.source->name, "a key column that is not the table's primary key");
        const Column* column = t.source->find_column(key);
        bool numeric = column->kind == ColumnKind::integer;
        if (cuts.size() > 100000) altered_checkpoint(t.source->name, "too many chunks");
        for (const auto& c : cuts)
            if (!valid_bound(c, numeric)) altered_checkpoint(t.source->name, "a chunk bound mmmove never writes");
        t.key_column = column->name;
        t.numeric_key = numeric;
        t.bounds = std::move(cuts);
    }
}

}  // namespace mmmove
