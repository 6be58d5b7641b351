#pragma once
// The steps of planning a merge (merge_plan.h), one per kind of row. Each reads what it needs from
// both sides, adds to the plan's ID map, names, matches and conflicts, and writes nothing.
#include <functional>
#include <string>

#include "merge/merge_plan.h"
#include "merge/scope.h"

namespace mmmove::matching {

struct Sides {
    Database& src;
    Database& dst;
    const CheckReport& check;
    const MergeRules& rules;
    const MergeScope& scope;  // a scoped merge reads only the scope's source rows
    // The stored name of a table on each side ("" when that side has none).
    std::string src_table(const std::string& name) const;
    std::string dst_table(const std::string& name) const;
    // `glue` + the scope's predicate on the source's `table` ("" without a scope): " WHERE ", " AND ".
    std::string src_scope(const std::string& table, const std::string& glue) const;
};

// A name for a row that joins beside a namesake: `name` + suffix (+ 2, 3… while `taken` says the
// candidate is in use), at most 64 characters.
std::string unused_name(const std::string& name, const std::string& suffix, const std::function<bool(const std::string&)>& taken);

void match_users(const Sides& s, MergePlan& plan);
void match_teams(const Sides& s, MergePlan& plan);
void match_channels(const Sides& s, MergePlan& plan);
void match_direct_channels(const Sides& s, MergePlan& plan);
void match_emoji(const Sides& s, MergePlan& plan);
// A table whose identity (mappings/references.yaml) has `matcher: name`: the same Name is the same row.
void match_by_name(const Sides& s, MergePlan& plan, const std::string& table);
// Source ids that another destination row already uses get a new id (every table keyed by its own id).
void renumber_collisions(const Sides& s, MergePlan& plan, const std::string& table, const std::string& key_column);

}  // namespace mmmove::matching
