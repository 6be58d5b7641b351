#pragma once
// Which columns hold personal or secret values, and what kind each is (mappings/anonymise.yaml,
// compiled in). An anonymised copy replaces them by keyed hashes that keep what the kind says (a
// username stays a valid, unique username); everything else, ids above all, is copied as it is.
// Table and column names compare case-insensitively (MySQL CamelCase and PostgreSQL lower case alike).
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace mmmove {

enum class AnonKind {
    username,
    email,
    person_name,    // first and last names, nicknames
    person_detail,  // position, phone
    free_text,      // messages, headers, purposes, descriptions
    secret,         // password hashes, tokens, keys, auth data
    ip_address,
    json_text,      // JSON: every string value is personal but those of its kept members and forms
    file_name,
    url,
    password,       // a login password's hash: disabled, or one shared test password
    cleared,        // no value at all: '' for text, false for a flag, 0 for a number (MFA)
    token,          // names from the set Mattermost's code writes (role names, priorities): words of `form` kept
    // Names other rows point at, masked alike wherever they are named (text, links, JSON, reactions):
    team_name,      // Teams.Name: a URL slug
    channel_name,   // an O/P channel's Name; D/G names (built from ids) and Mattermost's own stay
    emoji_name,     // a custom emoji's own Name
    emoji_ref,      // an emoji a row names: masked as emoji_name unless a system emoji's (system_emoji.yaml)
    hashtags,       // Posts.Hashtags: follows the message's masked #words
    display_name,   // free text, but a group channel's "user1, user2, ..." takes the username masks
};

struct AnonymisedColumn {
    std::string table, column;
    AnonKind kind = AnonKind::free_text;
    // json_text: the members (references.yaml path syntax) copied as they are, and whole string values
    // kept wherever they stand (settings words); every other string is masked (section json_keep).
    std::vector<std::string> keep_paths, keep_values;
    std::string form;                // token: the regular expression (ECMAScript) a kept word matches whole
};

// The rows of the Systems table (name → value) that make a server itself: its identity, replaced by
// the destination's own, and its licence and keys, not copied (Mattermost makes new keys on start).
struct AnonymisedSystems {
    std::string table, name_column, value_column;  // empty table: the model has no systems section
    std::string identity;                          // the row whose value becomes the destination's id
    std::vector<std::string> drop;                 // rows not copied, by name (exact, as Mattermost writes them)
    // The form (ECMAScript regular expression, matched whole) of the values Mattermost's server state
    // takes (flags, numbers, versions, ids); a row with any other value is not copied. Empty: all are.
    std::string keep_values;
};

// A column an anonymised copy copies as it is, and why (the `keep` section: ids, times, counts...).
struct KeptColumn {
    std::string table, column, reason;
};

struct AnonymiseModel {
    std::vector<AnonymisedColumn> columns;
    std::vector<KeptColumn> kept;           // never also in columns
    std::map<AnonKind, std::string> keeps;  // what the replacement keeps, for every kind
    std::vector<std::string> drop_rows;     // tables an anonymised copy leaves empty
    AnonymisedSystems systems;
};

// The kind as the file spells it ("person_name"), and back (false for an unknown name).
const char* anon_kind_name(AnonKind kind);
bool anon_kind_named(const std::string& name, AnonKind& kind);
// Every kind, in the order the file's `keeps` lists them.
std::vector<AnonKind> anon_kinds();

// Parses a model (the layout of mappings/anonymise.yaml). An unknown kind or field, a missing table
// or column, a bad path, a duplicate entry or table, a kept column that is also masked or kept twice,
// a keep group without its reason, or a kind without `keeps` throws
// Error(ExitCode::internal) naming the entry.
AnonymiseModel parse_anonymise_model(const YAML::Node& root);

// The built-in model, parsed once.
const AnonymiseModel& anonymise_model();
const std::vector<AnonymisedColumn>& anonymised_columns();
// The entries of `table` (case-insensitive), in file order.
std::vector<const AnonymisedColumn*> anonymised_columns_of(const std::string& table);
// The tables whose rows an anonymised copy leaves out, as the file spells them.
const std::vector<std::string>& anonymised_drop_rows();
const AnonymisedSystems& anonymised_systems();

// How the built-in model classifies table.column (case-insensitive): masked (a columns entry), kept
// (a keep entry), its table's rows dropped, or none of these: an anonymised run refuses to copy it.
enum class ColumnClass { masked, kept, dropped, unclassified };
ColumnClass classify_column(const std::string& table, const std::string& column);

}  // namespace mmmove
