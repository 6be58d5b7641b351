#pragma once
// What a merge will do, decided before anything is written: which source rows are rows the
// destination already has (identity matches), which get a new id (collisions) or a new name (clashes
// a policy settles), the conflicts no policy settles, and per table how many rows are inserted or
// mapped onto existing ones. `mmmove merge --plan` prints it; `mmmove merge` applies it.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/references.h"
#include "check/check.h"
#include "merge/id_map.h"
#include "merge/rules.h"
#include "merge/scope.h"
#include "transform/text_refs.h"

namespace mmmove {

struct MergeConflict {
    std::string kind;     // "same username, other email"
    std::string subject;  // "user alice (source alice@a.example, destination alice@b.example)"
    std::string action;   // what happens under the current policy
    std::string fix;      // the rules setting that settles it
    bool blocking = false;
};

struct MergeMatch {
    std::string table, subject, how;  // Users, "alice", "same username and email"
};

// A channel both sides have: the totals that members' read state is computed from.
struct MergedChannel {
    std::string dest_id;
    int64_t dest_total = 0, dest_total_root = 0;
    int64_t source_total = 0, source_total_root = 0, source_last_post = 0, source_last_root_post = 0;
};

// What a merge does with one table's rows. The checkpoint of a merge stores table_how_name (stable);
// people and --json see table_how_text.
enum class TableHow {
    insert,              // rows are inserted (ids renumbered where the destination's are taken)
    skip_existing_keys,  // rows keyed by other rows' ids or by a number (a hash): a key the destination holds keeps its row
    combine_members,     // memberships both sides hold are combined (tables.combine_members)
    keep_destination,    // the destination keeps its own rows (tables.keep_destination)
    outside_scope,       // a scoped merge leaves the rows on the source
    skip,                // rows left behind (tables.skip)
    copy_as_is,          // rows copied unchanged (tables.copy_as_is)
};
const char* table_how_text(TableHow how);
const char* table_how_name(TableHow how);
// The TableHow whose table_how_name is `name`; nullopt for anything else.
std::optional<TableHow> table_how_from_name(std::string_view name);

struct TablePlan {
    std::string table;  // the source's name
    uint64_t source_rows = 0, matched = 0, renumbered = 0;
    TableHow how = TableHow::insert;
    bool merged = true; // rows move (false: the destination keeps its own)
    uint64_t total_rows = 0;  // a scoped merge: the source's rows of every team (source_rows: the scope's)
};

struct MergePlan {
    IdMap ids;
    // New values for renamed rows, per lower-case table: source id → new name (Users.Username,
    // Teams.Name, Channels.Name (renamed and rebuilt DM/GM names), Emoji.Name).
    std::map<std::string, StringMap> new_names;
    TextRenames renames;  // names in moved messages that follow
    std::vector<MergedChannel> merged_channels;
    std::vector<MergeConflict> conflicts;
    std::vector<MergeMatch> matches;
    std::vector<std::string> notes;
    std::vector<TablePlan> tables;
    std::string scope;  // a scoped merge: what it moves ("team a; with the DMs…"), "" for a full merge
    bool blocked() const;
    const std::string* new_name(const std::string& table, std::string_view source_id) const;
    // The parts of the plan a resumed merge needs that the ID map does not hold (names, channel totals).
    nlohmann::json state() const;
    // Reads state() back. A table treatment that is not one mmmove writes throws Error(destination).
    void restore(const nlohmann::json& state);
};

// Reads both sides' identities and decides. `src` reads the source's snapshot; nothing is written.
// A scoped merge (`scope` active) matches, renumbers and counts only the scope's source rows.
MergePlan plan_merge(Database& src, Database& dst, const CheckReport& check, const MergeRules& rules, const MergeScope& scope = MergeScope());
// The same with another reference model than mmmove's own (tests: a model with an entry of its own).
MergePlan plan_merge(Database& src, Database& dst, const CheckReport& check, const MergeRules& rules, const MergeScope& scope,
                     const References& model);
// The tables a merge between these two catalogs may hold in its ID map, and the form of their ids:
// what a resumed merge accepts when it reads the map back (IdMap::load).
IdForms merge_id_forms(const CheckReport& check);
void print_merge_plan(const MergePlan& plan, std::ostream& out, size_t examples);
nlohmann::json merge_plan_json(const MergePlan& plan);

}  // namespace mmmove
