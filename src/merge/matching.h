#pragma once
// The steps of planning a merge (merge_plan.h), one per kind of row. Each reads what it needs from
// both sides, adds to the plan's ID map, names, matches and conflicts, and writes nothing.
#include <functional>
#include <string>

#include "catalog/references.h"
#include "merge/merge_plan.h"
#include "merge/scope.h"

namespace mmmove::matching {

struct Sides {
    Database& src;
    Database& dst;
    const CheckReport& check;
    const MergeRules& rules;
    const MergeScope& scope;  // a scoped merge reads only the scope's source rows
    const References& model;  // identities, references (mappings/references.yaml)
    // The stored name of a table on each side ("" when that side has none).
    std::string src_table(const std::string& name) const;
    std::string dst_table(const std::string& name) const;
    // `glue` + the scope's predicate on the source's `table` ("" without a scope): " WHERE ", " AND ".
    std::string src_scope(const std::string& table, const std::string& glue) const;
    // `db`'s (src or dst) stored table and column, quoted for its SQL. A column the table lacks
    // throws Error naming it: the model is checked against the databases as well as the schema.
    std::string table(Database& db, const std::string& table) const;
    std::string column(Database& db, const std::string& table, const std::string& column) const;
    // The table's own id column (its one-column primary key), quoted.
    std::string id_column(Database& db, const std::string& table) const;
};

// A name for a row that joins beside a namesake: `name` + suffix (+ 2, 3… while `taken` says the
// candidate is in use), at most 64 characters.
std::string unused_name(const std::string& name, const std::string& suffix, const std::function<bool(const std::string&)>& taken);

// The steps of a merge, one per matcher of mappings/references.yaml's identity section. Each reads its
// table and key columns from the entry.
void match_users(const Sides& s, MergePlan& plan, const IdentityKey& users);
void match_teams(const Sides& s, MergePlan& plan, const IdentityKey& teams);
void match_channels(const Sides& s, MergePlan& plan, const IdentityKey& channels);
void match_direct_channels(const Sides& s, MergePlan& plan, const IdentityKey& channels);
void match_emoji(const Sides& s, MergePlan& plan, const IdentityKey& emoji);
// `matcher: name`: rows whose key columns hold the same values (any key) are the same row.
void match_by_key(const Sides& s, MergePlan& plan, const IdentityKey& id);
// Runs the step of each identity entry, in the model's order.
void match_identities(const Sides& s, MergePlan& plan);
// Source ids that another destination row already uses get a new id (every table keyed by its own id).
void renumber_collisions(const Sides& s, MergePlan& plan, const std::string& table, const std::string& key_column);

}  // namespace mmmove::matching
