#pragma once
// Where Mattermost rows point at each other (mappings/references.yaml, compiled in). Mattermost has no
// FOREIGN KEYs: a post names its author by a Users.Id value, a DM channel's Name is built from its two
// members' ids, a preference's Name may be a post id. Anything that gives rows new ids or folds two
// instances into one (merge) reads this model to find every place an id or a name must follow.
// Table and column names compare case-insensitively (MySQL CamelCase and PostgreSQL lower case alike).
#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

namespace mmmove {

// The row a reference leads to, `Table.Column` (Users.Id, Roles.Name).
struct RefTarget {
    std::string table, column;
};

enum class ColumnRefKind {
    column,    // the value is the target's id
    key_part,  // the same, and the column is (part of) the row's primary key
    names,     // space-separated names of target rows (Roles by Name)
};

// A column whose whole value refers to another row.
struct ColumnReference {
    std::string table, column;
    RefTarget target;
    ColumnRefKind kind = ColumnRefKind::column;
    bool optional = false;  // '' or NULL means no row
    bool loose = false;     // values that are not target ids occur and stay as they are
};

// One step of a path into a JSON document.
struct JsonStep {
    // member_name: the names of an object's members themselves (written `{key}`, last step only):
    // Posts.Props channel_mentions is keyed by channel Name.
    enum class Kind { member, any_member, each_element, member_name };
    Kind kind = Kind::member;
    std::string name;  // for member
};

// An id inside a JSON document (a JSON column, or JSON kept in a text column).
struct JsonReference {
    std::string table, column;
    std::string path;             // as written: "channel_mentions.*.id", "[]"
    std::vector<JsonStep> steps;  // the path parsed
    RefTarget target;
};

enum class PreferenceField { name, value };

// Preferences rows of one Category whose Name or Value holds ids.
struct PreferenceReference {
    std::string category;
    std::string name;          // only rows with this Name; empty: any
    PreferenceField field = PreferenceField::name;
    RefTarget target;
    std::string separator;     // several ids joined by it; empty: one id
    std::string equals;        // the field always equals this column of the row (tutorial_step: UserId)
    bool optional = false;     // '' means none
};

enum class DerivedRule {
    sorted_join,  // ids sorted ascending, joined by a separator (DM channel names)
    sha1_sorted,  // hex SHA-1 of the sorted ids concatenated (GM channel names)
    pattern,      // "{Type}_{UserId}_{TeamId}": columns of the same row
    same_id,      // the value is the input row's id
    mirror,       // the whole row copies an input row
};

// A value computed from ids: it changes when they do.
struct DerivedName {
    std::string name, table, column;
    std::string when;                          // SQL condition on the row that makes the rule apply
    DerivedRule rule = DerivedRule::same_id;
    std::vector<RefTarget> inputs;
    std::string separator;                     // sorted_join
    std::string pattern;                       // pattern
    std::vector<std::string> pattern_columns;  // the {Column}s of the pattern, in order
};

enum class TextForm {
    mention,    // @name
    channel,    // ~name
    permalink,  // <SiteURL>/<team name>/pl/<post id>
    emoji,      // :name:
    value,      // the whole value is a name
};

// Names written in text, or a column holding a name rather than an id.
struct TextReference {
    std::string table, column;
    TextForm form = TextForm::value;
    std::vector<RefTarget> targets;  // permalink: team name, then post id
};

// How a row is recognised on another instance: it is the same row when any of the keys agree. A key
// column that is itself a reference compares through the referenced row's identity. The matcher names
// the merge step (src/merge) that applies the entry; the entries run in the order they are listed.
struct IdentityKey {
    enum class Matcher {
        joined,           // no step of its own: the rows are matched through the rows their key joins
        name,             // the generic step: rows whose key columns hold the same values are the same row
        users,            // keys [[username], [email]]; bots (the `bots` entry) by their user
        bots,             // keys [[user]]: matched with their user by the `users` step
        teams,            // keys [[name]], renamed by teams.rename
        channels,         // keys [[team, name]]: open and private channels, the team through its identity
        direct_channels,  // keys [[team, name]]: DM and group channels, the name rebuilt from their members
        emoji,            // keys [[name]], live_only
    };
    std::string table;
    std::vector<std::vector<std::string>> keys;
    bool live_only = false;  // only rows with DeleteAt = 0 take part
    Matcher matcher = Matcher::joined;
    std::string rename;      // the column a merge rewrites when a source row joins beside a namesake ("" : none)
    std::string display;     // the column the merge's plan names a row by (default: the last column of the first key)
    // The column that names a row to people: display, or the last column of the first key.
    const std::string& shown() const { return display.empty() ? keys.front().back() : display; }
};
const char* matcher_name(IdentityKey::Matcher matcher);

struct References {
    std::vector<IdentityKey> identities;
    std::vector<ColumnReference> columns;
    std::vector<JsonReference> json;
    std::vector<PreferenceReference> preferences;
    std::vector<DerivedName> derived;
    std::vector<TextReference> text;
};

// Parses a reference model (the layout of mappings/references.yaml). A missing field, an unknown kind
// or matcher, or a bad path throws Error(ExitCode::internal) naming the entry.
References parse_references(const YAML::Node& root);
// parse_references, then the identity entries checked against mmmove's schema models
// (check_identity_columns with schema_columns): what references() loads.
References load_references(const YAML::Node& root);
// The columns, lower case, that mmmove's schema models (any level, either engine) give a table;
// nullptr for a table none of them has.
const std::vector<std::string>* schema_columns(const std::string& table);
// "a.*.b[]" → member a, any member, member b, each element. Throws Error on a malformed path.
std::vector<JsonStep> parse_json_path(const std::string& path);

// The built-in model, parsed once.
const References& references();
// Column references held by `table`, and those that lead to `table`.
std::vector<const ColumnReference*> references_from(const std::string& table);
std::vector<const ColumnReference*> references_to(const std::string& table);
// The identity of `table` (its first entry), or nullptr when the model gives it none.
const IdentityKey* identity_of(const std::string& table);
// The entry of `model` with this matcher, or nullptr.
const IdentityKey* identity_with(const References& model, IdentityKey::Matcher matcher);
// The columns of a table, lower case, as a schema knows them; nullptr when it has no such table.
using TableColumns = std::function<const std::vector<std::string>*(const std::string& table)>;
// Refuses (Error(ExitCode::internal), naming the entry) an identity entry whose table `columns` knows
// but that names a column (key, rename, display) the table does not have. Tables it does not know
// (a plugin's) are left to the merge, which checks them against the databases (check_identity).
void check_identity_columns(const References& model, const TableColumns& columns);
// Throws Error(ExitCode::internal) naming `entry` when `id` names a column `columns` (lower case) lacks.
void check_identity(const IdentityKey& id, const std::vector<std::string>& columns, const std::string& entry);

}  // namespace mmmove
