#include "pipeline/planner.h"

#include <algorithm>
#include <cmath>

#include "catalog/schema_model.h"

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
    if (t.bounds.empty()) return "";
    auto lit = [&](const std::string& v) { return t.numeric_key ? v : source.quote_literal(v); };
    std::string key = source.quote_ident(t.key_column);
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

void apply_bounds(CopyPlan& plan, const nlohmann::json& bounds) {
    for (auto& t : plan.tables) {
        auto it = bounds.find(lower(t.source->name));
        if (it == bounds.end()) continue;
        t.key_column = (*it)["key"].get<std::string>();
        t.numeric_key = (*it)["numeric"].get<bool>();
        t.bounds = (*it)["bounds"].get<std::vector<std::string>>();
    }
}

}  // namespace mmmove
